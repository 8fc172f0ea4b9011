import prisma from "../db.server";
import { authenticate } from "../shopify.server";
import { enqueueJob, JobPriority, shopKey } from "./jobs.server";

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
  await prisma.$transaction(async (tx) => {
    const inserted = await tx.$queryRaw<{ id: string }[]>`
      INSERT INTO "WebhookDelivery" (id, shop, topic, "dedupeKey", "webhookId", "apiVersion", "triggeredAt", payload)
      VALUES (gen_random_uuid(), ${shop}, ${topic}, ${dedupeKey}, ${webhookId}, ${apiVersion}, ${triggered}, ${JSON.stringify(payload)}::jsonb)
      ON CONFLICT (shop, "dedupeKey") DO NOTHING
      RETURNING id::text`;
    if (inserted[0]) {
      await enqueueWebhookProcessing(shop, inserted[0].id, tx);
    }
  });
  return new Response(null, { status: 200 });
}

export function enqueueWebhookProcessing(shop: string, deliveryId: string, db?: Parameters<typeof enqueueJob>[3]) {
  // One queue per shop: a shop's events are handled in the order they arrived.
  return enqueueJob(
    "webhook-process",
    { deliveryId },
    {
      queueName: `webhooks:${shopKey(shop)}`,
      maxAttempts: 10,
      priority: JobPriority.merchant,
      jobKey: `webhook:${deliveryId}`,
    },
    db,
  );
}
