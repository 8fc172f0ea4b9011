import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import { enqueueJob } from "../../app/models/jobs.server";

/** The one way to enqueue: job keys, and leaving a running job alone. */

const jobOfStep = async (stepId: string) =>
  prisma.$queryRaw<{ id: bigint; key: string | null; attempts: number; run_at: Date; locked_at: Date | null }[]>`
    SELECT id, key, attempts, run_at, locked_at FROM graphile_worker._private_jobs
    WHERE payload->>'stepId' = ${stepId}`;

describe("enqueueJob", () => {
  const shop = `jobs-${Date.now()}.myshopify.com`;

  it("keeps one job per key and moves a waiting one to the new time", async () => {
    const stepId = randomUUID();
    const later = new Date(Date.now() + 3_600_000);
    await enqueueJob("pull-step", { stepId }, { shop, runAt: later });
    const brought = await enqueueJob("pull-step", { stepId }, { shop, unlessRunning: true });

    const jobs = await jobOfStep(stepId);
    expect(jobs).toHaveLength(1);
    expect(String(jobs[0]!.id)).toBe(brought!.id);
    expect(jobs[0]!.run_at.getTime()).toBeLessThan(later.getTime() - 3_000_000);
  });

  it("with unlessRunning, leaves a running job's key and attempts as they were", async () => {
    const stepId = randomUUID();
    const { id } = await enqueueJob("pull-step", { stepId }, { shop });
    await prisma.$executeRaw`
      UPDATE graphile_worker._private_jobs SET locked_at = now(), locked_by = 'test-worker', attempts = 1
      WHERE id = ${BigInt(id)}`;

    expect(await enqueueJob("pull-step", { stepId }, { shop, unlessRunning: true })).toBeNull();
    const [job, ...others] = await jobOfStep(stepId);
    expect(others).toHaveLength(0);
    expect(job!.key).not.toBeNull();
    expect(job!.attempts).toBe(1);

    // Without the option graphile-worker supersedes the running job: the case the option exists for.
    await enqueueJob("pull-step", { stepId }, { shop });
    const superseded = (await jobOfStep(stepId)).find((row) => String(row.id) === id)!;
    expect(superseded.key).toBeNull();
    await prisma.$executeRaw`DELETE FROM graphile_worker._private_jobs WHERE payload->>'stepId' = ${stepId}`;
  });
});
