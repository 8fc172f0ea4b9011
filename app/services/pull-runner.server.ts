import type { DataPullStep } from "@prisma/client";
import type { AdminOperations } from "@shopify/admin-api-client";
import { z } from "zod";
import { loadConfig } from "../config.server";
import { logger } from "../logger.server";
import { PermanentJobError } from "../models/jobs.server";
import {
  claimBulkSlot,
  commitPage,
  isCancelRequested,
  recordBulkCursor,
  recordBulkOperationStarted,
  recordBulkRead,
  recordBulkRestart,
  recordBulkStatus,
  recordStepTotal,
} from "../models/pulls.server";
import { commitBatch, StoreWriter, type StoreBatch } from "../models/store-data.server";
import type { Resource } from "../models/store-tables.server";
import {
  adminGraphql,
  PermanentShopifyError,
  QueryTooCostlyError,
  ThrottledError,
  TransientShopifyError,
  type AdminResult,
  type QueryCost,
  type TypedOptions,
} from "./admin-api.server";
import {
  BULK_NODES,
  bulkQuery,
  countQuery,
  customerRow,
  lineItemNode,
  lineItemRow,
  MORE_LINE_ITEMS,
  MORE_VARIANTS,
  type NodeCheck,
  orderRow,
  PAGINATED,
  type RecordNode,
  productRow,
  transactionRow,
  updatedSinceFilter,
  variantNode,
  variantRow,
} from "./pull-queries.server";

/**
 * Runs one step of a data pull: one resource of one shop, paginated or bulk.
 * Progress is committed with the rows it describes (paginated) or right after
 * them (bulk), so a killed worker resumes where the last commit left off and
 * never double-counts.
 */

export type StepOutcome = { kind: "done" } | { kind: "cancelled" } | { kind: "waiting"; retryInMs: number };

export interface StepContext {
  /** Aborted when the worker shuts down or the pull is cancelled: requests and downloads stop at once. */
  signal: AbortSignal;
  /** Aborted (also) when the pull is cancelled; without it, cancellation is only looked up between batches. */
  cancelled?: AbortSignal;
  deadline: number;
}

export class StepCancelled extends Error {}
export class StepTimedOut extends PermanentJobError {}

/** How often a running step looks for a cancel request: well inside the 5 s a cancel may take. */
const CANCEL_CHECK_MS = 1_000;

/**
 * Watches the pull for a cancel request while a step runs, and aborts `signal` when there is one (or
 * when `shutdown` aborts), so a step stops mid-page or mid-batch, not only between them.
 */
export function watchCancellation(pullId: string, shutdown: AbortSignal) {
  const cancel = new AbortController();
  const signal = AbortSignal.any([shutdown, cancel.signal]);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const check = async () => {
    if (stopped) return;
    try {
      if (await isCancelRequested(pullId)) {
        cancel.abort(new StepCancelled("the pull was cancelled"));
        return;
      }
    } catch {
      // A missed check is made up by the next one.
    }
    if (!stopped) timer = setTimeout(() => void check(), CANCEL_CHECK_MS);
  };
  timer = setTimeout(() => void check(), CANCEL_CHECK_MS);
  return {
    context: { signal, cancelled: cancel.signal },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

const FLUSH_ROWS = 5_000;
/** Rows per transaction of a bulk import: large enough to keep COPY and the merge efficient, held as CSV text. */
const BULK_FLUSH_ROWS = 40_000;
const BULK_POLL_MS = loadConfig().BULK_POLL_INTERVAL_MS;
const BULK_CONCURRENCY = loadConfig().PULL_BULK_CONCURRENCY;

async function guard(step: DataPullStep, context: StepContext) {
  if (context.cancelled?.aborted || (await isCancelRequested(step.pullId))) throw new StepCancelled();
  if (context.signal.aborted)
    throw new TransientShopifyError("worker is shutting down; the step resumes from its checkpoint");
  if (Date.now() > context.deadline) throw new StepTimedOut("timed out");
}

/** Requested cost by query and page size, learnt from Shopify's answers. */
const REQUESTED_COSTS = new Map<string, number>();

/**
 * Paces requests by the bucket Shopify reports, so a request is only sent
 * when its points are there: no THROTTLED answers, and no idle time beyond
 * what the restore rate needs.
 */
export class ThrottlePacer {
  private status: { available: number; max: number; rate: number; at: number } | undefined;
  lastRequested = 0;

  update(cost: QueryCost, request?: string) {
    const { currentlyAvailable, maximumAvailable, restoreRate } = cost.throttleStatus;
    this.status = { available: currentlyAvailable, max: maximumAvailable, rate: restoreRate, at: performance.now() };
    this.lastRequested = cost.requestedQueryCost;
    if (request) REQUESTED_COSTS.set(request, cost.requestedQueryCost);
  }

  /**
   * What `request` (a query and page size) asks for: its cost when last sent (the same for every shop),
   * else a full bucket, so a page never goes out on the points a cheaper request left.
   */
  expectedCost(request: string) {
    return REQUESTED_COSTS.get(request) ?? this.status?.max ?? 0;
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

/** How a paced request waits for the bucket and reports being throttled. */
export interface Pacing {
  pacer: ThrottlePacer;
  onThrottled: () => void;
  signal?: AbortSignal;
}

/**
 * Sends one request once the bucket holds what the last one cost; a
 * THROTTLED answer waits for the points (or a second) and sends it again.
 * A `#graphql` document is typed by codegen; one built at run time brings a
 * zod schema, as with adminGraphql.
 */
export async function sendPaced<Operation extends keyof AdminOperations>(
  shop: string,
  query: Operation,
  variables: TypedOptions<Operation>["variables"],
  pacing: Pacing,
): Promise<AdminResult<Operation>>;
export async function sendPaced<Schema extends z.ZodType>(
  shop: string,
  query: string,
  schema: Schema,
  variables: Record<string, unknown>,
  pacing: Pacing,
): Promise<z.infer<Schema>>;
export async function sendPaced(
  shop: string,
  query: string,
  ...rest: [z.ZodType, Record<string, unknown>, Pacing] | [Record<string, unknown> | undefined, Pacing]
): Promise<unknown> {
  const [schema, variables, pacing] = rest.length === 3 ? rest : ([undefined, rest[0], rest[1]] as const);
  const { pacer, onThrottled } = pacing;
  const signal = pacing.signal ?? new AbortController().signal;
  for (;;) {
    signal.throwIfAborted();
    await pacer.waitFor(pacer.lastRequested, signal);
    const options = { variables, signal, onCost: (cost: QueryCost) => pacer.update(cost) };
    try {
      return schema
        ? await adminGraphql(shop, query, schema, options)
        : await adminGraphql(shop, query as keyof AdminOperations, options as never);
    } catch (error) {
      if (!(error instanceof ThrottledError)) throw error;
      onThrottled();
      if (error.cost) pacer.update(error.cost);
      else await sleep(1000, signal);
    }
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
  let children = step.children;
  let throttled = 0;
  let points = 0;

  if (step.total === null) {
    // Progress needs the whole count, so no cap (Shopify caps at 10,000 unless told). Should Shopify still
    // answer with a floor, the step says so and the total grows with the records fetched.
    const counted = await adminGraphql(
      step.shop,
      countQuery(resource),
      z.record(z.string(), z.object({ count: z.number(), precision: z.enum(["EXACT", "AT_LEAST"]) }).nullable()),
      { variables: { query: filter }, onCost: (cost) => pacer.update(cost) },
    );
    const count = Object.values(counted)[0] ?? null;
    await recordStepTotal(step.id, count && { total: count.count, atLeast: count.precision === "AT_LEAST" });
  }

  for (;;) {
    await guard(step, context);
    const request = `${resource}:${pageSize}`;
    await pacer.waitFor(pacer.expectedCost(request), context.signal);
    let page: z.infer<(typeof spec)["schema"]>;
    let cost: QueryCost | undefined;
    try {
      page = await adminGraphql(step.shop, spec.query, spec.schema, {
        variables: { first: pageSize, after: cursor, query: filter },
        signal: context.signal,
        onCost: (reported) => {
          cost = reported;
          pacer.update(reported, request);
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
      children += await addRecord(
        step.shop,
        resource,
        node as RecordNode<typeof resource>,
        writer,
        pacer,
        context.signal,
      );
    }
    cursor = connection.pageInfo.endCursor ?? cursor;
    await commitPage(step.id, writer.take(), { processed, children, cursor, pointsUsed: points, throttled });
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
      signal,
      onCost: (cost) => pacer.update(cost),
    });
    const page = pick(data);
    for (const node of page?.nodes ?? []) each(node);
    pageInfo = page?.pageInfo ?? { hasNextPage: false, endCursor: null };
  }
}

/** One record as RECORD reads it, with all its children, into the writer; answers how many children. */
export async function addRecord<R extends Resource>(
  shop: string,
  resource: R,
  node: RecordNode<R>,
  writer: StoreWriter,
  pacer: ThrottlePacer,
  signal: AbortSignal,
): Promise<number> {
  let children = 0;
  if (resource === "customers") {
    writer.add("Customer", customerRow(shop, node as RecordNode<"customers">));
  } else if (resource === "products") {
    const product = node as RecordNode<"products">;
    const addVariant = (variant: z.infer<typeof variantNode>) => {
      children++;
      writer.add("ProductVariant", variantRow(shop, product.id, variant));
    };
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
    const addLineItem = (item: z.infer<typeof lineItemNode>) => {
      children++;
      writer.add("OrderLineItem", lineItemRow(shop, order.id, item));
    };
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
  return children;
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

const RUN_BULK = `#graphql
mutation RunBulk($query: String!) {
  bulkOperationRunQuery(query: $query) { bulkOperation { id status } userErrors { field message code } }
}`;
const runBulkResponse = z.object({
  bulkOperationRunQuery: z.object({
    bulkOperation: z.object({ id: z.string(), status: z.string() }).nullable(),
    userErrors: z.array(z.object({ message: z.string(), code: z.string().nullable().optional() })),
  }),
});
export const BULK_STATUS = `#graphql
query BulkStatus($id: ID!) { bulkOperation(id: $id) { id status errorCode objectCount url partialDataUrl } }`;
/** A bulk query's status with what its progress needs: its top-level objects and its file's size. */
const BULK_QUERY_STATUS = `#graphql
query BulkQueryStatus($id: ID!) { bulkOperation(id: $id) { id status errorCode objectCount rootObjectCount fileSize url partialDataUrl } }`;
const bulkQueryStatusResponse = z.object({
  bulkOperation: bulkOperationFields
    .extend({ rootObjectCount: z.string(), fileSize: z.string().nullable() })
    .nullable(),
});
const CANCEL_BULK = `#graphql
mutation CancelBulk($id: ID!) {
  bulkOperationCancel(id: $id) { bulkOperation { id status } userErrors { field message } }
}`;
const cancelBulkResponse = z.object({
  bulkOperationCancel: z.object({
    bulkOperation: z.object({ id: z.string(), status: z.string() }).nullable(),
    userErrors: z.array(z.object({ message: z.string() })),
  }),
});

/** Asks Shopify to stop a bulk operation; one that has already ended answers a user error, which is fine. */
export async function askBulkCancel(shop: string, id: string, log: Record<string, unknown> = {}) {
  try {
    const answer = await adminGraphql(shop, CANCEL_BULK, cancelBulkResponse, { variables: { id } });
    const { bulkOperation, userErrors } = answer.bulkOperationCancel;
    logger.info(
      { shop, ...log, status: bulkOperation?.status, userErrors },
      "asked Shopify to cancel the bulk operation",
    );
  } catch (error) {
    logger.warn({ shop, ...log, error: String(error) }, "bulk operation cancel failed");
  }
}

async function cancelBulkOperation(step: DataPullStep) {
  if (!step.bulkOperationId || step.bulkStatus === "COMPLETED") return;
  await askBulkCancel(step.shop, step.bulkOperationId, { resource: step.resource });
}

const MAX_BULK_RESTARTS = 3;

export async function runBulkStep(step: DataPullStep, context: StepContext): Promise<StepOutcome> {
  if (context.cancelled?.aborted || (await isCancelRequested(step.pullId))) {
    await cancelBulkOperation(step);
    return { kind: "cancelled" };
  }
  if (!step.bulkOperationId) {
    // Every slot held (by this pull's other resources, or another pull of the shop): wait for one to free.
    if (!(await claimBulkSlot(step, BULK_CONCURRENCY))) return { kind: "waiting", retryInMs: BULK_POLL_MS };
    const started = await adminGraphql(step.shop, RUN_BULK, runBulkResponse, {
      variables: { query: bulkQuery(step.resource as Resource, updatedSinceFilter(step.updatedSince)) },
    });
    const { bulkOperation, userErrors } = started.bulkOperationRunQuery;
    if (!bulkOperation) {
      const limit = userErrors.some((error) => error.code === "LIMIT_REACHED" || /in progress/i.test(error.message));
      const message = userErrors.map((error) => error.message).join("; ");
      throw limit ? new TransientShopifyError(message) : new PermanentShopifyError(`bulk query rejected: ${message}`);
    }
    await recordBulkOperationStarted(step.id, bulkOperation);
    return { kind: "waiting", retryInMs: BULK_POLL_MS };
  }

  const { bulkOperation } = await adminGraphql(step.shop, BULK_QUERY_STATUS, bulkQueryStatusResponse, {
    variables: { id: step.bulkOperationId },
    signal: context.signal,
  });
  if (!bulkOperation) throw new PermanentShopifyError(`bulk operation ${step.bulkOperationId} not found`);
  const fileSize = bulkOperation.fileSize === null ? null : Number(bulkOperation.fileSize);
  await recordBulkStatus(step.id, {
    status: bulkOperation.status,
    objectCount: Number(bulkOperation.objectCount),
    rootObjectCount: Number(bulkOperation.rootObjectCount),
    fileSize,
  });
  switch (bulkOperation.status) {
    case "CREATED":
    case "RUNNING":
    case "CANCELING":
      return { kind: "waiting", retryInMs: BULK_POLL_MS };
    case "COMPLETED":
      logger.info(
        { shop: step.shop, resource: step.resource, objects: bulkOperation.objectCount, fileSize },
        "bulk operation completed; importing",
      );
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
      await recordBulkRestart(step.id, restarts, reason);
      return { kind: "waiting", retryInMs: 0 };
    }
  }
}

/**
 * Streams a bulk JSONL file into the tables. Children are attached by their
 * __parentId alone, so they may come before their parent and nothing is held
 * but the batches being filled and written. `cursor` counts lines whose rows
 * are committed, to resume after a crash.
 *
 * Batches are written while the next one is read and checked, on
 * BULK_WRITERS connections at once: one database backend alone cannot keep up
 * with the reading. Each batch commits on its own, in whatever order they
 * finish; the cursor then moves to the end of the longest run of committed
 * batches, so it never claims a line whose rows could still be lost. Lines
 * after it whose rows did commit are read again on resume, and the upsert
 * leaves them as they are. Reading (and so the download) waits while every
 * writer is busy.
 */
export async function importJsonl(step: DataPullStep, url: string, context: StepContext) {
  const response = await fetch(url, { signal: context.signal });
  if (!response.ok || !response.body)
    throw new TransientShopifyError(`bulk result download answered ${response.status}`);
  const resumeFrom = Number(step.cursor ?? 0);
  const writer = new StoreWriter();
  let lineNumber = 0;
  let processed = step.processed;
  let children = step.children;
  let bytesRead = 0;
  let readRecordedAt = 0;
  let readRecording: Promise<void> | undefined;
  const progress = new BulkProgress(step);
  /** Read progress for the page, at most twice a second and never two updates at once. */
  const reportRead = (force = false) => {
    const now = Date.now();
    if (readRecording || (!force && now - readRecordedAt < READ_REPORT_MS)) return;
    readRecordedAt = now;
    readRecording = recordBulkRead(step.id, bytesRead)
      .catch(() => {})
      .finally(() => (readRecording = undefined));
  };

  const commit = async (last: boolean) => {
    await progress.waitForWriter();
    if (!last) await guard(step, context);
    progress.write(writer.take(), { processed, children, cursor: lineNumber });
    if (last) await progress.finish();
  };

  const reader = (response.body as import("node:stream/web").ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let rest = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (value) bytesRead += value.byteLength;
      reportRead();
      const text = rest + (done ? decoder.decode() : decoder.decode(value, { stream: true }));
      let start = 0;
      for (;;) {
        let end = text.indexOf("\n", start);
        if (end === -1) {
          if (!done) break;
          end = text.length;
        }
        const line = text.slice(start, text.charCodeAt(end - 1) === 13 ? end - 1 : end);
        start = end + 1;
        if (line) {
          lineNumber++;
          if (lineNumber > resumeFrom) {
            if (addBulkLine(step.shop, JSON.parse(line) as Record<string, unknown>, writer, lineNumber)) processed++;
            else children++;
            if (writer.pending >= BULK_FLUSH_ROWS) await commit(false);
          }
        }
        if (start >= text.length) break;
      }
      rest = start < text.length ? text.slice(start) : "";
      if (done) break;
    }
    await commit(true);
    await readRecording;
    reportRead(true);
    await readRecording;
  } catch (error) {
    await reader.cancel().catch(() => {});
    // Let the transactions in progress end (committed or rolled back) before the step reports the failure.
    await progress.settle();
    throw error;
  }
}

const READ_REPORT_MS = 500;

/** Bulk batches written at once. */
const BULK_WRITERS = 2;

/** Where a batch ends: top-level records and children so far, and the line after it. */
type BatchEnd = { processed: number; children: number; cursor: number };

/** The batches of one bulk import being written, and the cursor they have earned. */
class BulkProgress {
  private readonly writing = new Set<Promise<void>>();
  /** Batches in line order, until they and every one before them are committed. */
  private readonly pending: { end: BatchEnd; committed: boolean }[] = [];
  private recording: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;

  constructor(private readonly step: DataPullStep) {}

  /** Waits for a free writer; throws the failure of any batch so far. */
  async waitForWriter() {
    while (!this.failure && this.writing.size >= BULK_WRITERS) await Promise.race(this.writing);
    if (this.failure) throw this.failure.error;
  }

  /** Starts writing a batch that ends (in lines read and processed) at `end`. */
  write(batch: StoreBatch, end: BatchEnd) {
    const entry = { end, committed: false };
    this.pending.push(entry);
    const written = (async () => {
      await commitBatch(batch);
      entry.committed = true;
      this.record();
    })().catch((error: unknown) => {
      this.failure ??= { error };
    });
    this.writing.add(written);
    void written.finally(() => this.writing.delete(written));
  }

  /** Moves the cursor past the committed batches at the head of the line, one update after another. */
  private record() {
    let end: BatchEnd | undefined;
    while (this.pending[0]?.committed) end = this.pending.shift()!.end;
    if (!end) return;
    const { processed, children, cursor } = end;
    this.recording = this.recording.then(() => recordBulkCursor(this.step.id, processed, children, cursor));
    this.recording.catch((error: unknown) => {
      this.failure ??= { error };
    });
  }

  /** Waits for every batch and the cursor; throws the first failure. */
  async finish() {
    await this.settle();
    if (this.failure) throw this.failure.error;
  }

  /** Waits for every batch and cursor update to end, whatever their outcome. */
  async settle() {
    while (this.writing.size > 0) await Promise.all(this.writing);
    await this.recording.catch(() => {});
  }
}

/** Adds one bulk line's rows; answers whether it was a top-level record (rather than a child). */
function addBulkLine(shop: string, line: Record<string, unknown>, writer: StoreWriter, lineNumber: number): boolean {
  const id = typeof line.id === "string" ? line.id : String(line.id ?? "");
  const slash = id.startsWith("gid://shopify/") ? id.indexOf("/", 14) : -1;
  const type = slash > 14 ? id.slice(14, slash) : undefined;
  const parentId = typeof line.__parentId === "string" ? line.__parentId : null;
  switch (type) {
    case "Customer":
      writer.add("Customer", customerRow(shop, checked(BULK_NODES.Customer, line, lineNumber)));
      return true;
    case "Product":
      writer.add("Product", productRow(shop, checked(BULK_NODES.Product, line, lineNumber)));
      return true;
    case "ProductVariant":
      if (!parentId) throw new PermanentShopifyError(`bulk line ${lineNumber}: variant without __parentId`);
      writer.add("ProductVariant", variantRow(shop, parentId, checked(BULK_NODES.ProductVariant, line, lineNumber)));
      return false;
    case "Order": {
      const order = checked(BULK_NODES.Order, line, lineNumber);
      writer.add("Order", orderRow(shop, order));
      for (const transaction of order.transactions)
        writer.add("OrderTransaction", transactionRow(shop, order.id, transaction));
      return true;
    }
    case "LineItem":
      if (!parentId) throw new PermanentShopifyError(`bulk line ${lineNumber}: line item without __parentId`);
      writer.add("OrderLineItem", lineItemRow(shop, parentId, checked(BULK_NODES.LineItem, line, lineNumber)));
      return false;
    default:
      throw new PermanentShopifyError(`bulk line ${lineNumber} has an unexpected id: ${id.slice(0, 80)}`);
  }
}

/** A bulk line as its node type, or a permanent failure that names the line and what is wrong with it. */
function checked<T extends z.ZodType>(
  check: NodeCheck<T>,
  line: Record<string, unknown>,
  lineNumber: number,
): z.infer<T> {
  const result = check.parse(line);
  if (!result.ok)
    throw new PermanentShopifyError(`bulk line ${lineNumber} (${check.type}) is malformed: ${result.reason}`);
  return result.node;
}
