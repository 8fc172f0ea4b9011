import type { Task } from "graphile-worker";
import { logger } from "../../app/logger.server";
import { parsePayload } from "../../app/models/jobs.server";
import {
  getDelivery,
  markDeliveryIgnored,
  markDeliveryProcessed,
  recordDeliveryFailure,
} from "../../app/models/webhook-deliveries.server";
import { processDelivery } from "../../app/services/webhook-processing.server";

/**
 * Processes one recorded webhook delivery. Failures are retried with
 * graphile-worker's exponential backoff; a delivery that fails every attempt
 * stays visible as failed, with its error, and can be retried. A delivery the
 * shop's state leaves alone is marked ignored, with why, and never retried.
 */
export const webhookProcess: Task = async (rawPayload, helpers) => {
  const { deliveryId } = parsePayload("webhook-process", rawPayload);
  const delivery = await getDelivery(deliveryId);
  if (!delivery || delivery.status === "processed" || delivery.status === "ignored") return;
  const attempts = delivery.attempts + 1;
  try {
    const outcome = await processDelivery(delivery);
    if (outcome) {
      await markDeliveryIgnored(deliveryId, attempts, outcome.ignored);
      logger.info({ shop: delivery.shop, topic: delivery.topic, note: outcome.ignored }, "webhook delivery ignored");
    } else await markDeliveryProcessed(deliveryId, attempts);
  } catch (error) {
    const final = await recordDeliveryFailure(deliveryId, attempts, error, helpers.job);
    logger.warn(
      {
        shop: delivery.shop,
        topic: delivery.topic,
        attempts,
        final,
        error: error instanceof Error ? error.message : String(error),
      },
      "webhook processing failed",
    );
    if (!final) throw error;
  }
};
