import type { Task } from "graphile-worker";
import { loadConfig } from "../../app/config.server";
import { logger } from "../../app/logger.server";
import { isFinalAttempt, parsePayload } from "../../app/models/jobs.server";
import { confirmIdentityClaims } from "../../app/models/pixel.server";
import {
  bulkOperationFinished,
  enqueuePullStep,
  finishStep,
  getStep,
  markStepRunning,
  recordStepRetry,
  type PullTrigger,
} from "../../app/models/pulls.server";
import { runBulkStep, runPaginatedStep, StepCancelled, watchCancellation } from "../../app/services/pull-runner.server";

const STEP_TIMEOUT_MS = loadConfig().PULL_STEP_TIMEOUT_MS;

/**
 * Pulls one resource of one shop. Transient failures (5xx, network,
 * THROTTLED) are retried by graphile-worker with exponential backoff;
 * permanent ones end the step with a clear error; a bulk operation still
 * running reschedules this job (the bulk_operations/finish webhook brings it
 * forward).
 */
export const pullStep: Task = async (rawPayload, helpers) => {
  const { stepId } = parsePayload("pull-step", rawPayload);
  const step = await getStep(stepId);
  if (!step || ["succeeded", "failed", "cancelled"].includes(step.status)) return;
  const log = { shop: step.shop, resource: step.resource, mode: step.mode, pullId: step.pullId };
  const startedAt = step.startedAt ?? new Date();
  // A step of a pull asked to stop never starts; a step already running goes on to cancel its bulk operation.
  if (step.status !== "running" && !(await markStepRunning(step.id, startedAt))) {
    await finishStep(step, "cancelled");
    logger.info(log, "pull step cancelled before it started");
    return;
  }
  const watch = watchCancellation(step.pullId, helpers.abortSignal ?? new AbortController().signal);
  const context = { ...watch.context, deadline: startedAt.getTime() + STEP_TIMEOUT_MS };

  try {
    const outcome = step.mode === "bulk" ? await runBulkStep(step, context) : await runPaginatedStep(step, context);
    if (outcome.kind === "waiting") {
      // The finish webhook may have come while this job ran (and so could not bring it forward).
      const retryInMs = (await bulkOperationFinished(step.id)) ? 0 : outcome.retryInMs;
      await enqueuePullStep(step, step.pull.trigger as PullTrigger, new Date(Date.now() + retryInMs));
      return;
    }
    // Storefront checkouts waiting for these orders link their visitors now.
    if (step.resource === "orders") await confirmIdentityClaims(step.shop);
    await finishStep(step, outcome.kind === "cancelled" ? "cancelled" : "succeeded");
    logger.info(log, `pull step ${outcome.kind === "cancelled" ? "cancelled" : "finished"}`);
  } catch (error) {
    if (error instanceof StepCancelled || context.cancelled.aborted) {
      await finishStep(step, "cancelled");
      logger.info(log, "pull step cancelled");
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    if (isFinalAttempt(error, helpers.job)) {
      await finishStep(step, "failed", message);
      logger.warn({ ...log, error: message }, "pull step failed");
      return;
    }
    await recordStepRetry(step.id, message);
    throw error;
  } finally {
    watch.stop();
  }
};
