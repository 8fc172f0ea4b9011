import { randomUUID } from "node:crypto";
import prisma, { withPgTransaction } from "../db.server";
import { ADD_JOB_SPECS, enqueueJob, isFinalAttempt, jobSpecs } from "./jobs.server";

/**
 * Webhook deliveries: recorded once per event with their processing job,
 * and the state of that processing (received, processed, failed). Only this
 * module writes a delivery's status.
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
  await enqueueJob("webhook-process", { deliveryId: id });
  return true;
}

export function getDelivery(id: string) {
  return prisma.webhookDelivery.findUnique({ where: { id } });
}

/** Processed; a delivery that its own processing deleted (shop/redact) is left gone. */
export async function markDeliveryProcessed(id: string, attempts: number) {
  await prisma.webhookDelivery.updateMany({
    where: { id },
    data: { status: "processed", attempts, processedAt: new Date(), lastError: null },
  });
}

/** Recorded and deliberately not acted on; the note says why (for the merchant, the operator and the review). */
export async function markDeliveryIgnored(id: string, attempts: number, note: string) {
  await prisma.webhookDelivery.updateMany({
    where: { id },
    data: { status: "ignored", attempts, processedAt: new Date(), lastError: null, note },
  });
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
 * Records deliveries once per (shop, event) and enqueues a processing job
 * for each new one, in one transaction: a delivery is never recorded without
 * its job, nor a job queued for a delivery that is not.
 */
export async function recordDeliveries(deliveries: IncomingDelivery[]) {
  const ids = deliveries.map(() => randomUUID());
  const jobs = jobSpecs(
    "webhook-process",
    ids.map((deliveryId) => ({ payload: { deliveryId } })),
  );
  await withPgTransaction((client) =>
    client.query(
      `WITH inserted AS (
         INSERT INTO "WebhookDelivery" (id, shop, topic, "dedupeKey", "webhookId", "apiVersion", "triggeredAt", payload)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::jsonb[])
         ON CONFLICT (shop, "dedupeKey") DO NOTHING
         RETURNING id
       )
       SELECT ${ADD_JOB_SPECS}
       FROM json_populate_recordset(NULL::graphile_worker.job_spec, $9::json) spec
       WHERE (spec.payload->>'deliveryId')::uuid IN (SELECT id FROM inserted)
       HAVING count(*) > 0`,
      [
        ids,
        deliveries.map((d) => d.shop),
        deliveries.map((d) => d.topic),
        deliveries.map((d) => d.dedupeKey),
        deliveries.map((d) => d.webhookId),
        deliveries.map((d) => d.apiVersion),
        deliveries.map((d) => d.triggeredAt),
        deliveries.map((d) => d.payloadJson),
        jobs,
      ],
    ),
  );
}

/**
 * Retention: the payloads (customers' emails, addresses) of deliveries processed before `cutoff` are nulled,
 * in batches that commit on their own and skip rows another transaction holds; the records stay, so a repeated
 * delivery is still recognised. Answers how many were pruned.
 */
export async function prunePayloadsProcessedBefore(cutoff: Date, batchSize = 1000) {
  let pruned = 0;
  for (;;) {
    const count = await prisma.$executeRaw`
      UPDATE "WebhookDelivery" SET payload = NULL
      WHERE id IN (
        SELECT id FROM "WebhookDelivery"
        WHERE status = 'processed' AND "processedAt" < ${cutoff} AND payload IS NOT NULL
        LIMIT ${batchSize} FOR UPDATE SKIP LOCKED)`;
    pruned += count;
    if (count < batchSize) return pruned;
  }
}
