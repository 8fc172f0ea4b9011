import { describe, expect, it } from "vitest";
import { csvFileName, csvText, SEGMENT_CSV_HEADER, segmentCsvLine } from "../../app/services/segment-csv.server";

/** Parses one CSV line by RFC 4180, to check that what the export writes reads back unchanged. */
function parseLine(line: string): string[] {
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quoted) {
      if (char === '"' && line[i + 1] === '"') ((field += '"'), i++);
      else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ",") (fields.push(field), (field = ""));
    else field += char;
  }
  fields.push(field);
  return fields;
}

const row = {
  customerId: "gid://shopify/Customer/42",
  legacyId: "42",
  firstName: 'Ann "The Boss"',
  lastName: "O'Neil, Jr.",
  email: '=HYPERLINK("http://evil")',
  recencyDays: 12,
  frequency: 3,
  monetary: "1234.5",
  rScore: 5,
  fScore: 4,
  mScore: 5,
  rfmSegment: "champions",
  expectedSpend365: "99.995",
};

describe("the segment CSV export", () => {
  it("quotes commas, quotes and line breaks so every field reads back", () => {
    const fields = parseLine(segmentCsvLine(row, "EUR"));
    expect(fields).toHaveLength(SEGMENT_CSV_HEADER.length);
    expect(fields.slice(0, 3)).toEqual(["42", 'Ann "The Boss"', "O'Neil, Jr."]);
    expect(parseLine(csvText("two\r\nlines"))).toEqual(["two\r\nlines"]);
  });

  it("keeps text a spreadsheet would run as a formula from running", () => {
    const email = parseLine(segmentCsvLine(row, "EUR"))[3]!;
    expect(email).toBe('\'=HYPERLINK("http://evil")');
    for (const start of ["+", "-", "@"]) expect(csvText(`${start}1`)).toBe(`'${start}1`);
  });

  it("writes money with two decimals and no grouping, the currency, scores and segment", () => {
    expect(parseLine(segmentCsvLine(row, "EUR")).slice(4)).toEqual([
      "12",
      "3",
      "1234.50",
      "100.00",
      "EUR",
      "5",
      "4",
      "5",
      "champions",
    ]);
    const empty = { ...row, monetary: null, expectedSpend365: null, legacyId: null, firstName: null };
    const fields = parseLine(segmentCsvLine(empty, "EUR"));
    expect([fields[0], fields[1], fields[6], fields[7]]).toEqual(["42", "", "", ""]);
  });

  it("names the file after the segment", () => {
    expect(csvFileName("Champions: Mid-size baskets")).toBe("champions-mid-size-baskets");
    expect(csvFileName("!!!")).toBe("segment");
  });
});
