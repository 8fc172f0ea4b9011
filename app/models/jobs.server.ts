import { createHash } from "node:crypto";
import { Prisma, type PrismaClient } from "@prisma/client";
import { z } from "zod";
import prisma from "../db.server";

/**
 * The contract between the app and the worker. Each task is declared once
 * here (payload schema, queue, job key, priority, attempts), and this module
 * is the only way to enqueue: from TypeScript with `enqueueJob` (or `enqueueJobs`, several in one
 * statement), and from SQL
 * that enqueues in bulk with `jobSpecs` + `ADD_JOB_SPECS`. Enqueueing is a
 * SQL call, so a job commits or rolls back with the writes that caused it.
 */

/**
 * A shop's name inside queue names and job keys. Hashed, so that once a shop
 * is redacted no row of the job queue mentions it.
 */
export function shopKey(shop: string) {
  return createHash("sha256").update(shop).digest("hex").slice(0, 20);
}

/** Lower runs first, as in graphile-worker. */
export const JobPriority = { merchant: 0, install: 5, scheduled: 10 } as const;

/**
 * A shop's queues: jobs of one queue run one at a time. Pulls and record
 * refreshes share one, so they never compete for the shop's API budget. A
 * bulk pull step spends almost none of it (it starts an operation, polls it,
 * then reads a file), so each resource's bulk step has a queue of its own and
 * the three import side by side, each as its operation finishes.
 */
const SHOP_QUEUES = {
  pull: (key: string) => `pull:${key}`,
  "pull-bulk-customers": (key: string) => `pull-bulk-customers:${key}`,
  "pull-bulk-products": (key: string) => `pull-bulk-products:${key}`,
  "pull-bulk-orders": (key: string) => `pull-bulk-orders:${key}`,
  segments: (key: string) => `segments:${key}`,
  "segment-sync": (key: string) => `segment-sync:${key}`,
  ai: (key: string) => `ai:${key}`,
} as const;
export type ShopQueue = keyof typeof SHOP_QUEUES;

/** The name of one of a shop's queues. */
export const shopQueue = (queue: ShopQueue, shop: string) => SHOP_QUEUES[queue](shopKey(shop));

const shopDomain = z.string().min(1);
const gidOf = (type: string) => z.string().regex(new RegExp(`^gid://shopify/${type}/\\d+$`));

interface TaskDefinition<Payload extends z.ZodType> {
  payload: Payload;
  maxAttempts: number;
  /** Unless the caller names another (a pull's priority follows its trigger). */
  priority: number;
  /** The shop queue its jobs wait in; needs the shop, from the payload or the caller. */
  queue?: ShopQueue;
  /** One job per key: enqueueing again replaces a job still waiting. */
  jobKey?: (payload: z.infer<Payload>, shop: string | undefined) => string | undefined;
}

const define = <Payload extends z.ZodType>(definition: TaskDefinition<Payload>) => definition;

export const tasks = {
  "shop-details-sync": define({
    payload: z.object({ shop: shopDomain }),
    maxAttempts: 25,
    priority: JobPriority.install,
    jobKey: ({ shop }) => `shop-details-sync:${shopKey(shop)}`,
  }),
  "pull-start": define({
    payload: z.object({ pullId: z.uuid() }),
    maxAttempts: 5,
    priority: JobPriority.merchant,
  }),
  "pull-step": define({
    payload: z.object({ stepId: z.uuid() }),
    maxAttempts: 8,
    priority: JobPriority.merchant,
    queue: "pull",
    jobKey: ({ stepId }) => `pull-step:${stepId}`,
  }),
  /** Run by graphile-worker's cron (worker/index.ts), never enqueued by the app. */
  "pull-scheduled": define({
    payload: z.object({}).passthrough(),
    maxAttempts: 3,
    priority: JobPriority.scheduled,
  }),
  /** Run by graphile-worker's cron (worker/index.ts), and enqueued when a worker starts. */
  "data-retention": define({
    payload: z.object({}).passthrough(),
    maxAttempts: 5,
    priority: JobPriority.scheduled,
    jobKey: () => "data-retention",
  }),
  /**
   * A graphile-worker batch job: the deliveries one intake commit recorded, each processed on its own; only
   * those that fail are retried (the job comes back with them alone). A merchant's retry sends one.
   */
  "webhook-process": define({
    payload: z
      .array(z.object({ deliveryId: z.uuid() }))
      .min(1)
      .max(500),
    maxAttempts: 10,
    priority: JobPriority.merchant,
    jobKey: (deliveries) => (deliveries.length === 1 ? `webhook:${deliveries[0]!.deliveryId}` : undefined),
  }),
  "segmentation-run": define({
    payload: z.object({ runId: z.uuid() }),
    maxAttempts: 3,
    priority: JobPriority.merchant,
    queue: "segments",
    jobKey: ({ runId }) => `segmentation-run:${runId}`,
  }),
  "segment-sync": define({
    payload: z.object({ syncId: z.uuid() }),
    maxAttempts: 8,
    priority: JobPriority.merchant,
    queue: "segment-sync",
    jobKey: ({ syncId }) => `segment-sync:${syncId}`,
  }),
  /** Writes a run's predictions as customer metafields; in the push queue, so writes to Shopify never compete. */
  "metafield-sync": define({
    payload: z.object({ syncId: z.uuid() }),
    maxAttempts: 8,
    priority: JobPriority.scheduled,
    queue: "segment-sync",
    jobKey: ({ syncId }) => `metafield-sync:${syncId}`,
  }),
  "segment-naming-retry": define({
    payload: z.object({ shop: shopDomain }),
    maxAttempts: 10,
    priority: JobPriority.scheduled,
    queue: "segments",
    jobKey: ({ shop }) => `segment-naming-retry:${shopKey(shop)}`,
  }),
  "sync-records": define({
    payload: z.object({
      shop: shopDomain,
      resource: z.enum(["customers", "products", "orders"]),
      ids: z.array(gidOf("\\w+")).min(1).max(250),
    }),
    maxAttempts: 8,
    priority: JobPriority.merchant,
    queue: "pull",
  }),
  "products-enrich": define({
    payload: z.object({ shop: shopDomain, productIds: z.array(gidOf("Product")).min(1).max(1000).optional() }),
    maxAttempts: 3,
    priority: JobPriority.merchant,
    queue: "ai",
    // A full run waiting to start already covers a second request for one.
    jobKey: ({ shop, productIds }) => (productIds ? undefined : `products-enrich:${shopKey(shop)}`),
  }),
} as const;

export type TaskName = keyof typeof tasks;
export type JobPayload<Name extends TaskName> = z.infer<(typeof tasks)[Name]["payload"]>;

/** A worker task's payload, checked against its declaration. */
export function parsePayload<Name extends TaskName>(task: Name, payload: unknown): JobPayload<Name> {
  return tasks[task].payload.parse(payload) as JobPayload<Name>;
}

/** A payload checked against its task's declaration, or undefined when it does not fit. */
export function parsePayloadSafely<Name extends TaskName>(task: Name, payload: unknown): JobPayload<Name> | undefined {
  const parsed = tasks[task].payload.safeParse(payload);
  return parsed.success ? (parsed.data as JobPayload<Name>) : undefined;
}

export interface EnqueueOptions {
  /** The shop whose queue the job joins, when the payload does not name it. */
  shop?: string;
  /** Another of the shop's queues than the task's own. */
  queue?: ShopQueue;
  priority?: number;
  runAt?: Date;
}

interface JobSpec {
  identifier: string;
  payload: unknown;
  queue_name: string | null;
  run_at: string | null;
  max_attempts: number;
  job_key: string | null;
  priority: number;
  flags: null;
}

function jobSpec<Name extends TaskName>(task: Name, payload: JobPayload<Name>, options: EnqueueOptions): JobSpec {
  const definition: TaskDefinition<z.ZodType> = tasks[task];
  const parsed = definition.payload.parse(payload) as Record<string, unknown>;
  const shop = options.shop ?? (typeof parsed.shop === "string" ? parsed.shop : undefined);
  if (definition.queue && !shop) throw new Error(`a ${task} job needs its shop to pick its queue`);
  return {
    identifier: task,
    payload: parsed,
    queue_name: definition.queue ? shopQueue(options.queue ?? definition.queue, shop!) : null,
    run_at: options.runAt?.toISOString() ?? null,
    max_attempts: definition.maxAttempts,
    job_key: definition.jobKey?.(parsed, shop) ?? null,
    priority: options.priority ?? definition.priority,
    flags: null,
  };
}

type Db = PrismaClient | Prisma.TransactionClient;

/**
 * Enqueues one job; pass the caller's transaction to commit it with the writes that caused it.
 *
 * `unlessRunning` leaves a running job of the same key alone (and answers null):
 * enqueueing the key of a running job makes graphile-worker supersede it (its
 * key cleared, its attempts spent), so if its worker then died the released
 * job would linger as failed though its replacement did the work. A running
 * job needs no nudge: it reschedules itself when it has to wait.
 */
export async function enqueueJob<Name extends TaskName>(
  task: Name,
  payload: JobPayload<Name>,
  options?: EnqueueOptions & { unlessRunning?: false },
  db?: Db,
): Promise<{ id: string }>;
export async function enqueueJob<Name extends TaskName>(
  task: Name,
  payload: JobPayload<Name>,
  options: EnqueueOptions & { unlessRunning: true },
  db?: Db,
): Promise<{ id: string } | null>;
export async function enqueueJob<Name extends TaskName>(
  task: Name,
  payload: JobPayload<Name>,
  options: EnqueueOptions & { unlessRunning?: boolean } = {},
  db: Db = prisma,
): Promise<{ id: string } | null> {
  const spec = jobSpec(task, payload, options);
  if (options.unlessRunning && !spec.job_key) throw new Error(`${task} jobs have no job key to find a running one by`);
  const rows = await db.$queryRaw<{ id: bigint }[]>`
    SELECT id FROM graphile_worker.add_job(
      identifier => ${spec.identifier}::text,
      payload => ${JSON.stringify(spec.payload)}::json,
      queue_name => ${spec.queue_name}::text,
      run_at => ${spec.run_at}::timestamptz,
      max_attempts => ${spec.max_attempts}::int,
      job_key => ${spec.job_key}::text,
      priority => ${spec.priority}::int,
      job_key_mode => 'replace'
    )
    WHERE NOT (${options.unlessRunning ?? false}::boolean AND EXISTS (
      SELECT 1 FROM graphile_worker._private_jobs WHERE key = ${spec.job_key}::text AND locked_at IS NOT NULL
    ))`;
  return rows[0] ? { id: String(rows[0].id) } : null;
}

/** Enqueues several jobs of one task in one statement: all of them or, if it fails, none. */
export async function enqueueJobs<Name extends TaskName>(
  task: Name,
  jobs: { payload: JobPayload<Name>; options?: EnqueueOptions }[],
  db: Db = prisma,
) {
  if (jobs.length === 0) return;
  await db.$executeRaw`
    SELECT ${Prisma.raw(ADD_JOB_SPECS)}
    FROM json_populate_recordset(NULL::graphile_worker.job_spec, ${jobSpecs(task, jobs)}::json) spec`;
}

/**
 * The specs of many jobs as one JSON parameter, for SQL that enqueues in
 * bulk: `SELECT ${ADD_JOB_SPECS} FROM json_populate_recordset(NULL::graphile_worker.job_spec, $n) spec`.
 */
export function jobSpecs<Name extends TaskName>(
  task: Name,
  jobs: { payload: JobPayload<Name>; options?: EnqueueOptions }[],
): string {
  return JSON.stringify(jobs.map((job) => jobSpec(task, job.payload, job.options ?? {})));
}

/** Adds the job specs `spec` of the enclosing FROM (see `jobSpecs`). */
export const ADD_JOB_SPECS = "graphile_worker.add_jobs(array_agg(spec))";

/** Removes a job that has not started (one with a job key); a running one finishes by itself. */
export async function removeJob<Name extends TaskName>(
  task: Name,
  payload: JobPayload<Name>,
  options: EnqueueOptions = {},
  db: Db = prisma,
) {
  const key = jobSpec(task, payload, options).job_key;
  if (!key) throw new Error(`${task} jobs have no job key to remove them by`);
  await db.$queryRaw`SELECT graphile_worker.remove_job(${key}::text)`;
}

/** Whether a job of the task is waiting or running in the shop's queue. */
export async function hasPendingJob(task: TaskName, shop: string) {
  const queue = tasks[task].queue;
  if (!queue) throw new Error(`${task} jobs wait in no shop queue`);
  const rows = await prisma.$queryRaw<{ pending: bigint }[]>`
    SELECT count(*) AS pending
    FROM graphile_worker._private_jobs j
    JOIN graphile_worker._private_tasks t ON t.id = j.task_id
    JOIN graphile_worker._private_job_queues q ON q.id = j.job_queue_id
    WHERE t.identifier = ${task} AND q.queue_name = ${shopQueue(queue, shop)} AND j.attempts < j.max_attempts`;
  return Number(rows[0]?.pending ?? 0) > 0;
}

/** shop/redact: every job of the shop that is not running (a running one finishes by itself). */
export async function deleteWaitingJobsOfShop(shop: string, db: Db) {
  const queues = (Object.keys(SHOP_QUEUES) as ShopQueue[]).map((queue) => shopQueue(queue, shop));
  const keys = [jobSpec("shop-details-sync", { shop }, {}).job_key!];
  return db.$executeRaw`
    DELETE FROM graphile_worker._private_jobs j
    WHERE j.locked_at IS NULL
      AND (j.key = ANY(${keys}::text[])
           OR j.job_queue_id IN (SELECT id FROM graphile_worker._private_job_queues WHERE queue_name = ANY(${queues}::text[])))`;
}

// --- What every task does with its failures. ------------------------------------------------------

/** A failure that no retry can mend: the task records it and stops instead of trying again. */
export class PermanentJobError extends Error {}

/** Whether this failure ends the job: it cannot be mended, or it was the job's last attempt. */
export function isFinalAttempt(error: unknown, job: { attempts: number; max_attempts: number }) {
  return error instanceof PermanentJobError || job.attempts >= job.max_attempts;
}
