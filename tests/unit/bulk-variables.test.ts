import { describe, expect, it } from "vitest";
import { variablesFiles } from "../../app/services/bulk-mutation.server";

/** Bulk mutation variables files: every item once, in order, one line each, no file over the cap. */
describe("variablesFiles", () => {
  async function* numbers(count: number) {
    for (let n = 0; n < count; n++) yield n;
  }
  const collect = async <T>(files: AsyncIterable<T>) => {
    const all: T[] = [];
    for await (const file of files) all.push(file);
    return all;
  };

  it("cuts the items into files of at most maxBytes, each line the item's JSON", async () => {
    const lineOf = (n: number) => ({ id: `gid://shopify/Customer/${n}`, tags: ["microsegment-loyal"] });
    const files = await collect(variablesFiles(numbers(100), lineOf, 500));
    expect(files.length).toBeGreaterThan(1);
    for (const file of files) {
      expect(Buffer.byteLength(file.jsonl)).toBeLessThanOrEqual(500);
      expect(file.jsonl.split("\n").map((line) => JSON.parse(line))).toEqual(file.lines.map(lineOf));
    }
    expect(files.flatMap((file) => file.lines)).toEqual([...Array(100).keys()]);
  });

  it("gives an item larger than the cap a file of its own, and nothing for no items", async () => {
    const files = await collect(variablesFiles(numbers(3), (n) => ({ n, pad: "x".repeat(n === 1 ? 200 : 1) }), 100));
    expect(files.map((file) => file.lines)).toEqual([[0], [1], [2]]);
    expect(await collect(variablesFiles(numbers(0), (n) => n, 100))).toEqual([]);
  });
});
