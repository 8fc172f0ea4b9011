import type { DataPull, DataPullStep, Prisma } from "@prisma/client";
import prisma, { pgPool, withPgTransaction } from "../db.server";
import { enqueueJob, JobPriority, removeJob, type ShopQueue } from "./jobs.server";
import { requestSegmentation } from "./segmentation-runs.server";
import type { StoreBatch } from "./store-data.server";
import { RESOURCES, type Resource } from "./store-tables.server";

/**
 * Data pulls and their steps: what was asked, how far each resource got, and
 * how it ended. A step is what one graphile-worker job runs. Every write of a
 * pull's state is here: start, checkpoints and cursors, bulk operations, end.
 */

export type PullKind = "full" | "incremental";
export type PullMode = "bulk" | "paginated";
export type PullTrigger = "install" | "merchant" | "schedule" | "api";
export type PullStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";

const TERMINAL: PullStatus[] = ["succeeded", "failed", "cancelled"];
/** Later updates can land a little before the previous pull's start; fetch a small overlap. */
const INCREMENTAL_OVERLAP_MS = 5 * 60_000;

export const priorityFor = (trigger: PullTrigger) =>
  trigger === "schedule" ? JobPriority.scheduled : trigger === "install" ? JobPriority.install : JobPriority.merchant;

/** Full pulls default to bulk; incremental ones to paginated. */
export function defaultMode(kind: PullKind): PullMode {
  return kind === "full" ? "bulk" : "paginated";
}

/** The start of the last successful step of a resource, the cut-off for an incremental pull. */
async function lastSuccessfulSync(shop: string, resource: Resource): Promise<Date | null> {
  const step = await prisma.dataPullStep.findFirst({
    where: { shop, resource, status: "succeeded" },
    orderBy: { startedAt: "desc" },
    select: { startedAt: true },
  });
  return step?.startedAt ?? null;
}

export async function createPull(input: {
  shop: string;
  kind: PullKind;
  mode?: PullMode;
  resources?: Resource[];
  trigger: PullTrigger;
}): Promise<DataPull> {
  const mode = input.mode ?? defaultMode(input.kind);
  const resources = input.resources?.length ? [...new Set(input.resources)] : [...RESOURCES];
  const since = new Map<Resource, Date | null>();
  for (const resource of resources) {
    const last = input.kind === "incremental" ? await lastSuccessfulSync(input.shop, resource) : null;
    since.set(resource, last && new Date(last.getTime() - INCREMENTAL_OVERLAP_MS));
  }
  return prisma.$transaction(async (tx) => {
    const pull = await tx.dataPull.create({
      data: {
        shop: input.shop,
        kind: input.kind,
        mode,
        trigger: input.trigger,
        steps: {
          create: resources.map((resource) => ({
            shop: input.shop,
            resource,
            mode,
            updatedSince: since.get(resource),
          })),
        },
      },
    });
    await enqueueJob("pull-start", { pullId: pull.id }, { priority: priorityFor(input.trigger) }, tx);
    return pull;
  });
}

/** Starts a queued pull: one pull-step job per resource, in the shop's queue. False when it is not queued. */
export async function startPull(pullId: string) {
  return prisma.$transaction(async (tx) => {
    const started = await tx.dataPull.updateMany({
      where: { id: pullId, status: "queued" },
      data: { status: "running", startedAt: new Date() },
    });
    if (started.count === 0) return false;
    const pull = await tx.dataPull.findUniqueOrThrow({ where: { id: pullId }, include: { steps: true } });
    // The largest resource first, for paginated steps, which run in this order in the shop's queue; bulk
    // steps run in queues of their own and take bulk slots in whatever order their jobs start.
    const steps = [...pull.steps].sort((a, b) => START_ORDER.indexOf(a.resource) - START_ORDER.indexOf(b.resource));
    for (const step of steps) await enqueuePullStep(step, pull.trigger as PullTrigger, undefined, tx);
    return true;
  });
}

const START_ORDER: readonly string[] = ["orders", "customers", "products"];

type StepJob = Pick<DataPullStep, "id" | "shop" | "mode" | "resource">;

/** A bulk step runs in its resource's own queue of the shop (see jobs.server.ts); a paginated one in the pull queue. */
const stepQueue = (step: StepJob): ShopQueue | undefined =>
  step.mode === "bulk" ? (`pull-bulk-${step.resource as Resource}` as const) : undefined;

/** Enqueues (or brings forward) the job of a pull step. The job key keeps one job per step. */
export function enqueuePullStep(step: StepJob, trigger: PullTrigger, runAt?: Date, db?: Prisma.TransactionClient) {
  return enqueueJob(
    "pull-step",
    { stepId: step.id },
    { shop: step.shop, queue: stepQueue(step), priority: priorityFor(trigger), runAt },
    db,
  );
}

/** Brings a waiting step's job forward, unless it is running (it then reschedules itself). */
function wakePullStep(step: StepJob, trigger: PullTrigger) {
  return enqueueJob(
    "pull-step",
    { stepId: step.id },
    { shop: step.shop, queue: stepQueue(step), priority: priorityFor(trigger), unlessRunning: true },
  );
}

/** Marks a step whose bulk operation is about to start: it holds one of the shop's bulk slots from then on. */
const BULK_STARTING = "STARTING";

/**
 * Takes one of the shop's `limit` bulk slots for the step, or answers false when they are all held:
 * a slot is held by every running bulk step that has started (or is starting) its operation, until
 * the step ends. Steps of one shop take slots one at a time (an advisory lock on the shop), so `limit`
 * is never exceeded, whatever runs at once; 1 makes a full pull run its resources one after another.
 */
export async function claimBulkSlot(step: Pick<DataPullStep, "id" | "shop">, limit: number) {
  return withPgTransaction(async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('bulk-slots:' || $1, 0))`, [step.shop]);
    const claimed = await client.query(
      `UPDATE "DataPullStep" SET "bulkStatus" = $3
        WHERE id = $1 AND (SELECT count(*) FROM "DataPullStep"
                            WHERE shop = $2 AND id <> $1 AND status = 'running' AND mode = 'bulk'
                              AND "bulkStatus" IS NOT NULL) < $4`,
      [step.id, step.shop, BULK_STARTING, limit],
    );
    return (claimed.rowCount ?? 0) > 0;
  });
}

/** Set by the finish webhook until the step reads the operation's final status itself. */
export const BULK_FINISHED = "FINISHED";

/**
 * The bulk_operations/finish webhook: the steps waiting for that operation run now. A step that is
 * running at that moment (it just started the operation, say) is not nudged; the status recorded here
 * tells it, as it reschedules itself, not to wait for the next poll.
 */
export async function continueStepsOfBulkOperation(shop: string, bulkOperationId: string) {
  await prisma.dataPullStep.updateMany({
    where: { shop, bulkOperationId, status: "running", bulkStatus: { in: ["CREATED", "RUNNING"] } },
    data: { bulkStatus: BULK_FINISHED },
  });
  const steps = await prisma.dataPullStep.findMany({
    where: { shop, bulkOperationId, status: "running" },
    include: { pull: true },
  });
  for (const step of steps) await wakePullStep(step, step.pull.trigger as PullTrigger);
  return steps.length;
}

export function getPull(shop: string, id: string) {
  return prisma.dataPull.findFirst({ where: { id, shop }, include: { steps: { orderBy: { resource: "asc" } } } });
}

export function getStep(id: string) {
  return prisma.dataPullStep.findUnique({ where: { id }, include: { pull: true } });
}

export function recentPulls(shop: string, take = 20) {
  return prisma.dataPull.findMany({
    where: { shop },
    orderBy: { requestedAt: "desc" },
    take,
    include: { steps: { orderBy: { resource: "asc" } } },
  });
}

export async function hasActivePull(shop: string) {
  return (await prisma.dataPull.count({ where: { shop, status: { in: ["queued", "running"] } } })) > 0;
}

export async function hasSucceededFullPull(shop: string) {
  return (await prisma.dataPull.count({ where: { shop, kind: "full", status: "succeeded" } })) > 0;
}

/**
 * Asks a pull to stop. Steps that have not started never will: their jobs go and they end as cancelled
 * at once. A step waiting for its bulk operation is woken now, to cancel the operation at Shopify; a
 * step at work notices within a second (see pull-step).
 */
export async function requestCancel(shop: string, id: string) {
  const waiting = await prisma.$transaction(async (tx) => {
    const result = await tx.dataPull.updateMany({
      where: { id, shop, status: { in: ["queued", "running"] }, cancelRequestedAt: null },
      data: { cancelRequestedAt: new Date() },
    });
    if (result.count === 0) return null;
    const pull = await tx.dataPull.findUniqueOrThrow({ where: { id }, include: { steps: true } });
    for (const step of pull.steps.filter((s) => s.status === "queued")) {
      await removeJob("pull-step", { stepId: step.id }, { shop }, tx);
      await tx.dataPullStep.updateMany({
        where: { id: step.id, status: "queued" },
        data: { status: "cancelled", finishedAt: new Date() },
      });
    }
    await tx.dataPull.updateMany({
      where: { id, status: "queued" },
      data: { status: "cancelled", finishedAt: new Date() },
    });
    return { trigger: pull.trigger as PullTrigger, steps: pull.steps.filter((s) => s.status === "running") };
  });
  if (!waiting) return false;
  for (const step of waiting.steps) await wakePullStep(step, waiting.trigger);
  await finishPullIfDone(id);
  return true;
}

export async function isCancelRequested(pullId: string) {
  const pull = await prisma.dataPull.findUnique({ where: { id: pullId }, select: { cancelRequestedAt: true } });
  return Boolean(pull?.cancelRequestedAt);
}

export type PullStep = NonNullable<Awaited<ReturnType<typeof getStep>>>;

/**
 * Marks the step running, unless its pull was asked to stop (or the step already ended): then it
 * answers false and the step must not start. One statement, so a cancel that committed first is seen.
 */
export async function markStepRunning(id: string, startedAt: Date) {
  const updated = await pgPool.query(
    `UPDATE "DataPullStep" s SET status = 'running', "startedAt" = $2
      WHERE s.id = $1 AND s.status IN ('queued', 'running')
        AND NOT EXISTS (SELECT 1 FROM "DataPull" p WHERE p.id = s."pullId" AND p."cancelRequestedAt" IS NOT NULL)`,
    [id, startedAt],
  );
  return (updated.rowCount ?? 0) > 0;
}

/** How many records the step expects, once known: exactly, or at least (a capped count). */
export async function recordStepTotal(id: string, count: { total: number; atLeast: boolean } | null) {
  await prisma.dataPullStep.update({
    where: { id },
    data: { total: count?.total ?? null, totalAtLeast: count?.atLeast ?? false },
  });
}

/** A failure that will be retried, shown while the step waits for its next attempt. */
export async function recordStepRetry(id: string, message: string) {
  await prisma.dataPullStep.update({ where: { id }, data: { error: `retrying: ${message}` } });
}

export interface StepProgress {
  processed: number;
  children: number;
  cursor: string | null;
  pointsUsed?: number;
  throttled?: number;
}

/** A page of a paginated step: its rows and the cursor after them commit together. */
export async function commitPage(stepId: string, batch: StoreBatch, progress: StepProgress) {
  await withPgTransaction(async (client) => {
    await batch.write(client);
    await client.query(
      // A floor for a total grows with the records fetched, so progress never reads "12,000 of 10,000+".
      `UPDATE "DataPullStep" SET processed = $2, cursor = $3, "pointsUsed" = "pointsUsed" + $4, throttled = throttled + $5, children = $6,
              total = CASE WHEN "totalAtLeast" THEN GREATEST(total, $2) ELSE total END WHERE id = $1`,
      [
        stepId,
        progress.processed,
        progress.cursor,
        progress.pointsUsed ?? 0,
        progress.throttled ?? 0,
        progress.children,
      ],
    );
  });
  batch.release();
}

/** A bulk import's cursor: the lines (and records and children) whose rows have all committed. */
export async function recordBulkCursor(stepId: string, processed: number, children: number, lines: number) {
  await pgPool.query(`UPDATE "DataPullStep" SET processed = $2, children = $3, cursor = $4 WHERE id = $1`, [
    stepId,
    processed,
    children,
    String(lines),
  ]);
}

/** How much of the bulk result file the import has read (progress only; the cursor is what resumes). */
export async function recordBulkRead(stepId: string, bytesRead: number) {
  await pgPool.query(`UPDATE "DataPullStep" SET "bytesRead" = $2 WHERE id = $1`, [stepId, bytesRead]);
}

/** A bulk operation started for the step: its result is read from the start. */
export async function recordBulkOperationStarted(stepId: string, operation: { id: string; status: string }) {
  await prisma.dataPullStep.update({
    where: { id: stepId },
    data: {
      bulkOperationId: operation.id,
      bulkStatus: operation.status,
      cursor: null,
      processed: 0,
      children: 0,
      total: null,
      preparedObjects: 0,
      fileSize: null,
      bytesRead: null,
    },
  });
}

/**
 * What Shopify says of the step's bulk operation. While it prepares the export only the objects so far
 * are known; once it has completed, the records to import (its top-level objects) and the file's size.
 */
export async function recordBulkStatus(
  stepId: string,
  operation: { status: string; objectCount: number; rootObjectCount: number; fileSize: number | null },
) {
  const finished = operation.status === "COMPLETED";
  const preparing = operation.status === "CREATED" || operation.status === "RUNNING";
  // One statement: a poll answered before the finish webhook was recorded must not hide that the
  // operation has finished, even when the webhook's write lands between reading and writing.
  await pgPool.query(
    `UPDATE "DataPullStep"
        SET "bulkStatus" = CASE WHEN $3::boolean AND "bulkStatus" = $4::text THEN "bulkStatus" ELSE $2::text END,
            "preparedObjects" = $5,
            total = CASE WHEN $6::boolean THEN $7::int ELSE total END,
            "fileSize" = CASE WHEN $6::boolean THEN $8::bigint ELSE "fileSize" END
      WHERE id = $1`,
    [
      stepId,
      operation.status,
      preparing,
      BULK_FINISHED,
      operation.objectCount,
      finished,
      operation.rootObjectCount,
      operation.fileSize,
    ],
  );
}

/** Whether the finish webhook came for the step's operation after the step last read its status. */
export async function bulkOperationFinished(stepId: string) {
  const step = await prisma.dataPullStep.findUnique({ where: { id: stepId }, select: { bulkStatus: true } });
  return step?.bulkStatus === BULK_FINISHED;
}

/** The step's bulk operation ended without completing: the next attempt starts another. */
export async function recordBulkRestart(stepId: string, restarts: number, reason: string) {
  await prisma.dataPullStep.update({
    where: { id: stepId },
    data: {
      bulkOperationId: null,
      bulkStatus: null,
      attempts: restarts,
      error: reason,
      cursor: null,
      fileSize: null,
      bytesRead: null,
    },
  });
}

export async function finishStep(step: Pick<DataPullStep, "id" | "pullId">, status: PullStatus, error?: string) {
  const finished = await prisma.dataPullStep.update({
    where: { id: step.id },
    data: { status, error: error ?? null, finishedAt: new Date() },
    include: { pull: true },
  });
  await finishPullIfDone(step.pullId);
  if (finished.mode === "bulk") await wakeStepsWaitingForBulkSlot(finished.shop, finished.pull.trigger as PullTrigger);
}

/** A bulk slot was freed: the shop's bulk steps waiting for one try now rather than at their next poll. */
async function wakeStepsWaitingForBulkSlot(shop: string, trigger: PullTrigger) {
  const waiting = await prisma.dataPullStep.findMany({
    where: { shop, mode: "bulk", status: "running", bulkStatus: null },
  });
  for (const step of waiting) await wakePullStep(step, trigger);
}

/** Ends the pull once every step has ended; the row lock makes the last two steps agree. */
export async function finishPullIfDone(pullId: string) {
  await prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM "DataPull" WHERE id = ${pullId}::uuid FOR UPDATE`;
    const pull = await tx.dataPull.findUnique({ where: { id: pullId }, include: { steps: true } });
    if (!pull || TERMINAL.includes(pull.status as PullStatus)) return;
    if (!pull.steps.every((step) => TERMINAL.includes(step.status as PullStatus))) return;
    const failed = pull.steps.find((step) => step.status === "failed");
    const status: PullStatus = failed
      ? "failed"
      : pull.steps.some((s) => s.status === "cancelled")
        ? "cancelled"
        : "succeeded";
    await tx.dataPull.update({
      where: { id: pullId },
      data: { status, finishedAt: new Date(), error: failed ? `${failed.resource}: ${failed.error}` : null },
    });
    if (status === "succeeded") {
      await requestSegmentation(
        { shop: pull.shop, trigger: "pull", priority: priorityFor(pull.trigger as PullTrigger) },
        tx,
      );
    }
  });
}

/** Shops that should get the daily incremental pull. */
export async function shopsForScheduledPull(): Promise<string[]> {
  const shops = await prisma.shop.findMany({
    where: { uninstalledAt: null, needsReauthAt: null },
    select: { domain: true },
  });
  return shops.map((shop) => shop.domain);
}

/** On uninstall: every queued or running pull of the shop stops and is recorded as cancelled. */
export async function cancelActivePulls(shop: string) {
  const active = await prisma.dataPull.findMany({
    where: { shop, status: { in: ["queued", "running"] } },
    include: { steps: true },
  });
  for (const pull of active) {
    await prisma.dataPull.update({ where: { id: pull.id }, data: { cancelRequestedAt: new Date() } });
    for (const step of pull.steps.filter((s) => s.status === "queued")) {
      await removeJob("pull-step", { stepId: step.id }, { shop });
      await finishStep(step, "cancelled");
    }
    if (pull.status === "queued") {
      await prisma.dataPull.updateMany({
        where: { id: pull.id, status: "queued" },
        data: { status: "cancelled", finishedAt: new Date() },
      });
    }
  }
}
