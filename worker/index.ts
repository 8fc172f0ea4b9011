import { randomUUID } from "node:crypto";
import { hostname, setPriority } from "node:os";
import { EventEmitter } from "node:events";
import { createServer } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { Logger, run, type LogLevel, type Runner, type RunnerOptions, type WorkerEvents } from "graphile-worker";
import { loadConfig } from "../app/config.server";
import prisma from "../app/db.server";
import { logger } from "../app/logger.server";
import { enqueueJob, tasks } from "../app/models/jobs.server";
import {
  recordWorkerHeartbeat,
  releaseJobsOfDeadWorkers,
  releaseJobsOfPool,
  removeWorkerHeartbeat,
} from "../app/models/health.server";
import { metrics, serveMetrics } from "../app/services/metrics.server";
import { taskList } from "./task-list";

/**
 * The job runner: graphile-worker on the app's database. On SIGTERM/SIGINT
 * it stops taking jobs, lets running ones finish (their AbortSignal fires
 * after the grace period) and releases the rest for another worker.
 */

const config = loadConfig();
// Raising one's own niceness needs no privilege; where the platform refuses it, jobs run at normal priority.
try {
  if (config.WORKER_NICENESS > 0) setPriority(config.WORKER_NICENESS);
} catch (error) {
  logger.warn({ err: error, niceness: config.WORKER_NICENESS }, "could not lower the worker's CPU priority");
}
const HEARTBEAT_MS = config.WORKER_HEARTBEAT_MS;
const STALE_AFTER_MS = config.WORKER_STALE_AFTER_MS;
// Daily incremental pull for every installed shop, 03:00 UTC, and data retention at 04:15 UTC (run once at
// start when a worker missed it within the last day). Cron runs once across all workers.
const scheduledPull = tasks["pull-scheduled"];
const retention = tasks["data-retention"];
const CRONTAB = [
  `0 3 * * * pull-scheduled ?max=${scheduledPull.maxAttempts}&priority=${scheduledPull.priority}`,
  `15 4 * * * data-retention ?fill=1d&max=${retention.maxAttempts}&priority=${retention.priority}`,
].join("\n");
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

let stopping = false;
const events: WorkerEvents = new EventEmitter();
let poolId: string | null = null;
events.on("pool:create", ({ workerPool }) => {
  poolId = workerPool.id;
});

const jobStarts = new Map<string, number>();
events.on("job:start", ({ job }) => jobStarts.set(job.id, performance.now()));
events.on("job:complete", ({ job, error }) => {
  const started = jobStarts.get(job.id);
  jobStarts.delete(job.id);
  if (started === undefined) return;
  const outcome = error ? "error" : "success";
  metrics.jobDuration.observe({ task: job.task_identifier, outcome }, (performance.now() - started) / 1000);
  if (error) {
    metrics.jobFailures.inc({ task: job.task_identifier, permanent: String(job.attempts >= job.max_attempts) });
  }
});
const metricsServer = config.WORKER_METRICS_PORT ? serveWorkerMetrics(config.WORKER_METRICS_PORT) : undefined;

/** The worker's own /metrics (job durations and failures), behind the operator secret. */
function serveWorkerMetrics(port: number) {
  const server = createServer((req, res) => {
    if (new URL(req.url ?? "/", "http://x").pathname !== "/metrics") return void res.writeHead(404).end();
    serveMetrics(req, res).catch(() => res.writeHead(500).end());
  });
  server.listen(port, () => logger.info({ port }, "worker metrics listening"));
  return server;
}

const runnerOptions: RunnerOptions = {
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
};

let runner: Runner = await run(runnerOptions);
runner.promise.catch(() => {});
// Day partitions of pixel events are made by the retention job: a fresh deploy or a worker that was down gets
// them now rather than at the next 04:15 (events of days without one wait in the default partition). A run
// already under way serves: replacing it would spend its attempts, and if its worker then died it would linger
// as failed.
await enqueueJob("data-retention", {}, { unlessRunning: true });

/**
 * When the database goes away (restart, failover) graphile-worker cannot
 * record a job's end and stops its pool, on purpose. The process stays: it
 * starts a new pool as soon as the database answers, then releases the jobs
 * the old pool still held, so they run again rather than waiting hours for
 * their lock to expire.
 */
let recovering = false;
events.on("pool:fatalError", () => void recoverRunner());

async function recoverRunner() {
  if (stopping || recovering) return;
  recovering = true;
  const failed = runner;
  const failedPool = poolId;
  logger.error({ poolId: failedPool }, "job runner lost the database; starting a new one");
  try {
    await Promise.race([failed.stop().catch(() => {}), sleep(30_000)]);
    for (let attempt = 0; !stopping; attempt++) {
      try {
        runner = await run(runnerOptions);
        runner.promise.catch(() => {});
        if (failedPool) await releaseJobsOfPool(failedPool);
        logger.info({ poolId }, "job runner restarted");
        return;
      } catch (error) {
        logger.warn({ err: error, attempt }, "database still unavailable; retrying");
        await sleep(Math.min(30_000, 1000 * 2 ** attempt));
      }
    }
  } finally {
    recovering = false;
  }
}

const beat = async () => {
  try {
    await recordWorkerHeartbeat(workerId, hostname(), startedAt, poolId);
    const released = await releaseJobsOfDeadWorkers(STALE_AFTER_MS, workerId);
    if (released > 0) logger.warn({ released }, "released the jobs of workers that stopped sending heartbeats");
  } catch (error) {
    logger.warn({ err: error }, "worker heartbeat failed");
  }
};
await beat();
const heartbeat = setInterval(beat, HEARTBEAT_MS);

async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "worker draining: finishing running jobs");
  clearInterval(heartbeat);
  metricsServer?.close();
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
// Only now, with the handlers in place: whoever waits for this line may signal at once.
logger.info({ workerId, concurrency: config.WORKER_CONCURRENCY }, "worker started");
