import { randomUUID } from "node:crypto";
import type { WebhookDelivery } from "@prisma/client";
import prisma, { pgPool } from "../db.server";
import { ADD_JOB_SPECS, enqueueJob, isFinalAttempt, jobSpecs } from "./jobs.server";

/**
 * Webhook deliveries: recorded once per event with their processing job,
 * and the state of that processing (received, processed, failed). Only this
 * module writes a delivery's status. What every delivery goes through (intake,
 * a batch's load and its outcome) runs on the plain pg pool: Prisma's own cost
 * per query (1 to 3 ms of CPU) was most of the worker's work in a burst.
 */

/** Deliveries that failed every attempt, for the merchant to see and retry. */
export function failedDeliveries(shop: string, take = 20) {
  return prisma.webhookDelivery.findMany({
    where: { shop, status: "failed" },
    orderBy: { receivedAt: "desc" },
    take,
    select: { id: true, topic: true, attempts: true, lastError: true, receivedAt: true },
  });
}

export async function retryDelivery(shop: string, id: string) {
  const updated = await prisma.webhookDelivery.updateMany({
    where: { id, shop, status: "failed" },
    data: { status: "received", lastError: null },
  });
  if (updated.count === 0) return false;
  await enqueueJob("webhook-process", [{ deliveryId: id }]);
  return true;
}

/** The deliveries of these ids that exist, by id. */
export async function getDeliveries(ids: string[]) {
  const found = await pgPool.query<WebhookDelivery>(`SELECT * FROM "WebhookDelivery" WHERE id = ANY($1::uuid[])`, [
    ids,
  ]);
  return new Map(found.rows.map((delivery) => [delivery.id, delivery]));
}

export interface DeliveryDone {
  id: string;
  attempts: number;
  /** Why it was deliberately not acted on ("ignored"); null when it was processed. */
  ignored: string | null;
}

/**
 * Processed or ignored, many in one statement (a batch job's deliveries); a delivery that its own processing
 * deleted (shop/redact) is left gone.
 */
export async function markDeliveriesDone(done: DeliveryDone[]) {
  if (done.length === 0) return;
  await pgPool.query(
    `UPDATE "WebhookDelivery" d
     SET status = CASE WHEN u.note IS NULL THEN 'processed' ELSE 'ignored' END,
         attempts = u.attempts, "processedAt" = now(), "lastError" = NULL, note = u.note
     FROM unnest($1::uuid[], $2::int[], $3::text[]) AS u(id, attempts, note)
     WHERE d.id = u.id`,
    [done.map((d) => d.id), done.map((d) => d.attempts), done.map((d) => d.ignored)],
  );
}

/** A failed attempt: "failed" once no retry is left, else back to "received" until the next one. */
export async function recordDeliveryFailure(
  id: string,
  attempts: number,
  error: unknown,
  job: { attempts: number; max_attempts: number },
) {
  const final = isFinalAttempt(error, job);
  await prisma.webhookDelivery.updateMany({
    where: { id },
    data: {
      status: final ? "failed" : "received",
      attempts,
      lastError: error instanceof Error ? error.message : String(error),
    },
  });
  return final;
}

export interface IncomingDelivery {
  shop: string;
  topic: string;
  dedupeKey: string;
  webhookId: string;
  apiVersion: string | null;
  triggeredAt: Date | null;
  /** The payload as JSON text, stored as it came (its signature was checked on these bytes). */
  payloadJson: string;
}

/**
 * Records deliveries once per (shop, event) and enqueues one processing job
 * (a batch job) for the new ones, in one transaction: a delivery is never
 * recorded without its job, nor a job queued for a delivery that is not.
 */
export async function recordDeliveries(deliveries: IncomingDelivery[]) {
  const ids = deliveries.map(() => randomUUID());
  // The job's settings come from its declaration; its payload becomes the deliveries the insert kept (a job key
  // only when there is one delivery, and then it is that one's).
  const job = jobSpecs("webhook-process", [{ payload: ids.map((deliveryId) => ({ deliveryId })) }]);
  // One statement, so one transaction of its own (no BEGIN and COMMIT round trips): the deliveries and their
  // job commit together or not at all.
  await pgPool.query(
    `WITH inserted AS (
         INSERT INTO "WebhookDelivery" (id, shop, topic, "dedupeKey", "webhookId", "apiVersion", "triggeredAt", payload)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::jsonb[])
         ON CONFLICT (shop, "dedupeKey") DO NOTHING
         RETURNING id
       ), kept AS (
         SELECT jsonb_agg(jsonb_build_object('deliveryId', id)) AS payload, count(*) AS n FROM inserted
       )
       SELECT ${ADD_JOB_SPECS}
       FROM kept, jsonb_populate_record(NULL::graphile_worker.job_spec, jsonb_set($9::jsonb -> 0, '{payload}', kept.payload)) spec
       WHERE kept.n > 0`,
    [
      ids,
      deliveries.map((d) => d.shop),
      deliveries.map((d) => d.topic),
      deliveries.map((d) => d.dedupeKey),
      deliveries.map((d) => d.webhookId),
      deliveries.map((d) => d.apiVersion),
      deliveries.map((d) => d.triggeredAt),
      deliveries.map((d) => d.payloadJson),
      job,
    ],
  );
}

/**
 * Retention: the payloads (customers' emails, addresses) of deliveries processed, or deliberately left alone
 * (ignored), before `cutoff` are nulled, in batches that commit on their own and skip rows another transaction
 * holds; the records stay (deleteDeliveriesProcessedBefore removes them later), so a repeated delivery is
 * still recognised. Answers how many were pruned.
 */
export async function prunePayloadsProcessedBefore(cutoff: Date, batchSize = 1000) {
  return inBatches(
    batchSize,
    () => prisma.$executeRaw`
      UPDATE "WebhookDelivery" SET payload = NULL
      WHERE id IN (
        SELECT id FROM "WebhookDelivery"
        WHERE status IN ('processed', 'ignored') AND "processedAt" < ${cutoff} AND payload IS NOT NULL
        LIMIT ${batchSize} FOR UPDATE SKIP LOCKED)`,
  );
}

/**
 * Deletes the records of deliveries processed (or ignored) before `cutoff`, a batch at a time; failed ones stay
 * for the merchant to retry. Answers how many.
 */
export async function deleteDeliveriesProcessedBefore(cutoff: Date, batchSize = 1000) {
  return inBatches(
    batchSize,
    () => prisma.$executeRaw`
      DELETE FROM "WebhookDelivery"
      WHERE id IN (
        SELECT id FROM "WebhookDelivery"
        WHERE status IN ('processed', 'ignored') AND "processedAt" < ${cutoff}
        LIMIT ${batchSize} FOR UPDATE SKIP LOCKED)`,
  );
}

/** Runs a statement that changes at most `batchSize` rows until it changes fewer; answers how many in all. */
async function inBatches(batchSize: number, statement: () => Promise<number>) {
  let changed = 0;
  for (;;) {
    const count = await statement();
    changed += count;
    if (count < batchSize) return changed;
  }
}
