import { recordDeliveries, type IncomingDelivery } from "../models/webhook-deliveries.server";
import { authenticate } from "../shopify.server";
import { GroupCommitter } from "./group-commit.server";
import { metrics } from "./metrics.server";

/**
 * Durable webhook intake, shared by every webhook route: check the HMAC
 * (authenticate.webhook answers 401 on a bad one and nothing is stored),
 * record the delivery once per event and enqueue its processing in the same
 * transaction, then answer 200. Deliveries arriving together share one
 * transaction (group commit), so bursts are answered fast. The worker does
 * the work, in parallel: Shopify promises no order, and every handler is idempotent.
 */
export async function receiveWebhook(request: Request): Promise<Response> {
  const eventId = request.headers.get("x-shopify-event-id");
  const topic = request.headers.get("x-shopify-topic") ?? "";
  const triggeredAt = request.headers.get("x-shopify-triggered-at");
  const { shop, payload, webhookId, apiVersion } = await authenticate.webhook(request);
  await intake.submit({
    shop,
    topic,
    dedupeKey: eventId || webhookId,
    webhookId,
    apiVersion: apiVersion ?? null,
    triggeredAt: triggeredAt && !Number.isNaN(Date.parse(triggeredAt)) ? new Date(triggeredAt) : null,
    payload,
  });
  metrics.webhookDeliveries.inc({ topic });
  return new Response(null, { status: 200 });
}

const intake = new GroupCommitter<IncomingDelivery, void>(
  async (deliveries) => {
    await recordDeliveries(deliveries);
    return deliveries.map(() => undefined);
  },
  { maxBatch: 200, maxConcurrent: 2 },
);
