import type { MetafieldSync } from "@prisma/client";
import { z } from "zod";
import { loadConfig } from "../config.server";
import { logger } from "../logger.server";
import {
  claimMetafieldSync,
  countMetafieldChanges,
  finishCancelledMetafieldSync,
  getMetafieldSync,
  isMetafieldSyncCancelRequested,
  METAFIELD_KEYS,
  metafieldChangesAfter,
  predictionsShownFor,
  recordMetafieldsCleared,
  recordMetafieldsWritten,
  shopTimezone,
  updateMetafieldSync,
  type MetafieldChange,
  type MetafieldKey,
} from "../models/customer-metafields.server";
import { RFM_SEGMENTS } from "../models/rfm-segments.server";
import { adminGraphql, PermanentShopifyError, TransientShopifyError } from "./admin-api.server";
import {
  bulkResultLines,
  findBulkMutation,
  runBulkMutationFiles,
  variablesFiles,
  waitForBulkOperation,
} from "./bulk-mutation.server";
import { askBulkCancel, sendPaced, ThrottlePacer } from "./pull-runner.server";

/**
 * Writes each customer's predictions to Shopify as typed customer metafields
 * in the app's own namespace, so merchants filter Shopify segments and Flow
 * on them. The definitions are made once (types Shopify's segment editor can
 * filter: numbers, text with fixed choices, a date). Only values that changed
 * since the last write go out, and values that no longer exist are cleared:
 * in requests of 25 metafieldsSet (or metafieldsDelete) paced by the throttle
 * status, or, above METAFIELD_BULK_THRESHOLD values, as bulk mutations.
 * Every accepted value is recorded, so a retried or repeated sync sends only
 * what is still different.
 */

/** Resolved by Shopify to `app--<api client id>--microsegment`: only this app can write it. */
export const METAFIELD_NAMESPACE = "$app:microsegment";
const BATCH = 25;
/** Customers whose changes are read from the database at a time (up to five values each). */
const CUSTOMERS_PER_READ = 500;
const CANCEL_POLL_MS = 500;

interface DefinitionSpec {
  type: "number_decimal" | "single_line_text_field" | "date";
  name: string;
  description: string;
  choices?: string[];
}

/**
 * Predicted value is number_decimal rather than money: Shopify's segment
 * editor filters number, date, text and true/false metafields, not money.
 */
export const METAFIELD_DEFINITIONS: Record<MetafieldKey, DefinitionSpec> = {
  predicted_value: {
    type: "number_decimal",
    name: "Predicted value (365 days)",
    description: "MicroSegment: expected spend over the next 365 days, in the shop's currency.",
  },
  probability_active: {
    type: "number_decimal",
    name: "Probability active",
    description: "MicroSegment: probability (0 to 1) that the customer still buys from the shop.",
  },
  churn_risk: {
    type: "single_line_text_field",
    name: "Churn risk",
    description: "MicroSegment: low, medium or high, from the probability of being active.",
    choices: ["low", "medium", "high"],
  },
  expected_next_order_date: {
    type: "date",
    name: "Expected next order",
    description: "MicroSegment: the day the customer's next order is expected, in the shop's time zone.",
  },
  rfm_segment: {
    type: "single_line_text_field",
    name: "RFM segment",
    description: "MicroSegment: the customer's RFM segment (champions, loyal, at-risk, ...).",
    choices: RFM_SEGMENTS.map((segment) => segment.key),
  },
};

const userError = z.object({
  field: z.array(z.string()).nullish(),
  message: z.string(),
  code: z.string().nullish(),
});

const DEFINITIONS_QUERY = `#graphql
  query AppMetafieldDefinitions($namespace: String!) {
    metafieldDefinitions(first: 50, ownerType: CUSTOMER, namespace: $namespace) {
      nodes {
        id
        namespace
        key
        type {
          name
        }
      }
    }
  }
`;

const CREATE_DEFINITION = `#graphql
  mutation CreateMetafieldDefinition($definition: MetafieldDefinitionInput!) {
    metafieldDefinitionCreate(definition: $definition) {
      createdDefinition {
        id
        namespace
        key
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`;

/**
 * Makes sure the app's customer metafield definitions exist with their
 * types; returns the namespace Shopify resolved the app's to. Idempotent.
 */
export async function ensureMetafieldDefinitions(shop: string, signal?: AbortSignal): Promise<string> {
  const { metafieldDefinitions } = await adminGraphql(shop, DEFINITIONS_QUERY, {
    variables: { namespace: METAFIELD_NAMESPACE },
    signal,
  });
  const existing = new Map(metafieldDefinitions.nodes.map((node) => [node.key, node]));
  let namespace = metafieldDefinitions.nodes[0]?.namespace;
  for (const key of METAFIELD_KEYS) {
    const spec = METAFIELD_DEFINITIONS[key];
    const found = existing.get(key);
    if (found) {
      if (found.type.name !== spec.type)
        throw new PermanentShopifyError(`metafield ${key} is defined as ${found.type.name}, not ${spec.type}`);
      continue;
    }
    const { metafieldDefinitionCreate } = await adminGraphql(shop, CREATE_DEFINITION, {
      variables: {
        definition: {
          namespace: METAFIELD_NAMESPACE,
          key,
          name: spec.name,
          description: spec.description,
          ownerType: "CUSTOMER",
          type: spec.type,
          validations: spec.choices ? [{ name: "choices", value: JSON.stringify(spec.choices) }] : [],
          access: { admin: "MERCHANT_READ" },
        },
      },
      signal,
    });
    if (!metafieldDefinitionCreate) throw new TransientShopifyError("metafieldDefinitionCreate answered nothing");
    const { createdDefinition, userErrors } = metafieldDefinitionCreate;
    if (createdDefinition) namespace = createdDefinition.namespace;
    // TAKEN: another sync created it meanwhile.
    else if (!userErrors.every((error) => error.code === "TAKEN"))
      throw new PermanentShopifyError(
        `metafieldDefinitionCreate refused ${key}: ${userErrors.map((e) => e.message).join("; ")}`,
      );
  }
  if (!namespace) {
    const again = await adminGraphql(shop, DEFINITIONS_QUERY, {
      variables: { namespace: METAFIELD_NAMESPACE },
      signal,
    });
    namespace = again.metafieldDefinitions.nodes[0]?.namespace;
  }
  if (!namespace) throw new TransientShopifyError("the metafield definitions are not listed yet");
  return namespace;
}

/** In requests only the refusals are read, which keeps a request of 25 at about a dozen points. */
const SET_METAFIELDS = `#graphql
  mutation SetCustomerMetafields($metafields: [MetafieldsSetInput!]!) {
    metafieldsSet(metafields: $metafields) {
      userErrors {
        field
        message
        code
      }
    }
  }
`;
/** In bulk each result line names what it wrote, so it can be recorded from the file alone. */
const BULK_SET_METAFIELDS = `#graphql
  mutation BulkSetCustomerMetafields($metafields: [MetafieldsSetInput!]!) {
    metafieldsSet(metafields: $metafields) {
      metafields {
        key
        value
        owner {
          ... on Customer {
            id
          }
        }
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`;

const DELETE_METAFIELDS = `#graphql
  mutation DeleteCustomerMetafields($metafields: [MetafieldIdentifierInput!]!) {
    metafieldsDelete(metafields: $metafields) {
      deletedMetafields {
        ownerId
        key
      }
      userErrors {
        field
        message
      }
    }
  }
`;

/** A bulk result line is read from a file, so zod checks it; its payload is the document's. */
const bulkSetLine = z.object({
  __lineNumber: z.number().int(),
  data: z
    .object({
      metafieldsSet: z
        .object({
          metafields: z
            .array(z.object({ key: z.string(), value: z.string(), owner: z.object({ id: z.string().optional() }) }))
            .nullable(),
          userErrors: z.array(userError),
        })
        .nullable(),
    })
    .optional(),
  errors: z.array(z.object({ message: z.string() })).optional(),
});
const bulkDeleteLine = z.object({
  __lineNumber: z.number().int(),
  data: z
    .object({
      metafieldsDelete: z
        .object({
          deletedMetafields: z.array(z.object({ ownerId: z.string(), key: z.string() }).nullable()).nullable(),
          userErrors: z.array(userError),
        })
        .nullable(),
    })
    .optional(),
  errors: z.array(z.object({ message: z.string() })).optional(),
});

type Written = { customerId: string; key: MetafieldKey; value: string };
type ChangeScope = Parameters<typeof metafieldChangesAfter>[0];

const setInput = (change: Written) => ({
  ownerId: change.customerId,
  namespace: METAFIELD_NAMESPACE,
  key: change.key,
  type: METAFIELD_DEFINITIONS[change.key].type,
  value: change.value,
});
const deleteInput = (change: MetafieldChange) => ({
  ownerId: change.customerId,
  namespace: METAFIELD_NAMESPACE,
  key: change.key,
});

/** The element a userError is about, when it points at one (`metafields.<i>.<field>`). */
const elementOf = (error: z.infer<typeof userError>) => Number(error.field?.[1] ?? Number.NaN);
const ownerIsGone = (error: z.infer<typeof userError>) => error.field?.[2] === "ownerId";

interface SyncContext {
  sync: MetafieldSync;
  pacer: ThrottlePacer;
  signal: AbortSignal;
  onThrottled: () => void;
}

/**
 * One metafieldsSet request of up to 25 values. The call is atomic, so
 * values of customers Shopify no longer has are dropped and the rest sent
 * again; any other refusal fails the sync.
 */
async function setBatch(context: SyncContext, batch: Written[]): Promise<Written[]> {
  let pending = batch;
  while (pending.length > 0) {
    const { metafieldsSet } = await sendPaced(
      context.sync.shop,
      SET_METAFIELDS,
      { metafields: pending.map(setInput) },
      context,
    );
    if (!metafieldsSet) throw new TransientShopifyError("metafieldsSet answered nothing");
    if (metafieldsSet.userErrors.length === 0) return pending;
    const refused = metafieldsSet.userErrors.filter((error) => !ownerIsGone(error));
    if (refused.length > 0)
      throw new PermanentShopifyError(
        `metafieldsSet refused: ${refused.map((error) => `${error.message} (${error.field?.join(".")})`).join("; ")}`,
      );
    const gone = new Set(metafieldsSet.userErrors.map(elementOf));
    pending = pending.filter((_, i) => !gone.has(i));
  }
  return pending;
}

async function clearBatch(context: SyncContext, batch: MetafieldChange[]) {
  const { metafieldsDelete } = await sendPaced(
    context.sync.shop,
    DELETE_METAFIELDS,
    { metafields: batch.map(deleteInput) },
    context,
  );
  if (!metafieldsDelete) throw new TransientShopifyError("metafieldsDelete answered nothing");
  if (metafieldsDelete.userErrors.length > 0)
    throw new PermanentShopifyError(
      `metafieldsDelete refused: ${metafieldsDelete.userErrors.map((error) => error.message).join("; ")}`,
    );
}

/** Every change, a window of customers at a time in (customer, key) order. */
async function* allChanges(scope: ChangeScope) {
  let after = "";
  for (;;) {
    const { changes, lastCustomer } = await metafieldChangesAfter(scope, after, CUSTOMERS_PER_READ);
    if (changes.length > 0) yield changes;
    if (lastCustomer === null) return;
    after = lastCustomer;
  }
}

async function writeInBatches(context: SyncContext, scope: ChangeScope) {
  for await (const page of allChanges(scope)) {
    const toWrite = page.filter((change): change is Written => change.value !== null);
    const toClear = page.filter((change) => change.value === null);
    for (let start = 0; start < toWrite.length; start += BATCH) {
      const written = await setBatch(context, toWrite.slice(start, start + BATCH));
      await recordMetafieldsWritten(context.sync, written);
    }
    for (let start = 0; start < toClear.length; start += BATCH) {
      const batch = toClear.slice(start, start + BATCH);
      await clearBatch(context, batch);
      await recordMetafieldsCleared(context.sync, batch);
    }
  }
}

/** The comment names the sync and its part, so a retried job recognises the operation it started. */
export function bulkMetafieldMutation(part: "set" | "clear", syncId: string) {
  return `# MicroSegment metafields ${part} ${syncId}
${part === "set" ? BULK_SET_METAFIELDS : DELETE_METAFIELDS}`;
}

/**
 * Records what a bulk operation's result file says was written or cleared.
 * Lines name what they did (owner, key, value), so an operation taken up
 * after a restart is recorded too; values of customers Shopify no longer has
 * are skipped; other refusals are returned.
 */
async function recordBulkResults(
  context: SyncContext,
  part: "set" | "clear",
  url: string,
  uploaded: MetafieldChange[][] | undefined,
): Promise<string[]> {
  const refusals: string[] = [];
  let written: Written[] = [];
  let cleared: { customerId: string; key: string }[] = [];
  for await (const raw of bulkResultLines(url, context.signal)) {
    if (part === "set") {
      const line = bulkSetLine.parse(raw);
      const payload = line.data?.metafieldsSet;
      const refused = line.errors ?? payload?.userErrors.filter((error) => !ownerIsGone(error)) ?? [];
      if (refused.length > 0) refusals.push(`line ${line.__lineNumber}: ${refused.map((e) => e.message).join(", ")}`);
      for (const metafield of payload?.metafields ?? []) {
        if (!metafield.owner.id) continue;
        written.push({ customerId: metafield.owner.id, key: metafield.key as MetafieldKey, value: metafield.value });
      }
    } else {
      const line = bulkDeleteLine.parse(raw);
      const payload = line.data?.metafieldsDelete;
      const refused = line.errors ?? payload?.userErrors ?? [];
      if (refused.length > 0) refusals.push(`line ${line.__lineNumber}: ${refused.map((e) => e.message).join(", ")}`);
      payload?.deletedMetafields?.forEach((deleted, i) => {
        // A metafield already gone answers null: it is cleared all the same, when the upload says which it was.
        const identifier = deleted
          ? { customerId: deleted.ownerId, key: deleted.key }
          : uploaded?.[line.__lineNumber]?.[i];
        if (identifier) cleared.push(identifier);
      });
    }
    if (written.length >= 1000) {
      await recordMetafieldsWritten(context.sync, written);
      written = [];
    }
    if (cleared.length >= 1000) {
      await recordMetafieldsCleared(context.sync, cleared);
      cleared = [];
    }
  }
  await recordMetafieldsWritten(context.sync, written);
  await recordMetafieldsCleared(context.sync, cleared);
  return refusals;
}

/**
 * The part's changes as lines of a variables file: one customer's values to set, or metafields to clear, up
 * to 25 a line, read a window of customers at a time.
 */
async function* bulkLines(scope: ChangeScope, part: "set" | "clear"): AsyncGenerator<MetafieldChange[]> {
  let line: MetafieldChange[] = [];
  for await (const page of allChanges(scope)) {
    for (const change of page) {
      if ((change.value === null) !== (part === "clear")) continue;
      if (line.length > 0 && (line[0]!.customerId !== change.customerId || line.length >= BATCH)) {
        yield line;
        line = [];
      }
      line.push(change);
    }
  }
  if (line.length > 0) yield line;
}

/**
 * Sets (or clears) every changed value with bulk mutations, one variables
 * file after another (BULK_MUTATION_FILE_MAX_BYTES each). An operation
 * this sync started before a restart is awaited and recorded first, so only
 * what is still different goes out.
 */
async function runBulkPart(context: SyncContext, part: "set" | "clear", scope: ChangeScope) {
  const { shop } = context.sync;
  const mutation = bulkMetafieldMutation(part, context.sync.id);
  const refusals: string[] = [];
  const finish = async (operationId: string, uploaded?: MetafieldChange[][]) => {
    const finished = await waitForBulkOperation(shop, operationId, context.signal).catch(async (error: unknown) => {
      if (context.signal.aborted) await askBulkCancel(shop, operationId, { syncId: context.sync.id });
      throw error;
    });
    const url = finished.url ?? finished.partialDataUrl;
    if (url) refusals.push(...(await recordBulkResults(context, part, url, uploaded)));
    return finished;
  };
  const previous = await findBulkMutation(shop, mutation, context.signal);
  if (previous) await finish(previous.id);
  if (refusals.length === 0) {
    const lineOf = (changes: MetafieldChange[]) => ({
      metafields: changes.map((change) => (part === "set" ? setInput(change as Written) : deleteInput(change))),
    });
    const files = variablesFiles(bulkLines(scope, part), lineOf, loadConfig().BULK_MUTATION_FILE_MAX_BYTES);
    const refused = () => refusals.length > 0;
    await runBulkMutationFiles(shop, mutation, files, finish, refused, `bulk metafields ${part}`, context.signal);
  }
  if (refusals.length > 0)
    throw new PermanentShopifyError(
      `bulk metafields ${part} refused ${refusals.length} lines: ${refusals.slice(0, 3).join("; ")}`,
    );
}

async function writeInBulk(context: SyncContext, scope: ChangeScope) {
  await runBulkPart(context, "set", scope);
  await updateMetafieldSync(context.sync.id, { stage: "clearing" });
  await runBulkPart(context, "clear", scope);
}

export class MetafieldSyncCancelled extends Error {
  constructor() {
    super("cancelled");
  }
}

/** Executes a queued sync to the end; a cancelled one ends as "cancelled", failures are thrown for the task. */
export async function executeMetafieldSync(syncId: string, workerSignal?: AbortSignal): Promise<void> {
  if (!(await claimMetafieldSync(syncId))) {
    const sync = await getMetafieldSync(syncId);
    if (sync?.cancelRequestedAt) await finishCancelledMetafieldSync(syncId);
    return;
  }
  const sync = (await getMetafieldSync(syncId))!;
  const cancel = new AbortController();
  const poll = setInterval(() => {
    isMetafieldSyncCancelRequested(syncId)
      .then((asked) => asked && cancel.abort(new MetafieldSyncCancelled()))
      .catch(() => {});
  }, CANCEL_POLL_MS);
  const signal = workerSignal ? AbortSignal.any([workerSignal, cancel.signal]) : cancel.signal;
  const context: SyncContext = {
    sync,
    pacer: new ThrottlePacer(),
    signal,
    onThrottled: () => void updateMetafieldSync(syncId, { throttled: { increment: 1 } }).catch(() => {}),
  };
  const started = performance.now();
  try {
    await updateMetafieldSync(syncId, { stage: "definitions" });
    const namespace = await ensureMetafieldDefinitions(sync.shop, signal);
    const scope = {
      shop: sync.shop,
      predictionsShown: await predictionsShownFor(sync),
      timezone: await shopTimezone(sync.shop),
    };
    const { toWrite, toClear } = await countMetafieldChanges(scope);
    const inBulk = toWrite + toClear > loadConfig().METAFIELD_BULK_THRESHOLD;
    await updateMetafieldSync(syncId, {
      stage: "writing",
      namespace,
      mode: inBulk ? "bulk" : "batches",
      total: toWrite + toClear,
    });
    if (inBulk) await writeInBulk(context, scope);
    else await writeInBatches(context, scope);
    await updateMetafieldSync(syncId, { status: "succeeded", stage: null, finishedAt: new Date() });
    logger.info(
      { shop: sync.shop, syncId, toWrite, toClear, inBulk, ms: Math.round(performance.now() - started) },
      "customer metafields synced",
    );
  } catch (error) {
    if (cancel.signal.aborted) {
      await finishCancelledMetafieldSync(syncId);
      logger.info({ shop: sync.shop, syncId }, "customer metafield sync cancelled");
      return;
    }
    throw error;
  } finally {
    clearInterval(poll);
  }
}

/** Records a sync that will not be retried. */
export async function failMetafieldSync(syncId: string, message: string) {
  await updateMetafieldSync(syncId, { status: "failed", error: message, finishedAt: new Date() });
}
