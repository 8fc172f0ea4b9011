import type { Task } from "graphile-worker";
import { parsePayload } from "../../app/models/jobs.server";
import { startPull } from "../../app/models/pulls.server";

/** Starts a pull: one pull-step job per resource, serialised per shop so steps never share the rate limit. */
export const pullStart: Task = async (rawPayload) => {
  const { pullId } = parsePayload("pull-start", rawPayload);
  await startPull(pullId);
};
