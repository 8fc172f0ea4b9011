import type { Task } from "graphile-worker";
import { PermanentJobError, parsePayload } from "../../app/models/jobs.server";
import { syncRecords } from "../../app/services/record-sync.server";

/** Refreshes the records a webhook named (orders/create, customers/update, products/update). */
export const syncRecordsTask: Task = async (rawPayload, helpers) => {
  const { shop, resource, ids } = parsePayload("sync-records", rawPayload);
  try {
    const result = await syncRecords(shop, resource, ids);
    helpers.logger.info(`synced ${result.found} ${resource} (${result.written} rows changed)`);
  } catch (error) {
    // A shop that must re-authenticate will be caught up by its next pull.
    if (error instanceof PermanentJobError) return helpers.logger.warn(`sync of ${resource} gave up: ${error.message}`);
    throw error;
  }
};
