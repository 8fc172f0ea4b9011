import type { Task } from "graphile-worker";
import { logger } from "../../app/logger.server";
import { updateRun } from "../../app/models/segmentation-runs.server";
import { isFinalAttempt, parsePayload } from "../../app/models/jobs.server";
import { executeSegmentationRun, RunInterrupted } from "../../app/services/segmentation-run.server";

/**
 * Runs one segmentation of a shop: RFM, micro-segments, predictions, then
 * names. A failure is retried with backoff; after the last attempt the run is
 * recorded as failed with its error (segments already stored stay).
 */
export const segmentationRun: Task = async (rawPayload, helpers) => {
  const { runId } = parsePayload("segmentation-run", rawPayload);
  try {
    await executeSegmentationRun(runId, { signal: helpers.abortSignal });
  } catch (error) {
    if (error instanceof RunInterrupted) throw error;
    const message = error instanceof Error ? error.message : String(error);
    const final = isFinalAttempt(error, helpers.job);
    await updateRun(
      runId,
      final
        ? { status: "failed", error: message, finishedAt: new Date() }
        : { status: "queued", error: `retrying: ${message}` },
    );
    logger.warn({ runId, final, error: message }, "segmentation run failed");
    if (!final) throw error;
  }
};
