import type { Task } from "graphile-worker";
import { PermanentShopifyError } from "../../app/services/admin-api.server";
import { jobPayloads } from "../../app/services/jobs.server";
import { syncRecords } from "../../app/services/record-sync.server";

/** Refreshes the records a webhook named (orders/create, customers/update, products/update). */
export const syncRecordsTask: Task = async (rawPayload, helpers) => {
  const { shop, resource, ids } = jobPayloads["sync-records"].parse(rawPayload);
  try {
    const result = await syncRecords(shop, resource, ids);
    helpers.logger.info(`synced ${result.found} ${resource} (${result.written} rows changed)`);
  } catch (error) {
    // A shop that must re-authenticate will be caught up by its next pull.
    if (error instanceof PermanentShopifyError)
      return helpers.logger.warn(`sync of ${resource} gave up: ${error.message}`);
    throw error;
  }
};
