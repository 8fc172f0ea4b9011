import prisma from "../db.server";

/**
 * The job queue as an operator sees it: graphile-worker's own tables and
 * functions, in plain SQL (its public view `graphile_worker.jobs` and its
 * admin functions reschedule_jobs / permanently_fail_jobs).
 */

export type JobState = "running" | "ready" | "scheduled" | "failed";

const STATE_SQL = `CASE
  WHEN locked_at IS NOT NULL AND locked_at > now() - interval '4 hours' THEN 'running'
  WHEN attempts >= max_attempts THEN 'failed'
  WHEN run_at > now() THEN 'scheduled'
  ELSE 'ready' END`;

export interface QueueDepth {
  task: string;
  state: JobState;
  jobs: number;
}

export function queueDepths() {
  return prisma.$queryRawUnsafe<QueueDepth[]>(
    `SELECT task_identifier AS task, ${STATE_SQL} AS state, count(*)::int AS jobs
     FROM graphile_worker.jobs GROUP BY 1, 2 ORDER BY 1, 2`,
  );
}

export interface JobRow {
  id: string;
  task: string;
  queue: string | null;
  state: JobState;
  attempts: number;
  maxAttempts: number;
  priority: number;
  runAt: Date;
  lockedBy: string | null;
  lastError: string | null;
  createdAt: Date;
}

export function listJobs(filter: { state?: JobState; task?: string; limit?: number } = {}) {
  return prisma.$queryRawUnsafe<JobRow[]>(
    `SELECT * FROM (
       SELECT id::text, task_identifier AS task, queue_name AS queue, ${STATE_SQL} AS state, attempts,
              max_attempts AS "maxAttempts", priority, run_at AS "runAt", locked_by AS "lockedBy",
              last_error AS "lastError", created_at AS "createdAt"
       FROM graphile_worker.jobs) j
     WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR task = $2)
     ORDER BY "createdAt" DESC LIMIT $3`,
    filter.state ?? null,
    filter.task ?? null,
    filter.limit ?? 100,
  );
}

/** Runs failed or waiting jobs again now, with a fresh set of attempts. Running jobs are left alone. */
export async function retryJobs(ids: string[]) {
  const rows = await prisma.$queryRaw<{ id: string }[]>`
    SELECT id::text FROM graphile_worker.reschedule_jobs(
      ${ids}::bigint[], run_at => now(), attempts => 0)`;
  return rows.length;
}

/** Cancels jobs that are not running: they stay listed as failed with the reason, and never run. */
export async function cancelJobs(ids: string[], reason = "cancelled by an operator") {
  const rows = await prisma.$queryRaw<{ id: string }[]>`
    SELECT id::text FROM graphile_worker.permanently_fail_jobs(${ids}::bigint[], ${reason})`;
  return rows.length;
}
