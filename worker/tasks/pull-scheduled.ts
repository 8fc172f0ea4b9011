import type { Task } from "graphile-worker";
import { createPull, hasActivePull, shopsForScheduledPull } from "../../app/models/pulls.server";

/** Daily (the crontab in worker/index.ts): an incremental pull for every installed shop, behind merchant-started work. */
export const pullScheduled: Task = async (_payload, helpers) => {
  let started = 0;
  for (const shop of await shopsForScheduledPull()) {
    if (await hasActivePull(shop)) continue;
    await createPull({ shop, kind: "incremental", trigger: "schedule" });
    started++;
  }
  helpers.logger.info(`scheduled incremental pulls for ${started} shop(s)`);
};
