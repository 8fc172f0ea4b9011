import type { Task } from "graphile-worker";
import prisma from "../../app/db.server";
import { logger } from "../../app/logger.server";
import { PermanentShopifyError } from "../../app/services/admin-api.server";
import { jobPayloads } from "../../app/services/jobs.server";
import { processDelivery } from "../../app/services/webhook-processing.server";

/**
 * Processes one recorded webhook delivery. Failures are retried with
 * graphile-worker's exponential backoff; a delivery that fails every attempt
 * stays visible as failed, with its error, and can be retried.
 */
export const webhookProcess: Task = async (rawPayload, helpers) => {
  const { deliveryId } = jobPayloads["webhook-process"].parse(rawPayload);
  const delivery = await prisma.webhookDelivery.findUnique({ where: { id: deliveryId } });
  if (!delivery || delivery.status === "processed") return;
  const attempts = delivery.attempts + 1;
  try {
    await processDelivery(delivery);
    // shop/redact deleted the delivery itself; updateMany tolerates that.
    await prisma.webhookDelivery.updateMany({
      where: { id: deliveryId },
      data: { status: "processed", attempts, processedAt: new Date(), lastError: null },
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const final = error instanceof PermanentShopifyError || helpers.job.attempts >= helpers.job.max_attempts;
    await prisma.webhookDelivery.updateMany({
      where: { id: deliveryId },
      data: { status: final ? "failed" : "received", attempts, lastError: message },
    });
    logger.warn(
      { shop: delivery.shop, topic: delivery.topic, attempts, final, error: message },
      "webhook processing failed",
    );
    if (!final) throw error;
  }
};
