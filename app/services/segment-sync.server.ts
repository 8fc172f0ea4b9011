import type { SegmentSync } from "@prisma/client";
import { z } from "zod";
import { loadConfig } from "../config.server";
import { logger } from "../logger.server";
import {
  getSync,
  markSegmentPushed,
  markSegmentPushFailed,
  markSegmentPushing,
  recordTagged,
  recordUntagged,
  segmentToPush,
  stillToChange,
  countTagChanges,
  tagChangesAfter,
  updateSync,
  type TagChange,
  type TagScope,
} from "../models/segment-syncs.server";
import { adminGraphql, PermanentShopifyError } from "./admin-api.server";
import {
  bulkResultLines,
  findBulkMutation,
  runBulkMutationFiles,
  variablesFiles,
  waitForBulkOperation,
} from "./bulk-mutation.server";
import { sendPaced, ThrottlePacer } from "./pull-runner.server";

/**
 * Pushes a segment to Shopify: its customers get the segment's namespaced
 * tag, customers who left it lose the tag, and a Shopify customer segment on
 * that tag (`customer_tags CONTAINS '<tag>'`) is created or updated, so the
 * group can be used in Shopify Email, Flow and discounts.
 *
 * Tags go out as batches of aliased tagsAdd / tagsRemove mutations, paced by
 * the throttle status Shopify returns. Each batch is recorded before the
 * next, so a retried job resumes where it stopped. A push with more changes
 * than SEGMENT_BULK_TAG_THRESHOLD goes out as bulk mutations instead, for
 * the customers to tag and then for those to untag, one variables file of at
 * most BULK_MUTATION_FILE_MAX_BYTES after another; a retried job takes up the
 * bulk operation it had started. The customers are read a window at a time,
 * so a push holds no more than a file's worth whatever the segment's size.
 */

const BATCH = 50;
/** Customers recorded per transaction while a bulk result file is read. */
const RECORD_CHUNK = 1000;
/** Customers read from the database at a time. */
const WINDOW = 1000;
const TAG_PREFIX = "microsegment";
const SEGMENT_NAME_PREFIX = "MicroSegment";

type TagMutation = "tagsAdd" | "tagsRemove";
const MUTATION_OF: Record<TagChange, TagMutation> = { add: "tagsAdd", remove: "tagsRemove" };

const userError = z.object({ field: z.array(z.string()).nullish(), message: z.string() });
const tagsPayload = z.record(z.string(), z.object({ userErrors: z.array(userError) }).nullable());
const bulkTagResult = z.object({
  __lineNumber: z.number().int(),
  data: z
    .record(
      z.string(),
      z.object({ node: z.object({ id: z.string() }).nullable(), userErrors: z.array(userError) }).nullable(),
    )
    .optional(),
  errors: z.array(z.object({ message: z.string() })).optional(),
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

const customerIsGone = (errors: z.infer<typeof userError>[]) =>
  errors.every((error) => /not found|does not exist/i.test(error.message));

/** One aliased mutation per customer ($c0, $c1, ...), all with the same tags. */
export function changeTagsDocument(mutation: TagMutation, customers: number): string {
  const declarations = Array.from({ length: customers }, (_, i) => `$c${i}: ID!`);
  const fields = Array.from(
    { length: customers },
    (_, i) => `c${i}: ${mutation}(id: $c${i}, tags: $tags) { userErrors { field message } }`,
  );
  return `mutation ChangeTags($tags: [String!]!, ${declarations.join(", ")}) { ${fields.join(" ")} }`;
}

/**
 * One batch of tag changes. Returns the customers changed; customers Shopify
 * no longer has are skipped (they cannot carry the tag).
 */
async function changeTags(
  shop: string,
  mutation: TagMutation,
  tag: string,
  customerIds: string[],
  pacer: ThrottlePacer,
  onThrottled: () => void,
  signal?: AbortSignal,
): Promise<{ changed: string[]; missing: string[] }> {
  const variables: Record<string, unknown> = { tags: [tag] };
  customerIds.forEach((id, i) => (variables[`c${i}`] = id));
  const query = changeTagsDocument(mutation, customerIds.length);
  const data = await sendPaced(shop, query, tagsPayload, variables, { pacer, onThrottled, signal });
  const changed: string[] = [];
  const missing: string[] = [];
  customerIds.forEach((id, i) => {
    const errors = data[`c${i}`]?.userErrors ?? [];
    if (errors.length === 0) changed.push(id);
    else if (customerIsGone(errors)) missing.push(id);
    else throw new PermanentShopifyError(`${mutation} refused for ${id}: ${errors.map((e) => e.message).join("; ")}`);
  });
  return { changed, missing };
}

/** The customers the push changes this way, a window at a time in id order. */
async function* changeWindows(scope: TagScope, change: TagChange): AsyncGenerator<string[]> {
  let after = "";
  for (;;) {
    const window = await tagChangesAfter(scope, change, after, WINDOW);
    if (window.length === 0) return;
    yield window;
    after = window.at(-1)!;
  }
}

/** The customers the push changes this way, BATCH at a time in id order. */
async function* batchesToChange(scope: TagScope, change: TagChange): AsyncGenerator<string[]> {
  for await (const window of changeWindows(scope, change)) {
    for (let start = 0; start < window.length; start += BATCH) yield window.slice(start, start + BATCH);
  }
}

async function pushTagsInBatches(sync: SegmentSync, scope: TagScope, signal?: AbortSignal) {
  const pacer = new ThrottlePacer();
  const onThrottled = () => void updateSync(sync.id, { throttled: { increment: 1 } }).catch(() => {});
  const { tag } = scope;
  for await (const batch of batchesToChange(scope, "add")) {
    const { changed } = await changeTags(sync.shop, "tagsAdd", tag, batch, pacer, onThrottled, signal);
    if (changed.length > 0) await recordTagged(sync, tag, changed);
  }
  await updateSync(sync.id, { stage: "untagging" });
  for await (const batch of batchesToChange(scope, "remove")) {
    const { changed, missing } = await changeTags(sync.shop, "tagsRemove", tag, batch, pacer, onThrottled, signal);
    await recordUntagged(sync, tag, [...changed, ...missing]);
  }
}

async function pushTagsInBulk(sync: SegmentSync, scope: TagScope, signal?: AbortSignal) {
  await bulkChangeTags(sync, scope, "add", signal);
  await updateSync(sync.id, { stage: "untagging" });
  await bulkChangeTags(sync, scope, "remove", signal);
}

/** The comment names the push, so a retried job recognises the operation it started. */
export function bulkTagMutation(mutation: TagMutation, syncId: string) {
  return `# MicroSegment push ${syncId}
mutation SegmentTags($id: ID!, $tags: [String!]!) {
  ${mutation}(id: $id, tags: $tags) { node { id } userErrors { field message } }
}`;
}

/** The customers the push changes this way, one after another in id order. */
async function* customersToChange(scope: TagScope, change: TagChange): AsyncGenerator<string> {
  for await (const window of changeWindows(scope, change)) yield* window;
}

/**
 * Changes the tag of the customers with bulk mutations, one variables file
 * after another, and records the outcome as the batches do. An operation this
 * push started in an earlier attempt is awaited and recorded first, whatever
 * became of it, so a retry only sends the customers still to change. A failed
 * operation's partial results are recorded before the retry; refusals other
 * than "not found" fail the push.
 */
async function bulkChangeTags(sync: SegmentSync, scope: TagScope, change: TagChange, signal?: AbortSignal) {
  const mutation = MUTATION_OF[change];
  const mutationText = bulkTagMutation(mutation, sync.id);
  const refusals: string[] = [];
  const finishAndRecord = async (operationId: string, uploaded?: string[]) => {
    const finished = await waitForBulkOperation(sync.shop, operationId, signal);
    const resultUrl = finished.url ?? finished.partialDataUrl;
    if (resultUrl) await recordBulkTagResults(sync, scope, change, resultUrl, uploaded, refusals, signal);
    return finished;
  };
  const previous = await findBulkMutation(sync.shop, mutationText, signal);
  if (previous) await finishAndRecord(previous.id);
  if (refusals.length === 0) {
    const lineOf = (id: string) => ({ id, tags: [scope.tag] });
    const files = variablesFiles(customersToChange(scope, change), lineOf, loadConfig().BULK_MUTATION_FILE_MAX_BYTES);
    const refused = () => refusals.length > 0;
    await runBulkMutationFiles(sync.shop, mutationText, files, finishAndRecord, refused, `bulk ${mutation}`, signal);
  }
  if (refusals.length > 0) {
    throw new PermanentShopifyError(
      `${mutation} refused for ${refusals.length} customers: ${refusals.slice(0, 3).join("; ")}`,
    );
  }
}

/**
 * Records the customers a bulk tag mutation changed, in chunks, each only
 * while the push still has to change it (so results read twice, after a
 * restart, count once). `uploaded` (the variables file's customers, by line)
 * names the customers Shopify no longer has; without it (an operation taken
 * up after a restart) they stay to change for a new operation.
 */
async function recordBulkTagResults(
  sync: SegmentSync,
  scope: TagScope,
  change: TagChange,
  url: string,
  uploaded: string[] | undefined,
  refusals: string[],
  signal?: AbortSignal,
) {
  const mutation = MUTATION_OF[change];
  const record = async (ids: string[]) => {
    const pending = await stillToChange(scope, change, ids);
    const changed = [...new Set(ids)].filter((id) => pending.has(id));
    if (changed.length === 0) return;
    await (change === "add" ? recordTagged(sync, scope.tag, changed) : recordUntagged(sync, scope.tag, changed));
  };
  let chunk: string[] = [];
  for await (const raw of bulkResultLines(url, signal)) {
    const parsed = bulkTagResult.safeParse(raw);
    if (!parsed.success)
      throw new PermanentShopifyError(`unexpected bulk result line: ${parsed.error.issues[0]?.message}`);
    const line = parsed.data;
    const payload = line.data?.[mutation];
    const customerId = payload?.node?.id ?? uploaded?.[line.__lineNumber];
    const errors = line.errors ?? payload?.userErrors ?? [{ message: "no response" }];
    const changed = errors.length === 0;
    if (!changed && !(payload && customerIsGone(errors))) {
      refusals.push(`${customerId ?? `line ${line.__lineNumber}`}: ${errors.map((error) => error.message).join(", ")}`);
      continue;
    }
    if (!customerId) continue;
    // As in the batches: a customer Shopify no longer has counts as untagged, never as tagged.
    if (changed || change === "remove") chunk.push(customerId);
    if (chunk.length >= RECORD_CHUNK) {
      await record(chunk);
      chunk = [];
    }
  }
  if (chunk.length > 0) await record(chunk);
}

const SEGMENT_CREATE = `#graphql
  mutation SegmentCreate($name: String!, $query: String!) {
    segmentCreate(name: $name, query: $query) {
      segment {
        id
      }
      userErrors {
        field
        message
      }
    }
  }
`;
const SEGMENT_UPDATE = `#graphql
  mutation SegmentUpdate($id: ID!, $name: String, $query: String) {
    segmentUpdate(id: $id, name: $name, query: $query) {
      segment {
        id
      }
      userErrors {
        field
        message
      }
    }
  }
`;

/** Creates the Shopify segment on the tag, or updates the one created before; returns its id. */
async function upsertShopifySegment(
  shop: string,
  segment: { name: string; shopifySegmentId: string | null },
  tag: string,
  signal?: AbortSignal,
): Promise<string> {
  const query = segmentQueryForTag(tag);
  const names = [`${SEGMENT_NAME_PREFIX}: ${segment.name}`, `${SEGMENT_NAME_PREFIX}: ${segment.name} (${tag})`];
  const nameTaken = (errors: { message: string }[]) => errors.some((e) => /taken/i.test(e.message));
  if (segment.shopifySegmentId) {
    for (const name of names) {
      const { segmentUpdate } = await adminGraphql(shop, SEGMENT_UPDATE, {
        variables: { id: segment.shopifySegmentId, name, query },
        signal,
      });
      if (segmentUpdate?.segment) return segmentUpdate.segment.id;
      if (!nameTaken(segmentUpdate?.userErrors ?? [])) break;
    }
    // Deleted in Shopify since the last push: create it again.
  }
  let problem = "";
  for (const name of names) {
    const { segmentCreate } = await adminGraphql(shop, SEGMENT_CREATE, { variables: { name, query }, signal });
    if (segmentCreate?.segment) return segmentCreate.segment.id;
    const errors = segmentCreate?.userErrors ?? [{ message: "no answer" }];
    problem = errors.map((e) => e.message).join("; ");
    if (!nameTaken(errors)) break;
  }
  throw new PermanentShopifyError(`segmentCreate refused: ${problem}`);
}

export async function executeSegmentSync(syncId: string, signal?: AbortSignal): Promise<void> {
  const sync = await getSync(syncId);
  if (!sync || !["queued", "running"].includes(sync.status)) return;
  const segment = await segmentToPush(sync.segmentId);
  if (!segment) {
    await updateSync(syncId, { status: "failed", error: "the segment no longer exists", finishedAt: new Date() });
    return;
  }
  const shop = sync.shop;
  const tag = segment.tag ?? tagForSegmentKey(segment.key);
  await markSegmentPushing(segment.id, tag);
  const scope: TagScope = { shop, segmentId: segment.id, tag, appTagPrefix: `${TAG_PREFIX}-` };
  const changes = await countTagChanges(scope);
  // A retried attempt counts what its earlier attempts already changed, so progress never passes the total.
  const total = sync.tagged + sync.untagged + changes.toAdd + changes.toRemove;
  await updateSync(syncId, {
    status: "running",
    startedAt: sync.startedAt ?? new Date(),
    stage: "tagging",
    total,
    skipped: changes.skipped,
    error: null,
  });
  const inBulk = changes.toAdd + changes.toRemove > loadConfig().SEGMENT_BULK_TAG_THRESHOLD;
  if (inBulk) await pushTagsInBulk(sync, scope, signal);
  else await pushTagsInBatches(sync, scope, signal);
  await updateSync(syncId, { stage: "segment" });
  const shopifySegmentId = await upsertShopifySegment(shop, segment, tag, signal);
  const finishedAt = new Date();
  await markSegmentPushed(segment.id, shopifySegmentId, finishedAt);
  await updateSync(syncId, { status: "succeeded", finishedAt });
  logger.info(
    {
      shop,
      segmentId: segment.id,
      tagged: changes.toAdd,
      untagged: changes.toRemove,
      skipped: changes.skipped,
      inBulk,
    },
    "segment pushed to Shopify",
  );
}

/** Records a push that will not be retried. */
export async function failSegmentSync(syncId: string, message: string) {
  const sync = await getSync(syncId);
  if (!sync) return;
  await updateSync(syncId, { status: "failed", error: message, finishedAt: new Date() });
  await markSegmentPushFailed(sync.segmentId, message);
}
