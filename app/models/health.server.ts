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
  await prisma.$executeRaw`SELECT graphile_worker.force_unlock_workers(${[poolId]}::text[])`;
}

export async function releaseJobsOfDeadWorkers(staleAfterMs: number, self: string): Promise<number> {
  // Never the caller: it is alive, even when its own heartbeat write was slow to land on a busy machine.
  const stale = await prisma.workerHeartbeat.findMany({
    where: { seenAt: { lt: new Date(Date.now() - staleAfterMs) }, workerId: { not: self } },
  });
  const poolIds = stale.map((worker) => worker.poolId).filter((id): id is string => Boolean(id));
  if (poolIds.length > 0) await prisma.$executeRaw`SELECT graphile_worker.force_unlock_workers(${poolIds}::text[])`;
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
