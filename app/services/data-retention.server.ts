import { setTimeout as sleep } from "node:timers/promises";
import { loadConfig } from "../config.server";
import { deleteAiCallsBefore } from "../models/ai.server";
import {
  createPixelEventPartition,
  daysInDefaultPartition,
  deleteDefaultPartitionEventsBefore,
  deleteIdentityClaimsBefore,
  dropPixelEventPartition,
  LockTimeoutError,
  pixelEventPartitions,
} from "../models/pixel.server";
import { expireExportsCompletedBefore } from "../models/privacy.server";
import { deleteWindowsBefore } from "../models/rate-limits.server";
import { deleteDeliveriesProcessedBefore, prunePayloadsProcessedBefore } from "../models/webhook-deliveries.server";

/**
 * Data kept only as long as needed: what the daily data-retention job removes, each by its own setting
 * (README, "What we keep and for how long"). Every step is idempotent and takes only short locks, so it can
 * run beside ingest and pulls, and run again after a failure.
 */

const DAY_MS = 86_400_000;
/** Day partitions exist this far ahead, so that events find their day's partition even if the job skips days. */
export const PARTITION_DAYS_AHEAD = 7;
const LOCK_ATTEMPTS = 3;

export interface RetentionReport {
  partitionsCreated: string[];
  eventsMovedFromDefault: number;
  partitionsDropped: string[];
  defaultPartitionEventsDeleted: number;
  webhookPayloadsPruned: number;
  webhookRecordsDeleted: number;
  exportsExpired: number;
  aiCallsDeleted: number;
  rateLimitWindowsDeleted: number;
  identityClaimsExpired: number;
  /** Partition changes whose lock was not granted in time, left to the next run. */
  deferred: string[];
}

const startOfUtcDay = (at: Date) => new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);

/** Partition DDL waits a bounded time for its locks; a busy table gets a few tries, then the next run. */
async function withLockRetries(step: string, deferred: string[], work: () => Promise<void>) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!(error instanceof LockTimeoutError)) throw error;
      if (attempt >= LOCK_ATTEMPTS) return void deferred.push(step);
      await sleep(1000 * attempt);
    }
  }
}

/**
 * Pixel events: default-partition rows past the period are deleted, its rows of kept days move into day
 * partitions, the coming days' partitions are made, and every day partition wholly older than the period is
 * dropped (so an event is kept at least PIXEL_EVENT_RETENTION_DAYS, and at most a day more).
 */
async function expirePixelEvents(now: Date, report: RetentionReport) {
  const cutoff = new Date(now.getTime() - loadConfig().PIXEL_EVENT_RETENTION_DAYS * DAY_MS);
  const today = startOfUtcDay(now);
  const horizon = new Date(today.getTime() + (PARTITION_DAYS_AHEAD + 1) * DAY_MS);
  report.defaultPartitionEventsDeleted = await deleteDefaultPartitionEventsBefore(cutoff);

  const existing = new Set((await pixelEventPartitions()).map((partition) => partition.day.getTime()));
  const days = new Set((await daysInDefaultPartition(startOfUtcDay(cutoff), horizon)).map((day) => day.getTime()));
  for (let day = today.getTime(); day < horizon.getTime(); day += DAY_MS) if (!existing.has(day)) days.add(day);
  for (const day of [...days].sort((a, b) => a - b)) {
    const date = new Date(day);
    await withLockRetries(`create partition of ${date.toISOString().slice(0, 10)}`, report.deferred, async () => {
      report.eventsMovedFromDefault += await createPixelEventPartition(date);
      if (!existing.has(day)) report.partitionsCreated.push(date.toISOString().slice(0, 10));
    });
  }

  for (const partition of await pixelEventPartitions()) {
    if (partition.day.getTime() + DAY_MS > cutoff.getTime()) break;
    await withLockRetries(`drop ${partition.name}`, report.deferred, async () => {
      await dropPixelEventPartition(partition.name);
      report.partitionsDropped.push(partition.name);
    });
  }
}

export async function applyRetention(now = new Date()): Promise<RetentionReport> {
  const config = loadConfig();
  const before = (days: number) => new Date(now.getTime() - days * DAY_MS);
  const report: RetentionReport = {
    partitionsCreated: [],
    eventsMovedFromDefault: 0,
    partitionsDropped: [],
    defaultPartitionEventsDeleted: 0,
    webhookPayloadsPruned: 0,
    webhookRecordsDeleted: 0,
    exportsExpired: 0,
    aiCallsDeleted: 0,
    rateLimitWindowsDeleted: 0,
    identityClaimsExpired: 0,
    deferred: [],
  };
  await expirePixelEvents(now, report);
  report.webhookRecordsDeleted = await deleteDeliveriesProcessedBefore(before(config.WEBHOOK_RECORD_RETENTION_DAYS));
  report.webhookPayloadsPruned = await prunePayloadsProcessedBefore(before(config.WEBHOOK_PAYLOAD_RETENTION_DAYS));
  report.exportsExpired = await expireExportsCompletedBefore(before(config.DATA_REQUEST_EXPORT_RETENTION_DAYS));
  report.aiCallsDeleted = await deleteAiCallsBefore(before(config.AI_CALL_RETENTION_DAYS));
  report.rateLimitWindowsDeleted = await deleteWindowsBefore(
    new Date(now.getTime() - config.RATE_LIMIT_WINDOW_RETENTION_MINUTES * 60_000),
  );
  report.identityClaimsExpired = await deleteIdentityClaimsBefore(before(config.PIXEL_IDENTITY_CLAIM_RETENTION_DAYS));
  return report;
}
