import type { Task } from "graphile-worker";
import prisma from "../../app/db.server";
import type { PullTrigger } from "../../app/models/pulls.server";
import { jobPayloads } from "../../app/services/jobs.server";
import { enqueuePullStep } from "../../app/services/pull-jobs.server";

/** Starts a pull: one pull-step job per resource, serialised per shop so steps never share the rate limit. */
export const pullStart: Task = async (rawPayload) => {
  const { pullId } = jobPayloads["pull-start"].parse(rawPayload);
  const pull = await prisma.dataPull.findUnique({ where: { id: pullId }, include: { steps: true } });
  if (!pull || pull.status !== "queued") return;
  await prisma.$transaction(async (tx) => {
    await tx.dataPull.update({ where: { id: pullId }, data: { status: "running", startedAt: new Date() } });
    for (const step of pull.steps) await enqueuePullStep(step, pull.trigger as PullTrigger, undefined, tx);
  });
};
