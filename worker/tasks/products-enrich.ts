import type { Task } from "graphile-worker";
import { logger } from "../../app/logger.server";
import { parsePayload } from "../../app/models/jobs.server";
import { enrichProducts } from "../../app/services/product-enrichment.server";

const PROGRESS_LOG_MS = 2000;

/**
 * Enriches a shop's products (or the listed ones) in batches. Products whose
 * input is unchanged are skipped, so a retried or repeated job pays only for
 * what is left. Stops between batches, and aborts LLM requests, on shutdown.
 */
export const productsEnrich: Task = async (rawPayload, helpers) => {
  const { shop, productIds } = parsePayload("products-enrich", rawPayload);
  const started = Date.now();
  let loggedAt = 0;
  const result = await enrichProducts({
    shop,
    productIds,
    signal: helpers.abortSignal,
    onProgress: (progress) => {
      if (Date.now() - loggedAt < PROGRESS_LOG_MS && progress.processed < progress.total) return;
      loggedAt = Date.now();
      logger.info({ shop, ...progress }, "product enrichment progress");
    },
  });
  logger.info({ shop, ...result, durationMs: Date.now() - started }, "product enrichment finished");
};
