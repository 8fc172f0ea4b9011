import type { Task } from "graphile-worker";
import { logger } from "../../app/logger.server";
import { updateSync } from "../../app/models/segment-syncs.server";
import { isFinalAttempt, parsePayload } from "../../app/models/jobs.server";
import { executeSegmentSync, failSegmentSync } from "../../app/services/segment-sync.server";

/**
 * Pushes one segment to Shopify (tags, then the Shopify segment). Transient
 * failures are retried with backoff and resume after the last recorded batch;
 * permanent ones end the push with a clear error.
 */
export const segmentSync: Task = async (rawPayload, helpers) => {
  const { syncId } = parsePayload("segment-sync", rawPayload);
  try {
    await executeSegmentSync(syncId, helpers.abortSignal);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const final = isFinalAttempt(error, helpers.job);
    if (final) await failSegmentSync(syncId, message);
    else await updateSync(syncId, { error: `retrying: ${message}` });
    logger.warn({ syncId, final, error: message }, "segment push failed");
    if (!final) throw error;
  }
};
