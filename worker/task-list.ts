import type { TaskList } from "graphile-worker";
import type { TaskName } from "../app/services/jobs.server";
import { shopDetailsSync } from "./tasks/shop-details-sync";

/** Every task the worker runs, one file each under worker/tasks. */
export const taskList: Record<TaskName, TaskList[string]> = {
  "shop-details-sync": shopDetailsSync,
};
