import type { JobHelpers, Task } from "graphile-worker";
import { logger } from "../../app/logger.server";
import { parsePayload } from "../../app/models/jobs.server";
import {
  getDeliveries,
  markDeliveriesDone,
  recordDeliveryFailure,
  type DeliveryDone,
} from "../../app/models/webhook-deliveries.server";
import { DeliveryBatch, processDelivery } from "../../app/services/webhook-processing.server";

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
  const batch = new DeliveryBatch(deliveries.values());
  const done = new Map<string, DeliveryDone>();
  const failures = new Map<string, unknown>();
  const fail = async (delivery: Delivery, error: unknown) => {
    done.delete(delivery.id);
    if (!(await recordFailure(delivery, error, helpers))) failures.set(delivery.id, error);
  };
  // A delivery named twice (two retries merged into one job) is processed once; both entries share its outcome.
  for (const id of new Set(ids)) {
    const delivery = deliveries.get(id);
    if (!delivery || delivery.status === "processed" || delivery.status === "ignored") continue;
    try {
      done.set(delivery.id, await processOne(delivery, batch));
    } catch (error) {
      await fail(delivery, error);
    }
  }
  // The record syncs are queued together once every delivery has asked for its own; if that fails, each
  // delivery that asked fails as its own processing would have.
  try {
    await batch.queueRecordSyncs();
  } catch (error) {
    for (const id of batch.awaitingSync) await fail(deliveries.get(id)!, error);
  }
  await markDeliveriesDone([...done.values()]);
  return ids.map((id) => {
    if (!failures.has(id)) return Promise.resolve();
    const failed = Promise.reject(failures.get(id));
    failed.catch(() => {});
    return failed;
  });
};

/** Processes one delivery; answers how it ended. */
async function processOne(delivery: Delivery, batch: DeliveryBatch): Promise<DeliveryDone> {
  const outcome = await processDelivery(delivery, batch);
  if (outcome) {
    logger.info({ shop: delivery.shop, topic: delivery.topic, note: outcome.ignored }, "webhook delivery ignored");
  }
  return { id: delivery.id, attempts: delivery.attempts + 1, ignored: outcome?.ignored ?? null };
}

/** Records a failed attempt; answers whether it was the last (the delivery is then failed, not retried). */
async function recordFailure(delivery: Delivery, error: unknown, helpers: JobHelpers) {
  const attempts = delivery.attempts + 1;
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
  return final;
}
