import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { EventEmitter } from "node:events";
import { Logger, run, type LogLevel, type WorkerEvents } from "graphile-worker";
import { loadConfig } from "../app/config.server";
import prisma from "../app/db.server";
import { logger } from "../app/logger.server";
import { recordWorkerHeartbeat, releaseJobsOfDeadWorkers, removeWorkerHeartbeat } from "../app/models/health.server";
import { taskList } from "./task-list";

/**
 * The job runner: graphile-worker on the app's database. On SIGTERM/SIGINT
 * it stops taking jobs, lets running ones finish (their AbortSignal fires
 * after the grace period) and releases the rest for another worker.
 */

const config = loadConfig();
const HEARTBEAT_MS = config.WORKER_HEARTBEAT_MS;
const STALE_AFTER_MS = config.WORKER_STALE_AFTER_MS;
// Daily incremental pull for every installed shop, 03:00 UTC. Cron runs once across all workers.
const CRONTAB = "0 3 * * * pull-scheduled";
const workerId = `worker-${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
const startedAt = new Date();

const levelMap: Record<LogLevel, "error" | "warn" | "info" | "debug"> = {
  error: "error",
  warning: "warn",
  info: "info",
  debug: "debug",
};

const workerLogger = new Logger((scope) => (level, message, meta) => {
  logger[levelMap[level]](
    { source: "graphile-worker", task: scope.taskIdentifier, jobId: scope.jobId, ...meta },
    message,
  );
});

const events: WorkerEvents = new EventEmitter();
let poolId: string | null = null;
events.on("pool:create", ({ workerPool }) => {
  poolId = workerPool.id;
});

const runner = await run({
  events,
  crontab: CRONTAB,
  connectionString: config.DATABASE_URL,
  concurrency: config.WORKER_CONCURRENCY,
  taskList,
  logger: workerLogger,
  noHandleSignals: true,
  pollInterval: 2000,
  preset: {
    worker: {
      gracefulShutdownAbortTimeout: 25_000,
      // Batched completion is flushed during graceful shutdown; unbatched
      // completion is fire-and-forget and can be lost when the pool closes.
      completeJobBatchDelay: 0,
      failJobBatchDelay: 0,
    },
  },
});

const beat = async () => {
  try {
    await recordWorkerHeartbeat(workerId, hostname(), startedAt, poolId);
    const released = await releaseJobsOfDeadWorkers(STALE_AFTER_MS);
    if (released > 0) logger.warn({ released }, "released the jobs of workers that stopped sending heartbeats");
  } catch (error) {
    logger.warn({ err: error }, "worker heartbeat failed");
  }
};
await beat();
const heartbeat = setInterval(beat, HEARTBEAT_MS);
logger.info({ workerId, concurrency: config.WORKER_CONCURRENCY }, "worker started");

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "worker draining: finishing running jobs");
  clearInterval(heartbeat);
  try {
    await runner.stop(signal);
    await removeWorkerHeartbeat(workerId);
  } finally {
    await prisma.$disconnect();
    logger.info("worker stopped");
    process.exit(0);
  }
}

process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));

await runner.promise;
