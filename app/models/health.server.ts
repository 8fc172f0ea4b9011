import { readdir } from "node:fs/promises";
import path from "node:path";
import prisma from "../db.server";

const WORKER_FRESHNESS_MS = 60_000;
const MIGRATIONS_DIR = path.resolve(process.cwd(), "prisma/migrations");

export interface Readiness {
  ready: boolean;
  checks: { database: boolean; migrations: boolean; worker: boolean };
  detail?: string;
}

async function expectedMigrations(): Promise<string[]> {
  const entries = await readdir(MIGRATIONS_DIR, { withFileTypes: true });
  return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
}

export async function checkReadiness(): Promise<Readiness> {
  const checks = { database: false, migrations: false, worker: false };
  try {
    await prisma.$queryRaw`SELECT 1`;
    checks.database = true;
    const applied = await prisma.$queryRaw<{ migration_name: string }[]>`
      SELECT migration_name FROM _prisma_migrations
      WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;
    const appliedNames = new Set(applied.map((row) => row.migration_name));
    checks.migrations = (await expectedMigrations()).every((name) => appliedNames.has(name));
    const since = new Date(Date.now() - WORKER_FRESHNESS_MS);
    checks.worker = (await prisma.workerHeartbeat.count({ where: { seenAt: { gte: since } } })) > 0;
  } catch (error) {
    return { ready: false, checks, detail: error instanceof Error ? error.message.split("\n")[0] : "unknown error" };
  }
  return { ready: checks.database && checks.migrations && checks.worker, checks };
}

export async function recordWorkerHeartbeat(
  workerId: string,
  hostname: string,
  startedAt: Date,
  poolId: string | null,
) {
  const seenAt = new Date();
  await prisma.workerHeartbeat.upsert({
    where: { workerId },
    create: { workerId, hostname, pid: process.pid, startedAt, seenAt, poolId },
    update: { seenAt, poolId },
  });
}

/**
 * Releases the jobs of workers that stopped sending heartbeats (killed, or
 * their machine died), so another worker picks them up now instead of after
 * graphile-worker's four-hour lock timeout.
 */
/** Makes the jobs a worker pool holds available again (the pool is gone or has given up on them). */
export async function releaseJobsOfPool(poolId: string) {
  await releaseJobsOfPools([poolId]);
}

/**
 * Hands the jobs of dead pools back to the queue. A job that enqueued its own
 * key while running (a pull step rescheduling itself) was superseded by
 * graphile-worker: its key cleared and its attempts spent, its replacement
 * waiting behind it. Released, it would look failed forever, so it goes.
 */
async function releaseJobsOfPools(poolIds: string[]) {
  await prisma.$transaction([
    prisma.$executeRaw`
      DELETE FROM graphile_worker._private_jobs old
      WHERE old.locked_by = ANY(${poolIds}::text[]) AND old.key IS NULL AND old.attempts >= old.max_attempts
        AND EXISTS (SELECT 1 FROM graphile_worker._private_jobs replacement
                    WHERE replacement.task_id = old.task_id AND replacement.key IS NOT NULL
                      AND replacement.id > old.id AND replacement.payload::jsonb = old.payload::jsonb)`,
    prisma.$executeRaw`SELECT graphile_worker.force_unlock_workers(${poolIds}::text[])`,
  ]);
}

export async function releaseJobsOfDeadWorkers(staleAfterMs: number, self: string): Promise<number> {
  // Never the caller: it is alive, even when its own heartbeat write was slow to land on a busy machine.
  const stale = await prisma.workerHeartbeat.findMany({
    where: { seenAt: { lt: new Date(Date.now() - staleAfterMs) }, workerId: { not: self } },
  });
  const poolIds = stale.map((worker) => worker.poolId).filter((id): id is string => Boolean(id));
  if (poolIds.length > 0) await releaseJobsOfPools(poolIds);
  if (stale.length > 0)
    await prisma.workerHeartbeat.deleteMany({ where: { workerId: { in: stale.map((w) => w.workerId) } } });
  return stale.length;
}

export async function removeWorkerHeartbeat(workerId: string) {
  await prisma.workerHeartbeat.deleteMany({ where: { workerId } });
}

export async function latestWorkerHeartbeat() {
  return prisma.workerHeartbeat.findFirst({ orderBy: { seenAt: "desc" } });
}
