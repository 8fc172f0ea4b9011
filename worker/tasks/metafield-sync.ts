import type { Task } from "graphile-worker";
import { logger } from "../../app/logger.server";
import { updateMetafieldSync } from "../../app/models/customer-metafields.server";
import { isFinalAttempt, parsePayload } from "../../app/models/jobs.server";
import { executeMetafieldSync, failMetafieldSync } from "../../app/services/customer-metafields.server";

/**
 * Writes a run's predictions to Shopify as customer metafields. Transient
 * failures are retried with backoff and send only what is still different;
 * permanent ones end the sync with a clear error.
 */
export const metafieldSync: Task = async (rawPayload, helpers) => {
  const { syncId } = parsePayload("metafield-sync", rawPayload);
  try {
    await executeMetafieldSync(syncId, helpers.abortSignal);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const final = isFinalAttempt(error, helpers.job);
    if (final) await failMetafieldSync(syncId, message);
    else await updateMetafieldSync(syncId, { status: "queued", error: `retrying: ${message}` });
    logger.warn({ syncId, final, error: message }, "customer metafield sync failed");
    if (!final) throw error;
  }
};
