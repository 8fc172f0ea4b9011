import type { LoaderFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import { findSegment, segmentMembersForExport, type SegmentExportRow } from "../models/segments.server";
import { getShop } from "../models/shop.server";
import { authenticate } from "../shopify.server";

/**
 * A segment's members as CSV, streamed batch by batch (one batch in memory however large the
 * segment): Shopify id, name, email, R/F/M values and scores, net spend and predicted 365-day spend
 * in the shop's currency.
 */

const HEADER = [
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
function text(value: string | null): string {
  if (value === null) return "";
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

const number = (value: number | null) => (value === null ? "" : String(value));
const money = (value: string | null) => (value === null ? "" : amount.format(Number(value)));

function line(row: SegmentExportRow, currency: string): string {
  return [
    text(row.legacyId ?? row.customerId.split("/").pop() ?? row.customerId),
    text(row.firstName),
    text(row.lastName),
    text(row.email),
    number(row.recencyDays),
    number(row.frequency),
    money(row.monetary),
    money(row.expectedSpend365),
    text(currency),
    number(row.rScore),
    number(row.fScore),
    number(row.mScore),
    text(row.rfmSegment),
  ].join(",");
}

const fileName = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "") || "segment";

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const id = z.uuid().safeParse(params.id);
  const segment = id.success ? await findSegment(session.shop, id.data) : null;
  if (!segment) throw new Response("Not found", { status: 404 });
  const currency = (await getShop(session.shop))?.currencyCode ?? "USD";
  const batches = segmentMembersForExport(session.shop, segment.id);
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(`${HEADER.join(",")}\r\n`));
    },
    async pull(controller) {
      const next = await batches.next();
      if (next.done) {
        controller.close();
        return;
      }
      controller.enqueue(encoder.encode(next.value.map((row) => `${line(row, currency)}\r\n`).join("")));
    },
    async cancel() {
      await batches.return(undefined);
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${fileName(segment.name)}-members.csv"`,
      "cache-control": "no-store",
    },
  });
};
