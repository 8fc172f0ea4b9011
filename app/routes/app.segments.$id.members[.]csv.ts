import type { LoaderFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import { findSegment, segmentMembersForExport } from "../models/segments.server";
import { getShop } from "../models/shop.server";
import { csvFileName, SEGMENT_CSV_HEADER, segmentCsvLine } from "../services/segment-csv.server";
import { authenticate } from "../shopify.server";
import { noQuery, parseQuery } from "../services/request-input.server";

/**
 * A segment's members as CSV, streamed batch by batch (one batch in memory however large the
 * segment): Shopify id, name, email, R/F/M values and scores, net spend and predicted 365-day spend
 * in the shop's currency.
 */

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  parseQuery(request, noQuery);
  const id = z.uuid().safeParse(params.id);
  const segment = id.success ? await findSegment(session.shop, id.data) : null;
  if (!segment) throw new Response("Not found", { status: 404 });
  const currency = (await getShop(session.shop))?.currencyCode ?? "USD";
  const batches = segmentMembersForExport(session.shop, segment.id);
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(`${SEGMENT_CSV_HEADER.join(",")}\r\n`));
    },
    async pull(controller) {
      const next = await batches.next();
      if (next.done) {
        controller.close();
        return;
      }
      controller.enqueue(encoder.encode(next.value.map((row) => `${segmentCsvLine(row, currency)}\r\n`).join("")));
    },
    async cancel() {
      await batches.return(undefined);
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${csvFileName(segment.name)}-members.csv"`,
      "cache-control": "no-store",
    },
  });
};
