import { z } from "zod";
import prisma from "../db.server";
import { logger } from "../logger.server";
import { getSync, recordTagged, recordUntagged, tagChanges, updateSync } from "../models/segment-syncs.server";
import { adminGraphql, PermanentShopifyError, ThrottledError, type QueryCost } from "./admin-api.server";
import { ThrottlePacer } from "./pull-runner.server";

/**
 * Pushes a segment to Shopify: its customers get the segment's namespaced
 * tag, customers who left it lose the tag, and a Shopify customer segment on
 * that tag (`customer_tags CONTAINS '<tag>'`) is created or updated, so the
 * group can be used in Shopify Email, Flow and discounts.
 *
 * Tags go out as batches of aliased tagsAdd / tagsRemove mutations, paced by
 * the throttle status Shopify returns. Each batch is recorded before the
 * next, so a retried job resumes where it stopped.
 */

const BATCH = 50;
const TAG_PREFIX = "microsegment";
const SEGMENT_NAME_PREFIX = "MicroSegment";

const userError = z.object({ field: z.array(z.string()).nullish(), message: z.string() });
const tagsPayload = z.record(z.string(), z.object({ userErrors: z.array(userError) }).nullable());
const segmentPayload = z.object({
  segment: z.object({ id: z.string(), name: z.string(), query: z.string() }).nullable(),
  userErrors: z.array(userError),
});

/** The segment's tag: namespaced, stable for its key, and safe inside a segment query. */
export function tagForSegmentKey(key: string): string {
  const body = key
    .replace(/^micro:/, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
  return `${TAG_PREFIX}-${body}`.slice(0, 120);
}

export function segmentQueryForTag(tag: string) {
  return `customer_tags CONTAINS '${tag}'`;
}

function sleep(ms: number, signal?: AbortSignal) {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    const stop = () => {
      clearTimeout(timer);
      resolve();
    };
    signal?.addEventListener("abort", stop, { once: true });
  });
}

/**
 * One batch of tag changes. Returns the customers changed; customers Shopify
 * no longer has are skipped (they cannot carry the tag).
 */
async function changeTags(
  shop: string,
  mutation: "tagsAdd" | "tagsRemove",
  tag: string,
  customerIds: string[],
  pacer: ThrottlePacer,
  onThrottled: () => void,
  signal?: AbortSignal,
): Promise<{ changed: string[]; missing: string[] }> {
  const variables: Record<string, unknown> = { tags: [tag] };
  customerIds.forEach((id, i) => (variables[`c${i}`] = id));
  const declarations = customerIds.map((_, i) => `$c${i}: ID!`);
  const fields = customerIds.map(
    (_, i) => `c${i}: ${mutation}(id: $c${i}, tags: $tags) { userErrors { field message } }`,
  );
  const query = `mutation ChangeTags($tags: [String!]!, ${declarations.join(", ")}) { ${fields.join(" ")} }`;
  for (;;) {
    signal?.throwIfAborted();
    await pacer.waitFor(pacer.lastRequested, signal ?? new AbortController().signal);
    let data: z.infer<typeof tagsPayload>;
    try {
      data = await adminGraphql(shop, query, tagsPayload, {
        variables,
        signal,
        onCost: (cost: QueryCost) => pacer.update(cost),
      });
    } catch (error) {
      if (!(error instanceof ThrottledError)) throw error;
      onThrottled();
      if (error.cost) pacer.update(error.cost);
      else await sleep(1000, signal);
      continue;
    }
    const changed: string[] = [];
    const missing: string[] = [];
    customerIds.forEach((id, i) => {
      const errors = data[`c${i}`]?.userErrors ?? [];
      if (errors.length === 0) changed.push(id);
      else if (errors.every((e) => /not found|does not exist/i.test(e.message))) missing.push(id);
      else throw new PermanentShopifyError(`${mutation} refused for ${id}: ${errors.map((e) => e.message).join("; ")}`);
    });
    return { changed, missing };
  }
}

const SEGMENT_CREATE = `mutation SegmentCreate($name: String!, $query: String!) {
  segmentCreate(name: $name, query: $query) { segment { id name query } userErrors { field message } }
}`;
const SEGMENT_UPDATE = `mutation SegmentUpdate($id: ID!, $name: String, $query: String) {
  segmentUpdate(id: $id, name: $name, query: $query) { segment { id name query } userErrors { field message } }
}`;

/** Creates the Shopify segment on the tag, or updates the one created before; returns its id. */
async function upsertShopifySegment(
  shop: string,
  segment: { name: string; shopifySegmentId: string | null },
  tag: string,
  signal?: AbortSignal,
): Promise<string> {
  const query = segmentQueryForTag(tag);
  const names = [`${SEGMENT_NAME_PREFIX}: ${segment.name}`, `${SEGMENT_NAME_PREFIX}: ${segment.name} (${tag})`];
  const nameTaken = (errors: z.infer<typeof userError>[]) => errors.some((e) => /taken/i.test(e.message));
  if (segment.shopifySegmentId) {
    for (const name of names) {
      const { segmentUpdate } = await adminGraphql(shop, SEGMENT_UPDATE, z.object({ segmentUpdate: segmentPayload }), {
        variables: { id: segment.shopifySegmentId, name, query },
        signal,
      });
      if (segmentUpdate.segment) return segmentUpdate.segment.id;
      if (!nameTaken(segmentUpdate.userErrors)) break;
    }
    // Deleted in Shopify since the last push: create it again.
  }
  let problem = "";
  for (const name of names) {
    const { segmentCreate } = await adminGraphql(shop, SEGMENT_CREATE, z.object({ segmentCreate: segmentPayload }), {
      variables: { name, query },
      signal,
    });
    if (segmentCreate.segment) return segmentCreate.segment.id;
    problem = segmentCreate.userErrors.map((e) => e.message).join("; ");
    if (!nameTaken(segmentCreate.userErrors)) break;
  }
  throw new PermanentShopifyError(`segmentCreate refused: ${problem}`);
}

export async function executeSegmentSync(syncId: string, signal?: AbortSignal): Promise<void> {
  const sync = await getSync(syncId);
  if (!sync || !["queued", "running"].includes(sync.status)) return;
  const segment = await prisma.segment.findUnique({ where: { id: sync.segmentId } });
  if (!segment) {
    await updateSync(syncId, { status: "failed", error: "the segment no longer exists", finishedAt: new Date() });
    return;
  }
  const shop = sync.shop;
  const tag = segment.tag ?? tagForSegmentKey(segment.key);
  await prisma.segment.updateMany({ where: { id: segment.id }, data: { tag, syncStatus: "running", syncError: null } });
  const { toAdd, toRemove } = await tagChanges(shop, segment.id, tag);
  await updateSync(syncId, {
    status: "running",
    startedAt: sync.startedAt ?? new Date(),
    stage: "tagging",
    total: toAdd.length + toRemove.length,
    error: null,
  });
  const pacer = new ThrottlePacer();
  const onThrottled = () => void updateSync(syncId, { throttled: { increment: 1 } }).catch(() => {});
  for (let start = 0; start < toAdd.length; start += BATCH) {
    const batch = toAdd.slice(start, start + BATCH);
    const { changed } = await changeTags(shop, "tagsAdd", tag, batch, pacer, onThrottled, signal);
    if (changed.length > 0) await recordTagged(sync, tag, changed);
  }
  await updateSync(syncId, { stage: "untagging" });
  for (let start = 0; start < toRemove.length; start += BATCH) {
    const batch = toRemove.slice(start, start + BATCH);
    const { changed, missing } = await changeTags(shop, "tagsRemove", tag, batch, pacer, onThrottled, signal);
    await recordUntagged(sync, tag, [...changed, ...missing]);
  }
  await updateSync(syncId, { stage: "segment" });
  const shopifySegmentId = await upsertShopifySegment(shop, segment, tag, signal);
  const finishedAt = new Date();
  await prisma.segment.updateMany({
    where: { id: segment.id },
    data: { shopifySegmentId, syncStatus: "succeeded", syncError: null, lastSyncedAt: finishedAt },
  });
  await updateSync(syncId, { status: "succeeded", finishedAt });
  logger.info(
    { shop, segmentId: segment.id, tagged: toAdd.length, untagged: toRemove.length },
    "segment pushed to Shopify",
  );
}

/** Records a push that will not be retried. */
export async function failSegmentSync(syncId: string, message: string) {
  const sync = await getSync(syncId);
  if (!sync) return;
  await updateSync(syncId, { status: "failed", error: message, finishedAt: new Date() });
  await prisma.segment.updateMany({
    where: { id: sync.segmentId },
    data: { syncStatus: "failed", syncError: message },
  });
}
