import type { DataPull, DataPullStep, Prisma } from "@prisma/client";
import prisma, { pgPool, withPgTransaction } from "../db.server";
import { enqueueJob, JobPriority, removeJob } from "./jobs.server";
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
    for (const step of pull.steps) await enqueuePullStep(step, pull.trigger as PullTrigger, undefined, tx);
    return true;
  });
}

/** Enqueues (or brings forward) the job of a pull step. The job key keeps one job per step. */
export function enqueuePullStep(
  step: { id: string; shop: string },
  trigger: PullTrigger,
  runAt?: Date,
  db?: Prisma.TransactionClient,
) {
  return enqueueJob("pull-step", { stepId: step.id }, { shop: step.shop, priority: priorityFor(trigger), runAt }, db);
}

/** The bulk_operations/finish webhook: the steps waiting for that operation run now. */
export async function continueStepsOfBulkOperation(shop: string, bulkOperationId: string) {
  const steps = await prisma.dataPullStep.findMany({
    where: { shop, bulkOperationId, status: "running" },
    include: { pull: true },
  });
  for (const step of steps) {
    await enqueueJob(
      "pull-step",
      { stepId: step.id },
      { shop, priority: priorityFor(step.pull.trigger as PullTrigger), unlessRunning: true },
    );
  }
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

export async function requestCancel(shop: string, id: string) {
  const result = await prisma.dataPull.updateMany({
    where: { id, shop, status: { in: ["queued", "running"] }, cancelRequestedAt: null },
    data: { cancelRequestedAt: new Date() },
  });
  return result.count > 0;
}

export async function isCancelRequested(pullId: string) {
  const pull = await prisma.dataPull.findUnique({ where: { id: pullId }, select: { cancelRequestedAt: true } });
  return Boolean(pull?.cancelRequestedAt);
}

export type PullStep = NonNullable<Awaited<ReturnType<typeof getStep>>>;

export async function markStepRunning(id: string, startedAt: Date) {
  await prisma.dataPullStep.update({ where: { id }, data: { status: "running", startedAt } });
}

/** How many records the step expects, once known. */
export async function recordStepTotal(id: string, total: number | null) {
  await prisma.dataPullStep.update({ where: { id }, data: { total } });
}

/** A failure that will be retried, shown while the step waits for its next attempt. */
export async function recordStepRetry(id: string, message: string) {
  await prisma.dataPullStep.update({ where: { id }, data: { error: `retrying: ${message}` } });
}

export interface StepProgress {
  processed: number;
  cursor: string | null;
  pointsUsed?: number;
  throttled?: number;
}

/** A page of a paginated step: its rows and the cursor after them commit together. */
export async function commitPage(stepId: string, batch: StoreBatch, progress: StepProgress) {
  await withPgTransaction(async (client) => {
    await batch.write(client);
    await client.query(
      `UPDATE "DataPullStep" SET processed = $2, cursor = $3, "pointsUsed" = "pointsUsed" + $4, throttled = throttled + $5 WHERE id = $1`,
      [stepId, progress.processed, progress.cursor, progress.pointsUsed ?? 0, progress.throttled ?? 0],
    );
  });
  batch.release();
}

/** A bulk import's cursor: the lines (and records) whose rows have all committed. */
export async function recordBulkCursor(stepId: string, processed: number, lines: number) {
  await pgPool.query(`UPDATE "DataPullStep" SET processed = $2, cursor = $3 WHERE id = $1`, [
    stepId,
    processed,
    String(lines),
  ]);
}

/** A bulk operation started for the step: its result is read from the start. */
export async function recordBulkOperationStarted(stepId: string, operation: { id: string; status: string }) {
  await prisma.dataPullStep.update({
    where: { id: stepId },
    data: { bulkOperationId: operation.id, bulkStatus: operation.status, cursor: null, processed: 0 },
  });
}

export async function recordBulkStatus(stepId: string, status: string, objectCount: number) {
  await prisma.dataPullStep.update({ where: { id: stepId }, data: { bulkStatus: status, total: objectCount } });
}

/** The step's bulk operation ended without completing: the next attempt starts another. */
export async function recordBulkRestart(stepId: string, restarts: number, reason: string) {
  await prisma.dataPullStep.update({
    where: { id: stepId },
    data: { bulkOperationId: null, bulkStatus: null, attempts: restarts, error: reason, cursor: null },
  });
}

export async function finishStep(step: Pick<DataPullStep, "id" | "pullId">, status: PullStatus, error?: string) {
  await prisma.dataPullStep.update({
    where: { id: step.id },
    data: { status, error: error ?? null, finishedAt: new Date() },
  });
  await finishPullIfDone(step.pullId);
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
