import type { Task } from "graphile-worker";
import { applyRetention } from "../../app/services/data-retention.server";

/** Daily (the crontab in worker/index.ts): removes what is kept no longer (app/services/data-retention.server.ts). */
export const dataRetention: Task = async (_payload, helpers) => {
  const report = await applyRetention();
  helpers.logger.info("data retention done", { ...report });
  // Thrown after the rest is done, so graphile-worker tries the deferred partition changes again later.
  if (report.deferred.length > 0) throw new Error(`data retention deferred: ${report.deferred.join("; ")}`);
};
