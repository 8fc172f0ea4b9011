import { once } from "node:events";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@prisma/client";
import { afterAll, describe, expect, it } from "vitest";
import { enqueueJob } from "../../app/models/jobs.server";
import { createSimulator } from "../../simulator/server";
import { TEST_APP } from "../helpers/app-env";
import { recordInstall } from "../helpers/installed-shop";
import { startWorker, waitFor } from "../helpers/processes";

const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL! }) });
const simulator = createSimulator({
  apiKey: TEST_APP.apiKey,
  apiSecret: TEST_APP.apiSecret,
  scopes: TEST_APP.scopes,
  adminLatencyMs: 1500,
});

afterAll(async () => {
  await simulator.close();
  await prisma.$disconnect();
});

async function installedShop(domain: string) {
  simulator.store.addShop({ domain, name: "Slow Network Supplies" });
  await recordInstall(simulator, prisma, domain);
}

describe("worker graceful shutdown", () => {
  it("finishes the running job on SIGTERM, then exits 0 and leaves no locked job", async () => {
    const domain = `shutdown-${Date.now()}.myshopify.com`;
    await installedShop(domain);
    const simulatorUrl = await simulator.listen();
    const { id } = await enqueueJob("shop-details-sync", { shop: domain });
    // Listen before the worker starts: it may reach the Admin API before startWorker returns.
    const jobReachedShopify = once(simulator.events, "adminRequest");
    const worker = await startWorker({
      ...TEST_APP.env,
      DATABASE_URL: process.env.DATABASE_URL!,
      SHOPIFY_SIMULATOR_URL: simulatorUrl,
    });

    await jobReachedShopify;
    const exitCode = await worker.stop("SIGTERM");

    // On a failure, how it ended and what it said: a signal means the worker did not handle SIGTERM.
    expect({ exitCode, signal: worker.child.signalCode }, worker.output().slice(-3000)).toEqual({
      exitCode: 0,
      signal: null,
    });
    expect(worker.output()).toContain("worker draining");
    const shop = await prisma.shop.findUniqueOrThrow({ where: { domain } });
    expect(shop.name).toBe("Slow Network Supplies");
    const remaining = await prisma.$queryRaw<{ count: bigint }[]>`
      SELECT count(*) FROM graphile_worker._private_jobs WHERE id = ${BigInt(id)}`;
    expect(remaining[0]!.count).toBe(0n);
    const heartbeats = await waitFor(async () => {
      const rows = await prisma.workerHeartbeat.findMany({ where: { pid: worker.child.pid } });
      return rows.length === 0 ? "gone" : undefined;
    });
    expect(heartbeats).toBe("gone");
  });
});

describe("worker start", () => {
  it("leaves a data-retention run already under way on another worker alone, rather than superseding it", async () => {
    await prisma.$executeRaw`DELETE FROM graphile_worker._private_jobs WHERE key = 'data-retention'`;
    const { id } = await enqueueJob("data-retention", {});
    // Another worker, alive (it has no stale heartbeat), is on its first attempt.
    await prisma.$executeRaw`
      UPDATE graphile_worker._private_jobs SET locked_at = now(), locked_by = 'pool-of-another-worker', attempts = 1
      WHERE id = ${BigInt(id)}`;
    const worker = await startWorker({ ...TEST_APP.env, DATABASE_URL: process.env.DATABASE_URL! });
    try {
      const jobs = await prisma.$queryRaw<{ id: bigint; key: string | null; attempts: number; max_attempts: number }[]>`
        SELECT j.id, j.key, j.attempts, j.max_attempts FROM graphile_worker._private_jobs j
        JOIN graphile_worker._private_tasks t ON t.id = j.task_id WHERE t.identifier = 'data-retention'`;
      // Superseding it would clear its key and spend its attempts: had that worker then died, the released job
      // would stay behind as failed although its replacement did the work.
      expect(jobs).toEqual([{ id: BigInt(id), key: "data-retention", attempts: 1, max_attempts: 5 }]);
    } finally {
      await worker.stop("SIGTERM");
    }
  });
});
