import type { Prisma } from "@prisma/client";
import { priorityFor, stepsOfBulkOperation, type PullTrigger } from "../models/pulls.server";
import { enqueueJob, shopKey } from "./jobs.server";

/** Enqueues (or brings forward) the job of a pull step. The job key keeps one job per step. */
export function enqueuePullStep(
  step: { id: string; shop: string },
  trigger: PullTrigger,
  runAt?: Date,
  db?: Prisma.TransactionClient,
) {
  return enqueueJob(
    "pull-step",
    { stepId: step.id },
    {
      jobKey: `pull-step:${step.id}`,
      queueName: `pull:${shopKey(step.shop)}`,
      priority: priorityFor(trigger),
      runAt,
      maxAttempts: 8,
    },
    db,
  );
}

/** Called by the bulk_operations/finish webhook. */
export async function continueStepsOfBulkOperation(shop: string, bulkOperationId: string) {
  const steps = (await stepsOfBulkOperation(bulkOperationId)).filter((step) => step.shop === shop);
  for (const step of steps) await enqueuePullStep(step, step.pull.trigger as PullTrigger);
  return steps.length;
}
