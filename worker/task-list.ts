import type { TaskList } from "graphile-worker";
import type { TaskName } from "../app/models/jobs.server";
import { dataRetention } from "./tasks/data-retention";
import { metafieldSync } from "./tasks/metafield-sync";
import { productsEnrich } from "./tasks/products-enrich";
import { pullScheduled } from "./tasks/pull-scheduled";
import { pullStart } from "./tasks/pull-start";
import { pullStep } from "./tasks/pull-step";
import { segmentNamingRetry } from "./tasks/segment-naming-retry";
import { segmentSync } from "./tasks/segment-sync";
import { segmentationRun } from "./tasks/segmentation-run";
import { shopDetailsSync } from "./tasks/shop-details-sync";
import { syncRecordsTask } from "./tasks/sync-records";
import { webhookProcess } from "./tasks/webhook-process";

/** Every task the worker runs, one file each under worker/tasks. */
export const taskList: Record<TaskName, TaskList[string]> = {
  "shop-details-sync": shopDetailsSync,
  "pull-start": pullStart,
  "pull-step": pullStep,
  "pull-scheduled": pullScheduled,
  "data-retention": dataRetention,
  "webhook-process": webhookProcess,
  "segmentation-run": segmentationRun,
  "segment-sync": segmentSync,
  "metafield-sync": metafieldSync,
  "segment-naming-retry": segmentNamingRetry,
  "sync-records": syncRecordsTask,
  "products-enrich": productsEnrich,
};
