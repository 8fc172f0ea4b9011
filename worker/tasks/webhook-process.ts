import type { JobHelpers, Task } from "graphile-worker";
import { logger } from "../../app/logger.server";
import { parsePayload } from "../../app/models/jobs.server";
import {
  getDeliveries,
  markDeliveriesDone,
  recordDeliveryFailure,
  type DeliveryDone,
} from "../../app/models/webhook-deliveries.server";
import { processDelivery } from "../../app/services/webhook-processing.server";

type Delivery = NonNullable<ReturnType<Awaited<ReturnType<typeof getDeliveries>>["get"]>>;

/**
 * Processes the recorded webhook deliveries of one intake commit, one after
 * another, as a graphile-worker batch job: it answers one outcome per entry,
 * and only the deliveries that failed come back, with graphile-worker's
 * exponential backoff. Those done are marked in one statement at the end (if
 * that fails, all come back: every handler is idempotent). A delivery that
 * fails every attempt stays visible as failed, with its error, and can be
 * retried. A delivery the shop's state leaves alone is marked ignored, with
 * why, and never retried.
 */
export const webhookProcess: Task = async (rawPayload, helpers) => {
  const entries = parsePayload("webhook-process", rawPayload);
  const ids = entries.map((entry) => entry.deliveryId);
  const deliveries = await getDeliveries(ids);
  const done: DeliveryDone[] = [];
  const failures = new Map<string, unknown>();
  // A delivery named twice (two retries merged into one job) is processed once; both entries share its outcome.
  for (const id of new Set(ids)) {
    try {
      const outcome = await processOne(deliveries.get(id), helpers);
      if (outcome) done.push(outcome);
    } catch (error) {
      failures.set(id, error);
    }
  }
  await markDeliveriesDone(done);
  return ids.map((id) => {
    if (!failures.has(id)) return Promise.resolve();
    const failed = Promise.reject(failures.get(id));
    failed.catch(() => {});
    return failed;
  });
};

/** Processes one delivery; answers how it ended, or nothing when there is nothing to do (gone, or done before). */
async function processOne(delivery: Delivery | undefined, helpers: JobHelpers): Promise<DeliveryDone | undefined> {
  if (!delivery || delivery.status === "processed" || delivery.status === "ignored") return undefined;
  const attempts = delivery.attempts + 1;
  try {
    const outcome = await processDelivery(delivery);
    if (outcome) {
      logger.info({ shop: delivery.shop, topic: delivery.topic, note: outcome.ignored }, "webhook delivery ignored");
    }
    return { id: delivery.id, attempts, ignored: outcome?.ignored ?? null };
  } catch (error) {
    const final = await recordDeliveryFailure(delivery.id, attempts, error, helpers.job);
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
    return undefined;
  }
}
