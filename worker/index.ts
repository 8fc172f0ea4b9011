import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { Logger, run, type LogLevel } from "graphile-worker";
import { loadConfig } from "../app/config.server";
import prisma from "../app/db.server";
import { logger } from "../app/logger.server";
import { recordWorkerHeartbeat, removeWorkerHeartbeat } from "../app/models/health.server";
import { taskList } from "./task-list";

/**
 * The job runner: graphile-worker on the app's database. On SIGTERM/SIGINT
 * it stops taking jobs, lets running ones finish (their AbortSignal fires
 * after the grace period) and releases the rest for another worker.
 */

const config = loadConfig();
const HEARTBEAT_MS = 15_000;
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

const runner = await run({
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

const beat = () =>
  recordWorkerHeartbeat(workerId, hostname(), startedAt).catch((error) =>
    logger.warn({ err: error }, "worker heartbeat failed"),
  );
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
