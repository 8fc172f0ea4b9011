import type { SegmentExportRow } from "../models/segments.server";

/** One line of a segment's CSV export per member; the header names the columns in order. */

export const SEGMENT_CSV_HEADER = [
  "customer_id",
  "first_name",
  "last_name",
  "email",
  "days_since_last_order",
  "orders",
  "net_spend",
  "predicted_spend_365_days",
  "currency",
  "r_score",
  "f_score",
  "m_score",
  "rfm_segment",
];

const amount = new Intl.NumberFormat("en-US", {
  minimumFractionDigits: 2,
  maximumFractionDigits: 2,
  useGrouping: false,
});

/** RFC 4180 quoting; text a spreadsheet would run as a formula (=, +, -, @) is prefixed with a quote. */
export function csvText(value: string | null): string {
  if (value === null) return "";
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

const number = (value: number | null) => (value === null ? "" : String(value));
const money = (value: string | null) => (value === null ? "" : amount.format(Number(value)));

export function segmentCsvLine(row: SegmentExportRow, currency: string): string {
  return [
    csvText(row.legacyId ?? row.customerId.split("/").pop() ?? row.customerId),
    csvText(row.firstName),
    csvText(row.lastName),
    csvText(row.email),
    number(row.recencyDays),
    number(row.frequency),
    money(row.monetary),
    money(row.expectedSpend365),
    csvText(currency),
    number(row.rScore),
    number(row.fScore),
    number(row.mScore),
    csvText(row.rfmSegment),
  ].join(",");
}

export const csvFileName = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "") || "segment";
