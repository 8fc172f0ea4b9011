import type pg from "pg";
import prisma from "../db.server";
import { enqueueWebhookProcessing } from "../services/webhooks.server";

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
  await enqueueWebhookProcessing(id);
  return true;
}

export interface IncomingDelivery {
  shop: string;
  topic: string;
  dedupeKey: string;
  webhookId: string;
  apiVersion: string | null;
  triggeredAt: Date | null;
  payload: unknown;
}

/**
 * Records deliveries once per (shop, event) and enqueues a processing job
 * for each new one, in the caller's transaction: a delivery is never
 * recorded without its job, nor a job queued for a delivery that is not.
 */
export async function recordDeliveries(client: pg.ClientBase, deliveries: IncomingDelivery[], priority: number) {
  await client.query(
    `WITH inserted AS (
       INSERT INTO "WebhookDelivery" (id, shop, topic, "dedupeKey", "webhookId", "apiVersion", "triggeredAt", payload)
       SELECT gen_random_uuid(), * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::jsonb[])
       ON CONFLICT (shop, "dedupeKey") DO NOTHING
       RETURNING id::text
     )
     SELECT graphile_worker.add_jobs(array_agg(
       ROW('webhook-process', json_build_object('deliveryId', id), NULL, NULL, 10, 'webhook:' || id, $8::int, NULL)::graphile_worker.job_spec
     ))
     FROM inserted HAVING count(*) > 0`,
    [
      deliveries.map((d) => d.shop),
      deliveries.map((d) => d.topic),
      deliveries.map((d) => d.dedupeKey),
      deliveries.map((d) => d.webhookId),
      deliveries.map((d) => d.apiVersion),
      deliveries.map((d) => d.triggeredAt),
      deliveries.map((d) => JSON.stringify(d.payload)),
      priority,
    ],
  );
}
