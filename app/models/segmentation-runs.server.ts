import type { Prisma, PrismaClient, SegmentationRun } from "@prisma/client";
import prisma from "../db.server";
import { enqueueJob, removeJob } from "./jobs.server";

/**
 * Segmentation runs: one row per requested run, which one graphile-worker
 * job executes. A shop's runs share a queue, so they never overlap.
 */

export type RunTrigger = "pull" | "merchant" | "api";
export type RunStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";
export type RunStage = "scoring" | "micro" | "predictions" | "storing" | "naming" | "done";

const ACTIVE: RunStatus[] = ["queued", "running"];
type Db = PrismaClient | Prisma.TransactionClient;

/**
 * Queues a run, or returns the shop's run that is still waiting: a burst of
 * pulls and clicks becomes one run. Pass the caller's transaction to commit
 * the run with what caused it.
 */
export async function requestSegmentation(
  input: { shop: string; trigger: RunTrigger; priority?: number },
  db: Db = prisma,
): Promise<SegmentationRun> {
  const waiting = await db.segmentationRun.findFirst({
    where: { shop: input.shop, status: "queued", cancelRequestedAt: null },
    orderBy: { requestedAt: "desc" },
  });
  if (waiting) return waiting;
  const run = await db.segmentationRun.create({ data: { shop: input.shop, trigger: input.trigger } });
  await enqueueJob("segmentation-run", { runId: run.id }, { shop: input.shop, priority: input.priority }, db);
  return run;
}

export function getRun(id: string) {
  return prisma.segmentationRun.findUnique({ where: { id } });
}

export function getShopRun(shop: string, id: string) {
  return prisma.segmentationRun.findFirst({ where: { id, shop } });
}

export function latestRun(shop: string) {
  return prisma.segmentationRun.findFirst({ where: { shop }, orderBy: { requestedAt: "desc" } });
}

/** The last run that stored segments: its prediction gate and model describe what the merchant sees. */
export function latestCompletedRun(shop: string) {
  return prisma.segmentationRun.findFirst({
    where: { shop, stage: { in: ["naming", "done"] }, status: { in: ["succeeded", "cancelled"] } },
    orderBy: { requestedAt: "desc" },
  });
}

export function recentRuns(shop: string, take = 20) {
  return prisma.segmentationRun.findMany({ where: { shop }, orderBy: { requestedAt: "desc" }, take });
}

/** Updates a run; a run deleted meanwhile (shop/redact) is left alone. */
export function updateRun(id: string, data: Prisma.SegmentationRunUpdateManyMutationInput) {
  return prisma.segmentationRun.updateMany({ where: { id }, data });
}

/**
 * Marks a run as running for the worker that executes it; false when it is
 * no longer queued or running, or the merchant asked to cancel it.
 */
export async function claimRun(id: string): Promise<boolean> {
  const claimed = await prisma.segmentationRun.updateMany({
    where: { id, status: { in: ACTIVE }, cancelRequestedAt: null },
    data: { status: "running", startedAt: new Date(), stage: "scoring", progress: 1, error: null },
  });
  return claimed.count > 0;
}

/** Ends a run that was asked to stop; a run that has already ended keeps its status. */
export async function finishCancelledRun(id: string) {
  await prisma.segmentationRun.updateMany({
    where: { id, status: { in: ACTIVE } },
    data: { status: "cancelled", finishedAt: new Date() },
  });
}

export async function isRunCancelRequested(id: string) {
  const run = await prisma.segmentationRun.findUnique({ where: { id }, select: { cancelRequestedAt: true } });
  return Boolean(run?.cancelRequestedAt);
}

/**
 * Asks a run to stop. A queued run ends at once (its job is removed); a
 * running one stops within a second or two, at its next check.
 */
export async function requestRunCancel(shop: string, id: string): Promise<boolean> {
  const now = new Date();
  const asked = await prisma.segmentationRun.updateMany({
    where: { id, shop, status: { in: ACTIVE }, cancelRequestedAt: null },
    data: { cancelRequestedAt: now },
  });
  if (asked.count === 0) return false;
  await removeJob("segmentation-run", { runId: id }, { shop });
  await prisma.segmentationRun.updateMany({
    where: { id, status: "queued" },
    data: { status: "cancelled", finishedAt: now },
  });
  return true;
}
