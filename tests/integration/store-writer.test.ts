import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { DataPullStep } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import prisma, { pgPool, withPgTransaction } from "../../app/db.server";
import { StoreWriter } from "../../app/models/store-data.server";
import type { Row } from "../../app/models/store-tables.server";
import { PermanentShopifyError } from "../../app/services/admin-api.server";
import { importJsonl } from "../../app/services/pull-runner.server";

/**
 * The store writer and the bulk import below the worker: values that CSV and
 * array literals must escape come back exactly, a shop's first rows go in by
 * COPY and later ones by merge, and JSONL is read line by line whatever the
 * chunking of the download.
 */

let shopCounter = 0;
const newShop = () => `writer-${process.pid}-${++shopCounter}.myshopify.com`;

function customer(shop: string, n: number, changes: Partial<Row<"Customer">> = {}): Row<"Customer"> {
  return {
    shop,
    id: `gid://shopify/Customer/${n}`,
    legacyId: String(n),
    firstName: `First ${n}`,
    lastName: "Last",
    email: `c${n}@example.com`,
    phone: null,
    tags: ["a", "b"],
    emailMarketing: "SUBSCRIBED",
    smsMarketing: null,
    locale: "en",
    numberOfOrders: 2,
    amountSpent: "10.50",
    currencyCode: "USD",
    city: "Toronto",
    province: null,
    countryCode: "CA",
    zip: null,
    address1: null,
    shopifyCreatedAt: "2024-03-03T12:36:26.052Z",
    shopifyUpdatedAt: "2024-03-03T12:36:28.468Z",
    ...changes,
  };
}

async function write(writer: StoreWriter) {
  const before = writer.written;
  await withPgTransaction((client) => writer.flush(client));
  return writer.written - before;
}

const customersOf = async (shop: string) =>
  (
    await pgPool.query(
      `SELECT id, "firstName", "lastName", email, phone, tags, locale, city, "numberOfOrders", "amountSpent"::text AS "amountSpent", xmin::text AS xmin
       FROM "Customer" WHERE shop = $1 ORDER BY "legacyId"`,
      [shop],
    )
  ).rows;

afterAll(async () => {
  await prisma.$disconnect();
  await pgPool.end();
});

describe("store writer", () => {
  it("writes awkward text, arrays, JSON, money and long values back exactly", async () => {
    const shop = newShop();
    const awkward = [
      'He said "hi", then left',
      "two\nlines\r\nand a carriage return\r",
      "back\\slash and \\N and \\.",
      "tab\there; semicolon, comma",
      "ünïcødé ©, emoji 🎉, CJK 漢字",
      "",
      "NULL",
      " leading and trailing spaces ",
    ];
    const tags = ['quote"d', "back\\slash", "comma,inside", "", "NULL", "{braces}", "ünï 🎉", " spaced "];
    const long = "x".repeat(300_000) + "é🎉";
    const writer = new StoreWriter();
    awkward.forEach((text, i) =>
      writer.add("Customer", customer(shop, i + 1, { firstName: text, lastName: text, tags, city: text })),
    );
    writer.add(
      "Customer",
      customer(shop, 100, { firstName: long, email: "", tags: [], amountSpent: "12345678901234.5678" }),
    );
    const options = [{ name: 'Size "EU"', values: ["40\\41", "42,43", "ß🎉"] }];
    writer.add("Product", {
      shop,
      id: "gid://shopify/Product/1",
      legacyId: "1",
      title: 'Title "quoted"',
      handle: null,
      description: long,
      productType: "",
      vendor: null,
      tags: [],
      status: "ACTIVE",
      imageUrl: null,
      options,
      shopifyCreatedAt: "2024-03-26T15:53:09.480Z",
      shopifyUpdatedAt: "2024-03-26T23:23:44.999Z",
    });
    expect(await write(writer)).toBe(awkward.length + 2);

    const rows = await customersOf(shop);
    expect(rows).toHaveLength(awkward.length + 1);
    awkward.forEach((text, i) => {
      expect(rows[i]).toMatchObject({ firstName: text, lastName: text, city: text, tags });
    });
    expect(rows.at(-1)).toMatchObject({ firstName: long, email: "", phone: null, tags: [] });
    expect(rows.at(-1)!.amountSpent).toBe("12345678901234.5678");
    const product = await prisma.product.findFirstOrThrow({ where: { shop } });
    expect(product).toMatchObject({
      title: 'Title "quoted"',
      description: long,
      productType: "",
      handle: null,
      options,
    });
  });

  it("rewrites nothing that did not change, and only what did", async () => {
    const shop = newShop();
    const first = new StoreWriter();
    for (let n = 1; n <= 3000; n++) first.add("Customer", customer(shop, n));
    expect(await write(first)).toBe(3000);
    const before = await customersOf(shop);

    const again = new StoreWriter();
    for (let n = 1; n <= 3000; n++) again.add("Customer", customer(shop, n, n === 7 ? { tags: ["a", "b", "c"] } : {}));
    again.add("Customer", customer(shop, 3001));
    expect(await write(again)).toBe(2);
    const after = await customersOf(shop);
    expect(after).toHaveLength(3001);
    after.slice(0, 3000).forEach((row, i) => {
      if (i === 6) expect(row).toMatchObject({ tags: ["a", "b", "c"] });
      else expect(row).toEqual(before[i]);
    });
  });

  it("keeps one row of an id that a batch holds twice", async () => {
    const shop = newShop();
    const writer = new StoreWriter();
    writer.add("Customer", customer(shop, 1));
    writer.add("Customer", customer(shop, 2));
    writer.add("Customer", customer(shop, 1));
    expect(await write(writer)).toBe(2);
    // Now the merge path, with a repeat again.
    writer.add("Customer", customer(shop, 3));
    writer.add("Customer", customer(shop, 3, { firstName: "Changed" }));
    expect(await write(writer)).toBe(1);
    expect((await customersOf(shop)).map((row) => row.id)).toEqual([1, 2, 3].map((n) => `gid://shopify/Customer/${n}`));
  });

  it("falls back to merging when a row appears after the writer chose COPY", async () => {
    const shop = newShop();
    const writer = new StoreWriter();
    writer.add("Customer", customer(shop, 1));
    expect(await write(writer)).toBe(1);
    // Written by someone else (a webhook, say) between two batches.
    const other = new StoreWriter();
    other.add("Customer", customer(shop, 5));
    await write(other);
    writer.add("Customer", customer(shop, 4));
    writer.add("Customer", customer(shop, 5, { firstName: "From the pull" }));
    writer.add("Customer", customer(shop, 6));
    expect(await write(writer)).toBe(3);
    const rows = await customersOf(shop);
    expect(rows.map((row) => [row.id.split("/").pop(), row.firstName])).toEqual([
      ["1", "First 1"],
      ["4", "First 4"],
      ["5", "From the pull"],
      ["6", "First 6"],
    ]);
  });

  it("rolls a failed batch back whole", async () => {
    const shop = newShop();
    const writer = new StoreWriter();
    writer.add("Customer", customer(shop, 1));
    writer.add("Customer", customer(shop, 2, { shopifyCreatedAt: "not a date" }));
    await expect(write(writer)).rejects.toThrow(/timestamp/);
    expect(await customersOf(shop)).toEqual([]);
    writer.add("Customer", customer(shop, 3));
    expect(await write(writer)).toBe(1);
  });
});

describe("bulk JSONL import", () => {
  let server: Server;
  let baseUrl: string;
  const files = new Map<string, { body: string; chunk: number }>();

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      const file = files.get(req.url ?? "");
      if (!file) return void res.writeHead(404).end();
      res.writeHead(200, { "content-type": "application/jsonl" });
      // Small writes, so lines and multi-byte characters straddle chunks.
      const bytes = Buffer.from(file.body, "utf8");
      for (let i = 0; i < bytes.length; i += file.chunk) {
        res.write(bytes.subarray(i, i + file.chunk));
        if (i % (file.chunk * 50) === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function newStep(shop: string, resource: string, cursor: string | null = null, processed = 0) {
    const pull = await prisma.dataPull.create({
      data: { id: randomUUID(), shop, kind: "full", mode: "bulk", trigger: "merchant", status: "running" },
    });
    return prisma.dataPullStep.create({
      data: { id: randomUUID(), pullId: pull.id, shop, resource, mode: "bulk", cursor, processed },
    });
  }

  const customerLine = (n: number, firstName = `Ünïcødé 🎉 ${n}`) =>
    JSON.stringify({
      id: `gid://shopify/Customer/${n}`,
      legacyResourceId: String(n),
      firstName,
      lastName: "Lee",
      defaultEmailAddress: { emailAddress: `c${n}@example.com`, marketingState: "SUBSCRIBED" },
      defaultPhoneNumber: null,
      tags: ["vip"],
      locale: "en",
      numberOfOrders: "1",
      amountSpent: { amount: "158.96", currencyCode: "USD" },
      defaultAddress: null,
      createdAt: "2024-03-03T12:36:26.052Z",
      updatedAt: "2024-03-03T12:36:28.468Z",
    });

  const run = (step: DataPullStep, path: string) =>
    importJsonl(step, `${baseUrl}${path}`, {
      signal: new AbortController().signal,
      deadline: Date.now() + 60_000,
    });

  it("reads every line however the download is cut, with CRLF, blank lines and no final newline", async () => {
    const shop = newShop();
    const lines = Array.from({ length: 500 }, (_, i) => customerLine(i + 1));
    const body = `${lines.slice(0, 200).join("\r\n")}\r\n\n${lines.slice(200).join("\n")}`;
    files.set("/crlf.jsonl", { body, chunk: 7 });
    const step = await newStep(shop, "customers");
    await run(step, "/crlf.jsonl");
    const after = await prisma.dataPullStep.findUniqueOrThrow({ where: { id: step.id } });
    expect(after).toMatchObject({ processed: 500, cursor: "500" });
    const rows = await customersOf(shop);
    expect(rows).toHaveLength(500);
    expect(rows[499]!.firstName).toBe("Ünïcødé 🎉 500");
  });

  it("resumes after the committed lines", async () => {
    const shop = newShop();
    files.set("/resume.jsonl", { body: `${[1, 2, 3, 4].map((n) => customerLine(n)).join("\n")}\n`, chunk: 64 });
    const step = await newStep(shop, "customers", "2", 2);
    await run(step, "/resume.jsonl");
    expect(await prisma.dataPullStep.findUniqueOrThrow({ where: { id: step.id } })).toMatchObject({
      processed: 4,
      cursor: "4",
    });
    expect((await customersOf(shop)).map((row) => row.id)).toEqual([3, 4].map((n) => `gid://shopify/Customer/${n}`));
  });

  it("commits batches in any order and moves the cursor only past committed ones", async () => {
    const shop = newShop();
    const lines = Array.from({ length: 90_001 }, (_, i) => customerLine(i + 1, `Customer ${i + 1}`));
    files.set("/many.jsonl", { body: lines.join("\n"), chunk: 64 * 1024 });
    const step = await newStep(shop, "customers");
    await run(step, "/many.jsonl");
    expect(await prisma.dataPullStep.findUniqueOrThrow({ where: { id: step.id } })).toMatchObject({
      processed: 90_001,
      cursor: "90001",
    });
    expect(await prisma.customer.count({ where: { shop } })).toBe(90_001);

    // A batch the database refuses (line 50,000 has a date Postgres cannot read) fails the import; the
    // cursor stays after the last batch that committed with all before it, and nothing of the failed one stays.
    const bad = new Map([[50_000, JSON.stringify({ ...JSON.parse(lines[49_999]!), createdAt: "not a date" })]]);
    const failing = lines.map((line, i) => bad.get(i + 1) ?? line.replace("Customer ", "Again "));
    files.set("/failing.jsonl", { body: failing.join("\n"), chunk: 64 * 1024 });
    const again = await newStep(shop, "customers");
    await expect(run(again, "/failing.jsonl")).rejects.toThrow(/timestamp/);
    expect(await prisma.dataPullStep.findUniqueOrThrow({ where: { id: again.id } })).toMatchObject({
      processed: 40_000,
      cursor: "40000",
    });
    const renamed = await pgPool.query(
      `SELECT min("legacyId") AS first, max("legacyId") AS last, count(*)::int AS n FROM "Customer"
       WHERE shop = $1 AND "firstName" LIKE 'Again %' AND "legacyId" <= 80000`,
      [shop],
    );
    expect(renamed.rows[0]).toMatchObject({ first: "1", last: "40000", n: 40_000 });
  });

  it("fails the step clearly on a malformed line", async () => {
    const shop = newShop();
    const broken = JSON.stringify({ ...JSON.parse(customerLine(2)), numberOfOrders: 1 });
    files.set("/broken.jsonl", { body: [customerLine(1), broken, customerLine(3)].join("\n"), chunk: 1024 });
    const step = await newStep(shop, "customers");
    const failure = run(step, "/broken.jsonl");
    await expect(failure).rejects.toBeInstanceOf(PermanentShopifyError);
    await expect(failure).rejects.toThrow(
      /^bulk line 2 \(Customer\) is malformed: numberOfOrders: .*expected string, received number/,
    );
    files.set("/unknown.jsonl", { body: `${customerLine(1)}\n{"id":"gid://shopify/Collection/1"}\n`, chunk: 1024 });
    await expect(run(await newStep(shop, "customers"), "/unknown.jsonl")).rejects.toThrow(
      /^bulk line 2 has an unexpected id: gid:\/\/shopify\/Collection\/1/,
    );
  });
});
