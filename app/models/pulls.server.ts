import type { DataPull, DataPullStep, Prisma } from "@prisma/client";
import prisma from "../db.server";
import { enqueueJob, JobPriority } from "../services/jobs.server";
import { requestSegmentation } from "./segmentation-runs.server";
import { RESOURCES, type Resource } from "./store-tables.server";

/**
 * Data pulls and their steps: what was asked, how far each resource got, and
 * how it ended. A step is what one graphile-worker job runs.
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
    await enqueueJob("pull-start", { pullId: pull.id }, { priority: priorityFor(input.trigger), maxAttempts: 5 }, tx);
    return pull;
  });
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

export function updateStep(id: string, data: Prisma.DataPullStepUpdateInput) {
  return prisma.dataPullStep.update({ where: { id }, data });
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

export function stepsOfBulkOperation(bulkOperationId: string) {
  return prisma.dataPullStep.findMany({ where: { bulkOperationId, status: "running" }, include: { pull: true } });
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
      await prisma.$executeRaw`SELECT graphile_worker.remove_job(${`pull-step:${step.id}`})`;
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
