import { z } from "zod";
import { confirmIdentityClaims } from "../models/pixel.server";
import { StoreWriter } from "../models/store-data.server";
import type { Resource } from "../models/store-tables.server";
import { PAGINATED, RECORD, type RecordNode } from "./pull-queries.server";
import { addRecord, sendPaced, ThrottlePacer } from "./pull-runner.server";

/**
 * Refreshes records between pulls (orders/create, customers/update,
 * products/update): fetched by id with the same fields and rows as a pull,
 * so a webhook never writes a differently shaped record.
 */

/** Records by id, with the fields and first children a pull reads. */
export function recordsQuery(resource: Resource): string {
  const { type, selection } = RECORD[resource];
  return `query SyncRecords($ids: [ID!]!) { nodes(ids: $ids) { __typename ... on ${type} { ${selection} } } }`;
}

/** The answer: a deleted record, or an id of another type, reads as null. */
function recordsAnswer(resource: Resource) {
  const { type, node } = RECORD[resource];
  const ofType = (value: unknown) =>
    value !== null && typeof value === "object" && (value as { __typename?: unknown }).__typename === type
      ? value
      : null;
  return z.object({ nodes: z.array(z.preprocess(ofType, node.nullable())) });
}

export async function syncRecords(shop: string, resource: Resource, ids: string[]) {
  const writer = new StoreWriter();
  const pacer = new ThrottlePacer();
  const query = recordsQuery(resource);
  const answer = recordsAnswer(resource);
  // As many ids a query as a pull's page holds: a page's size keeps its requested cost under Shopify's 1,000.
  const perQuery = PAGINATED[resource].pageSize;
  const signal = AbortSignal.timeout(60_000 + ids.length * 1000);
  let found = 0;
  for (let start = 0; start < ids.length; start += perQuery) {
    const data = await sendPaced(
      shop,
      query,
      answer,
      { ids: ids.slice(start, start + perQuery) },
      {
        pacer,
        onThrottled: () => {},
        signal,
      },
    );
    for (const record of data.nodes) {
      if (!record) continue;
      found++;
      await addRecord(shop, resource, record as RecordNode<typeof resource>, writer, pacer, signal);
    }
  }
  await writer.commit();
  // A storefront checkout waiting for this order links its visitor now.
  if (resource === "orders" && found > 0) await confirmIdentityClaims(shop);
  return { found, written: writer.written };
}
