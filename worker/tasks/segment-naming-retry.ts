import type { Task } from "graphile-worker";
import { parsePayload } from "../../app/models/jobs.server";
import { renameFallbackSegments } from "../../app/services/segment-namer.server";

/**
 * Names the segments the LLM could not name during their run. While the
 * model stays down the job fails, and graphile-worker tries again later with
 * growing delays; the standard names stay in place meanwhile.
 */
export const segmentNamingRetry: Task = async (rawPayload, helpers) => {
  const { shop } = parsePayload("segment-naming-retry", rawPayload);
  const stillUnnamed = await renameFallbackSegments(shop, helpers.abortSignal);
  if (stillUnnamed > 0)
    throw new Error(`${stillUnnamed} segment(s) still without a model-written name; retrying later`);
  helpers.logger.info(`segments of ${shop} renamed by the model`);
};
