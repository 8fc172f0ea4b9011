import { z } from "zod";
import { StoreWriter } from "../models/store-data.server";
import type { Resource } from "../models/store-tables.server";
import { adminGraphql } from "./admin-api.server";
import { RECORD, type RecordNode } from "./pull-queries.server";
import { addRecord, ThrottlePacer } from "./pull-runner.server";

/**
 * Refreshes single records between pulls (orders/create, customers/update,
 * products/update): fetched by id with the same fields and rows as a pull,
 * so a webhook never writes a differently shaped record.
 */
/** One record by id, with the fields and first children a pull reads. */
export function recordQuery(resource: Resource): string {
  const { field, selection } = RECORD[resource];
  return `query SyncRecord($id: ID!) { ${field}(id: $id) { ${selection} } }`;
}

export async function syncRecords(shop: string, resource: Resource, ids: string[]) {
  const writer = new StoreWriter();
  const pacer = new ThrottlePacer();
  const { field, node } = RECORD[resource];
  const query = recordQuery(resource);
  const answer = z.object({ [field]: node.nullable() });
  let found = 0;
  for (const id of ids) {
    const signal = AbortSignal.timeout(60_000);
    await pacer.waitFor(pacer.lastRequested, signal);
    const data = await adminGraphql(shop, query, answer, { variables: { id }, onCost: (cost) => pacer.update(cost) });
    const record = data[field] as RecordNode<typeof resource> | null;
    if (!record) continue;
    found++;
    await addRecord(shop, resource, record, writer, pacer, signal);
  }
  await writer.commit();
  return { found, written: writer.written };
}
