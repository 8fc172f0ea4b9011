import { withPgTransaction } from "../db.server";
import { authenticate } from "../shopify.server";
import { enqueueJob, JobPriority } from "./jobs.server";

/**
 * Durable webhook intake, shared by every webhook route: check the HMAC
 * (authenticate.webhook answers 401 on a bad one and nothing is stored),
 * record the delivery once per event, enqueue its processing in the same
 * transaction, and answer 200 at once. The worker does the work.
 */
export async function receiveWebhook(request: Request): Promise<Response> {
  const eventId = request.headers.get("x-shopify-event-id");
  const topic = request.headers.get("x-shopify-topic") ?? "";
  const triggeredAt = request.headers.get("x-shopify-triggered-at");
  const { shop, payload, webhookId, apiVersion } = await authenticate.webhook(request);
  const dedupeKey = eventId || webhookId;
  const triggered = triggeredAt && !Number.isNaN(Date.parse(triggeredAt)) ? new Date(triggeredAt) : null;
  // Plain SQL on one pooled connection: two statements, one transaction, as few round trips as possible.
  await withPgTransaction(async (client) => {
    const inserted = await client.query<{ id: string }>(
      `INSERT INTO "WebhookDelivery" (id, shop, topic, "dedupeKey", "webhookId", "apiVersion", "triggeredAt", payload)
       VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7::jsonb)
       ON CONFLICT (shop, "dedupeKey") DO NOTHING
       RETURNING id::text`,
      [shop, topic, dedupeKey, webhookId, apiVersion, triggered, JSON.stringify(payload)],
    );
    const deliveryId = inserted.rows[0]?.id;
    if (deliveryId) {
      await client.query(
        `SELECT graphile_worker.add_job('webhook-process', json_build_object('deliveryId', $1::text), max_attempts => 10,
           priority => $2::int, job_key => $3::text)`,
        [deliveryId, JobPriority.merchant, `webhook:${deliveryId}`],
      );
    }
  });
  return new Response(null, { status: 200 });
}

/**
 * Used to retry a failed delivery. Deliveries are processed in parallel:
 * Shopify promises no order, and every handler is idempotent.
 */
export function enqueueWebhookProcessing(deliveryId: string) {
  return enqueueJob(
    "webhook-process",
    { deliveryId },
    { maxAttempts: 10, priority: JobPriority.merchant, jobKey: `webhook:${deliveryId}` },
  );
}
