import { createHash } from "node:crypto";
import type { Prisma, PrismaClient } from "@prisma/client";
import { z } from "zod";
import prisma from "../db.server";

/**
 * The contract between the app and the worker: each task's payload schema,
 * and the one helper that enqueues. Enqueueing is a SQL call, so it can run
 * inside the caller's transaction and commit or roll back with its writes.
 */
export const jobPayloads = {
  "shop-details-sync": z.object({ shop: z.string().min(1) }),
  "pull-start": z.object({ pullId: z.uuid() }),
  "pull-step": z.object({ stepId: z.uuid() }),
  "pull-scheduled": z.object({}).passthrough(),
  "webhook-process": z.object({ deliveryId: z.uuid() }),
  "segmentation-run": z.object({ runId: z.uuid() }),
  "segment-sync": z.object({ syncId: z.uuid() }),
  "segment-naming-retry": z.object({ shop: z.string().min(1) }),
  "sync-records": z.object({
    shop: z.string().min(1),
    resource: z.enum(["customers", "products", "orders"]),
    ids: z
      .array(z.string().regex(/^gid:\/\/shopify\/\w+\/\d+$/))
      .min(1)
      .max(250),
  }),
  "products-enrich": z.object({
    shop: z.string().min(1),
    productIds: z
      .array(z.string().regex(/^gid:\/\/shopify\/Product\/\d+$/))
      .min(1)
      .max(1000)
      .optional(),
  }),
} as const;

export type TaskName = keyof typeof jobPayloads;
export type JobPayload<Name extends TaskName> = z.infer<(typeof jobPayloads)[Name]>;

/**
 * A shop's name inside queue names and job keys. Hashed, so that once a shop
 * is redacted no row of the job queue mentions it.
 */
export function shopKey(shop: string) {
  return createHash("sha256").update(shop).digest("hex").slice(0, 20);
}

/** Lower runs first, as in graphile-worker. */
export const JobPriority = { merchant: 0, install: 5, scheduled: 10 } as const;

export interface EnqueueOptions {
  jobKey?: string;
  /** "replace" (default) updates a pending job with the same key; "preserve_run_at" keeps its schedule. */
  jobKeyMode?: "replace" | "preserve_run_at" | "unsafe_dedupe";
  priority?: number;
  queueName?: string;
  maxAttempts?: number;
  runAt?: Date;
}

type Db = PrismaClient | Prisma.TransactionClient;

export async function enqueueJob<Name extends TaskName>(
  task: Name,
  payload: JobPayload<Name>,
  options: EnqueueOptions = {},
  db: Db = prisma,
): Promise<{ id: string }> {
  const parsed = jobPayloads[task].parse(payload);
  const rows = await db.$queryRaw<{ id: bigint }[]>`
    SELECT id FROM graphile_worker.add_job(
      identifier => ${task}::text,
      payload => ${JSON.stringify(parsed)}::json,
      queue_name => ${options.queueName ?? null}::text,
      run_at => ${options.runAt ?? null}::timestamptz,
      max_attempts => ${options.maxAttempts ?? null}::int,
      job_key => ${options.jobKey ?? null}::text,
      priority => ${options.priority ?? null}::int,
      job_key_mode => ${options.jobKeyMode ?? "replace"}::text
    )`;
  return { id: String(rows[0]!.id) };
}
