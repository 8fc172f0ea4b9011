import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import type { DataPullStep } from "@prisma/client";
import { z } from "zod";
import { loadConfig } from "../config.server";
import { withPgTransaction } from "../db.server";
import { logger } from "../logger.server";
import { isCancelRequested, updateStep } from "../models/pulls.server";
import { StoreWriter, type Resource } from "../models/store-data.server";
import {
  adminGraphql,
  PermanentShopifyError,
  QueryTooCostlyError,
  ThrottledError,
  TransientShopifyError,
  type QueryCost,
} from "./admin-api.server";
import {
  bulkQuery,
  customerNode,
  customerRow,
  lineItemNode,
  lineItemRow,
  MORE_LINE_ITEMS,
  MORE_VARIANTS,
  orderNode,
  orderRow,
  PAGINATED,
  productNode,
  type RecordNode,
  productRow,
  transactionRow,
  updatedSinceFilter,
  variantNode,
  variantRow,
} from "./pull-queries.server";

/**
 * Runs one step of a data pull: one resource of one shop, paginated or bulk.
 * Progress is committed with the rows it describes, so a killed worker
 * resumes where the last commit left off and never double-counts.
 */

export type StepOutcome = { kind: "done" } | { kind: "cancelled" } | { kind: "waiting"; retryInMs: number };

export interface StepContext {
  signal: AbortSignal;
  deadline: number;
}

export class StepCancelled extends Error {}
export class StepTimedOut extends PermanentShopifyError {}

const FLUSH_ROWS = 5_000;
const BULK_POLL_MS = loadConfig().BULK_POLL_INTERVAL_MS;

async function checkpoint(
  step: DataPullStep,
  writer: StoreWriter,
  progress: { processed: number; cursor: string | null; pointsUsed?: number; throttled?: number },
) {
  await withPgTransaction(async (client) => {
    await writer.flush(client);
    await client.query(
      `UPDATE "DataPullStep" SET processed = $2, cursor = $3, "pointsUsed" = "pointsUsed" + $4, throttled = throttled + $5 WHERE id = $1`,
      [step.id, progress.processed, progress.cursor, progress.pointsUsed ?? 0, progress.throttled ?? 0],
    );
  });
}

async function guard(step: DataPullStep, context: StepContext) {
  if (context.signal.aborted)
    throw new TransientShopifyError("worker is shutting down; the step resumes from its checkpoint");
  if (Date.now() > context.deadline) throw new StepTimedOut("timed out");
  if (await isCancelRequested(step.pullId)) throw new StepCancelled();
}

/**
 * Paces requests by the bucket Shopify reports, so a request is only sent
 * when its points are there: no THROTTLED answers, and no idle time beyond
 * what the restore rate needs.
 */
export class ThrottlePacer {
  private status: { available: number; max: number; rate: number; at: number } | undefined;
  lastRequested = 0;

  update(cost: QueryCost) {
    const { currentlyAvailable, maximumAvailable, restoreRate } = cost.throttleStatus;
    this.status = { available: currentlyAvailable, max: maximumAvailable, rate: restoreRate, at: performance.now() };
    this.lastRequested = cost.requestedQueryCost;
  }

  /** Milliseconds to wait before `cost` points are available. */
  delayFor(cost: number): number {
    if (!this.status) return 0;
    const elapsed = (performance.now() - this.status.at) / 1000;
    const available = Math.min(this.status.max, this.status.available + elapsed * this.status.rate);
    return available >= cost ? 0 : Math.ceil(((cost - available) / this.status.rate) * 1000);
  }

  async waitFor(cost: number, signal: AbortSignal) {
    const delay = this.delayFor(cost);
    if (delay > 0) await sleep(delay, signal);
  }
}

function sleep(ms: number, signal: AbortSignal) {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

export async function runPaginatedStep(step: DataPullStep, context: StepContext): Promise<StepOutcome> {
  const resource = step.resource as Resource;
  const spec = PAGINATED[resource];
  const filter = updatedSinceFilter(step.updatedSince);
  const writer = new StoreWriter();
  const pacer = new ThrottlePacer();
  let pageSize: number = spec.pageSize;
  let cursor = step.cursor;
  let processed = step.processed;
  let throttled = 0;
  let points = 0;

  if (step.total === null) {
    const counted = await adminGraphql(
      step.shop,
      `query Count($query: String) { ${resource}Count(query: $query) { count } }`,
      z.record(z.string(), z.object({ count: z.number() }).nullable()),
      { variables: { query: filter }, onCost: (cost) => pacer.update(cost) },
    );
    await updateStep(step.id, { total: Object.values(counted)[0]?.count ?? null });
  }

  for (;;) {
    await guard(step, context);
    await pacer.waitFor(pacer.lastRequested, context.signal);
    let page: z.infer<(typeof spec)["schema"]>;
    let cost: QueryCost | undefined;
    try {
      page = await adminGraphql(step.shop, spec.query, spec.schema, {
        variables: { first: pageSize, after: cursor, query: filter },
        signal: context.signal,
        onCost: (reported) => {
          cost = reported;
          pacer.update(reported);
        },
      });
    } catch (error) {
      if (error instanceof ThrottledError) {
        throttled++;
        if (error.cost) pacer.update(error.cost);
        continue;
      }
      if (error instanceof QueryTooCostlyError && pageSize > 1) {
        pageSize = Math.ceil(pageSize / 2);
        continue;
      }
      throw error;
    }
    points += cost?.actualQueryCost ?? 0;
    const connection = Object.values(page)[0] as {
      nodes: unknown[];
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    };
    for (const node of connection.nodes) {
      processed++;
      await addRecord(step.shop, resource, node as RecordNode<typeof resource>, writer, pacer, context.signal);
    }
    cursor = connection.pageInfo.endCursor ?? cursor;
    await checkpoint(step, writer, { processed, cursor, pointsUsed: points, throttled });
    points = 0;
    throttled = 0;
    if (!connection.pageInfo.hasNextPage) return { kind: "done" };
  }
}

type Page<T> = { nodes: T[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };

/** Follows a child connection past the first page (an order with more than 10 line items, say). */
async function forEachRemaining<T, Data>(
  shop: string,
  request: { query: string; schema: z.ZodType<Data> },
  parentId: string,
  first: Page<T>["pageInfo"],
  pick: (data: Data) => Page<T> | undefined,
  each: (node: T) => void,
  pacer: ThrottlePacer,
  signal: AbortSignal,
) {
  let pageInfo = first;
  while (pageInfo.hasNextPage) {
    await pacer.waitFor(pacer.lastRequested, signal);
    const data = await adminGraphql(shop, request.query, request.schema, {
      variables: { id: parentId, after: pageInfo.endCursor },
      onCost: (cost) => pacer.update(cost),
    });
    const page = pick(data);
    for (const node of page?.nodes ?? []) each(node);
    pageInfo = page?.pageInfo ?? { hasNextPage: false, endCursor: null };
  }
}

/** One record as RECORD reads it, with all its children, into the writer. */
export async function addRecord<R extends Resource>(
  shop: string,
  resource: R,
  node: RecordNode<R>,
  writer: StoreWriter,
  pacer: ThrottlePacer,
  signal: AbortSignal,
) {
  if (resource === "customers") {
    writer.add("Customer", customerRow(shop, node as RecordNode<"customers">));
  } else if (resource === "products") {
    const product = node as RecordNode<"products">;
    const addVariant = (variant: z.infer<typeof variantNode>) =>
      writer.add("ProductVariant", variantRow(shop, product.id, variant));
    writer.add("Product", productRow(shop, product));
    product.variants.nodes.forEach(addVariant);
    await forEachRemaining(
      shop,
      MORE_VARIANTS,
      product.id,
      product.variants.pageInfo,
      (d) => d.product?.variants,
      addVariant,
      pacer,
      signal,
    );
  } else {
    const order = node as RecordNode<"orders">;
    const addLineItem = (item: z.infer<typeof lineItemNode>) =>
      writer.add("OrderLineItem", lineItemRow(shop, order.id, item));
    writer.add("Order", orderRow(shop, order));
    for (const transaction of order.transactions)
      writer.add("OrderTransaction", transactionRow(shop, order.id, transaction));
    order.lineItems.nodes.forEach(addLineItem);
    await forEachRemaining(
      shop,
      MORE_LINE_ITEMS,
      order.id,
      order.lineItems.pageInfo,
      (d) => d.order?.lineItems,
      addLineItem,
      pacer,
      signal,
    );
  }
}

// --- bulk ---------------------------------------------------------------------

export const bulkOperationFields = z.object({
  id: z.string(),
  status: z.enum(["CREATED", "RUNNING", "COMPLETED", "CANCELING", "CANCELED", "FAILED", "EXPIRED"]),
  errorCode: z.string().nullable(),
  objectCount: z.string(),
  url: z.string().nullable(),
  partialDataUrl: z.string().nullable(),
});

const RUN_BULK = `mutation RunBulk($query: String!) {
  bulkOperationRunQuery(query: $query) { bulkOperation { id status } userErrors { field message code } }
}`;
const runBulkResponse = z.object({
  bulkOperationRunQuery: z.object({
    bulkOperation: z.object({ id: z.string(), status: z.string() }).nullable(),
    userErrors: z.array(z.object({ message: z.string(), code: z.string().nullable().optional() })),
  }),
});
export const BULK_STATUS = `query BulkStatus($id: ID!) { bulkOperation(id: $id) { id status errorCode objectCount url partialDataUrl } }`;
export const bulkStatusResponse = z.object({ bulkOperation: bulkOperationFields.nullable() });
const CANCEL_BULK = `mutation CancelBulk($id: ID!) { bulkOperationCancel(id: $id) { userErrors { message } } }`;

const MAX_BULK_RESTARTS = 3;

export async function runBulkStep(step: DataPullStep, context: StepContext): Promise<StepOutcome> {
  if (await isCancelRequested(step.pullId)) {
    if (step.bulkOperationId && step.bulkStatus !== "COMPLETED") {
      await adminGraphql(step.shop, CANCEL_BULK, z.unknown(), { variables: { id: step.bulkOperationId } }).catch(
        () => {},
      );
    }
    return { kind: "cancelled" };
  }
  if (!step.bulkOperationId) {
    const started = await adminGraphql(step.shop, RUN_BULK, runBulkResponse, {
      variables: { query: bulkQuery(step.resource as Resource, updatedSinceFilter(step.updatedSince)) },
    });
    const { bulkOperation, userErrors } = started.bulkOperationRunQuery;
    if (!bulkOperation) {
      const limit = userErrors.some((error) => error.code === "LIMIT_REACHED" || /in progress/i.test(error.message));
      const message = userErrors.map((error) => error.message).join("; ");
      throw limit ? new TransientShopifyError(message) : new PermanentShopifyError(`bulk query rejected: ${message}`);
    }
    await updateStep(step.id, {
      bulkOperationId: bulkOperation.id,
      bulkStatus: bulkOperation.status,
      cursor: null,
      processed: 0,
    });
    return { kind: "waiting", retryInMs: BULK_POLL_MS };
  }

  const { bulkOperation } = await adminGraphql(step.shop, BULK_STATUS, bulkStatusResponse, {
    variables: { id: step.bulkOperationId },
  });
  if (!bulkOperation) throw new PermanentShopifyError(`bulk operation ${step.bulkOperationId} not found`);
  await updateStep(step.id, { bulkStatus: bulkOperation.status, total: Number(bulkOperation.objectCount) });
  switch (bulkOperation.status) {
    case "CREATED":
    case "RUNNING":
    case "CANCELING":
      return { kind: "waiting", retryInMs: BULK_POLL_MS };
    case "COMPLETED":
      if (bulkOperation.url) await importJsonl(step, bulkOperation.url, context);
      return { kind: "done" };
    case "FAILED":
    case "EXPIRED":
    case "CANCELED": {
      // Keep what Shopify managed to export (upserts are idempotent), then start over.
      if (bulkOperation.partialDataUrl) await importJsonl(step, bulkOperation.partialDataUrl, context);
      const restarts = step.attempts + 1;
      const reason = `bulk operation ${bulkOperation.status.toLowerCase()}${bulkOperation.errorCode ? ` (${bulkOperation.errorCode})` : ""}`;
      if (restarts >= MAX_BULK_RESTARTS)
        throw new PermanentShopifyError(`${reason}; gave up after ${restarts} operations`);
      logger.warn(
        { shop: step.shop, resource: step.resource, reason },
        "bulk operation ended without completing; starting another",
      );
      await updateStep(step.id, {
        bulkOperationId: null,
        bulkStatus: null,
        attempts: restarts,
        error: reason,
        cursor: null,
      });
      return { kind: "waiting", retryInMs: 0 };
    }
  }
}

/**
 * Streams a bulk JSONL file into the tables. Children are attached by their
 * __parentId alone, so they may come before their parent and nothing is held
 * but the current batch. `cursor` counts committed lines, to resume after a crash.
 */
export async function importJsonl(step: DataPullStep, url: string, context: StepContext) {
  const response = await fetch(url, { signal: context.signal });
  if (!response.ok || !response.body)
    throw new TransientShopifyError(`bulk result download answered ${response.status}`);
  const resumeFrom = Number(step.cursor ?? 0);
  const writer = new StoreWriter();
  const lines = createInterface({
    input: Readable.fromWeb(response.body as import("node:stream/web").ReadableStream),
    crlfDelay: Infinity,
  });
  let lineNumber = 0;
  let processed = step.processed;
  for await (const line of lines) {
    if (!line) continue;
    lineNumber++;
    if (lineNumber <= resumeFrom) continue;
    addBulkLine(step.shop, JSON.parse(line) as Record<string, unknown>, writer, lineNumber);
    processed++;
    if (writer.pending >= FLUSH_ROWS) {
      await guard(step, context);
      await checkpoint(step, writer, { processed, cursor: String(lineNumber) });
    }
  }
  await checkpoint(step, writer, { processed, cursor: String(lineNumber) });
}

function addBulkLine(shop: string, line: Record<string, unknown>, writer: StoreWriter, lineNumber: number) {
  const id = String(line.id ?? "");
  const type = /^gid:\/\/shopify\/(\w+)\//.exec(id)?.[1];
  const parentId = typeof line.__parentId === "string" ? line.__parentId : null;
  const parse = <T extends z.ZodType>(schema: T): z.infer<T> => {
    const result = schema.safeParse(line);
    if (!result.success) {
      throw new PermanentShopifyError(
        `bulk line ${lineNumber} (${type ?? "unknown"}) is malformed: ${result.error.issues[0]?.message}`,
      );
    }
    return result.data;
  };
  switch (type) {
    case "Customer":
      writer.add("Customer", customerRow(shop, parse(customerNode)));
      return;
    case "Product":
      writer.add("Product", productRow(shop, parse(productNode)));
      return;
    case "ProductVariant":
      if (!parentId) throw new PermanentShopifyError(`bulk line ${lineNumber}: variant without __parentId`);
      writer.add("ProductVariant", variantRow(shop, parentId, parse(variantNode)));
      return;
    case "Order": {
      const order = parse(orderNode);
      writer.add("Order", orderRow(shop, order));
      for (const transaction of order.transactions)
        writer.add("OrderTransaction", transactionRow(shop, order.id, transaction));
      return;
    }
    case "LineItem":
      if (!parentId) throw new PermanentShopifyError(`bulk line ${lineNumber}: line item without __parentId`);
      writer.add("OrderLineItem", lineItemRow(shop, parentId, parse(lineItemNode)));
      return;
    default:
      throw new PermanentShopifyError(`bulk line ${lineNumber} has an unexpected id: ${id.slice(0, 80)}`);
  }
}
