import { randomUUID } from "node:crypto";
import type { JobHelpers } from "graphile-worker";
import { afterAll, describe, expect, it, vi } from "vitest";
import prisma, { pgPool } from "../../app/db.server";
import { recordDeliveries, type IncomingDelivery } from "../../app/models/webhook-deliveries.server";
import { webhookProcess } from "../../worker/tasks/webhook-process";
import { webhookFixture } from "../helpers/payload-shape";

/**
 * The webhook-process task as a graphile-worker batch job: one job for the
 * deliveries an intake commit kept, each delivery processed on its own, and
 * only those that failed handed back for a retry.
 */

// Fault injection: a delivery whose dedupe key starts with "flaky" fails as a database outage would (a
// transient error); every other delivery runs the real handler.
vi.mock("../../app/services/webhook-processing.server", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../app/services/webhook-processing.server")>();
  return {
    ...real,
    processDelivery: async (delivery: Parameters<typeof real.processDelivery>[0]) => {
      if (delivery.dedupeKey.startsWith("flaky")) throw new Error("connection terminated unexpectedly");
      return real.processDelivery(delivery);
    },
  };
});

const newShop = (name: string) => `${name}-${randomUUID().slice(0, 8)}.myshopify.com`;

afterAll(async () => {
  await prisma.$disconnect();
  await pgPool.end();
});

function incoming(shop: string, payload: unknown, dedupeKey: string = randomUUID()): IncomingDelivery {
  return {
    shop,
    topic: "app/scopes_update",
    dedupeKey,
    webhookId: randomUUID(),
    apiVersion: "2026-10",
    triggeredAt: null,
    payloadJson: JSON.stringify(payload),
  };
}

async function jobsFor(shop: string) {
  const ids = (await prisma.webhookDelivery.findMany({ where: { shop }, select: { id: true } })).map((d) => d.id);
  return prisma.$queryRaw<{ payload: { deliveryId: string }[]; key: string | null }[]>`
    SELECT j.payload, j.key FROM graphile_worker._private_jobs j
    JOIN graphile_worker._private_tasks t ON t.id = j.task_id
    WHERE t.identifier = 'webhook-process' AND j.payload->0->>'deliveryId' = ANY(${ids}::text[])`;
}

const helpersAt = (attempts: number) => ({ job: { attempts, max_attempts: 10 } }) as unknown as JobHelpers;

describe("webhook deliveries as batch jobs", () => {
  it("queues one job naming exactly the deliveries a commit kept, and none for a commit of repeats", async () => {
    const shop = newShop("batch-intake");
    const scopes = await webhookFixture("app/scopes_update");
    await recordDeliveries([incoming(shop, scopes, "event-1")]);
    await recordDeliveries([
      incoming(shop, scopes, "event-1"),
      incoming(shop, scopes, "event-2"),
      incoming(shop, scopes, "event-3"),
    ]);
    await recordDeliveries([incoming(shop, scopes, "event-2")]);
    const stored = await prisma.webhookDelivery.findMany({ where: { shop } });
    const idOf = (key: string) => stored.find((d) => d.dedupeKey === key)!.id;
    expect(stored).toHaveLength(3);
    const jobs = await jobsFor(shop);
    expect(jobs.map((job) => job.payload).sort((x, y) => x.length - y.length)).toEqual([
      [{ deliveryId: idOf("event-1") }],
      [{ deliveryId: idOf("event-2") }, { deliveryId: idOf("event-3") }],
    ]);
    // A job of one delivery is keyed by it (a merchant's retry of it joins that job); a batch is not keyed.
    expect(new Set(jobs.map((job) => job.key))).toEqual(new Set([`webhook:${idOf("event-1")}`, null]));
  });

  it("marks each delivery of a batch processed and hands back only the one that failed", async () => {
    const shop = newShop("batch-process");
    await prisma.shop.create({ data: { domain: shop, grantedScopes: "read_customers" } });
    const scopes = await webhookFixture("app/scopes_update");
    await recordDeliveries([
      incoming(shop, scopes, "good-1"),
      incoming(shop, scopes, "flaky"),
      incoming(shop, scopes, "good-2"),
    ]);
    const [job] = await jobsFor(shop);
    const outcomes = await Promise.allSettled((await webhookProcess(job!.payload, helpersAt(1))) as Promise<void>[]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/connection terminated/);
    const byKey = new Map(
      (await prisma.webhookDelivery.findMany({ where: { shop } })).map((delivery) => [delivery.dedupeKey, delivery]),
    );
    expect(byKey.get("good-1")).toMatchObject({ status: "processed", attempts: 1, lastError: null });
    expect(byKey.get("good-2")).toMatchObject({ status: "processed", attempts: 1, lastError: null });
    expect(byKey.get("flaky")).toMatchObject({ status: "received", attempts: 1 });
    expect(byKey.get("flaky")!.lastError).toMatch(/connection terminated/);
    expect((await prisma.shop.findUniqueOrThrow({ where: { domain: shop } })).grantedScopes).toBe(
      (scopes.current as string[]).join(","),
    );

    // graphile-worker retries the job with the failed entry alone; on its last attempt the delivery is failed
    // for the merchant to see, and the job ends.
    const retry = [{ deliveryId: byKey.get("flaky")!.id }];
    const last = await Promise.allSettled((await webhookProcess(retry, helpersAt(10))) as Promise<void>[]);
    expect(last.map((outcome) => outcome.status)).toEqual(["fulfilled"]);
    expect(await prisma.webhookDelivery.findUniqueOrThrow({ where: { id: retry[0]!.deliveryId } })).toMatchObject({
      status: "failed",
      attempts: 2,
    });
  });

  it("ends a delivery whose payload no retry can mend on its first attempt, without failing the batch", async () => {
    const shop = newShop("batch-malformed");
    await prisma.shop.create({ data: { domain: shop } });
    await recordDeliveries([
      incoming(shop, await webhookFixture("shop/redact"), "malformed"),
      incoming(shop, await webhookFixture("app/scopes_update"), "good"),
    ]);
    const [job] = await jobsFor(shop);
    const outcomes = await Promise.allSettled((await webhookProcess(job!.payload, helpersAt(1))) as Promise<void>[]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "fulfilled"]);
    const byKey = new Map(
      (await prisma.webhookDelivery.findMany({ where: { shop } })).map((delivery) => [delivery.dedupeKey, delivery]),
    );
    expect(byKey.get("malformed")).toMatchObject({ status: "failed", attempts: 1 });
    expect(byKey.get("good")).toMatchObject({ status: "processed", attempts: 1 });
  });

  it("processes a delivery named twice in one job (merged retries) once", async () => {
    const shop = newShop("batch-twice");
    await prisma.shop.create({ data: { domain: shop } });
    await recordDeliveries([incoming(shop, await webhookFixture("app/scopes_update"))]);
    const [job] = await jobsFor(shop);
    const twice = [...job!.payload, ...job!.payload];
    const outcomes = await Promise.allSettled((await webhookProcess(twice, helpersAt(1))) as Promise<void>[]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "fulfilled"]);
    expect(await prisma.webhookDelivery.findFirstOrThrow({ where: { shop } })).toMatchObject({
      status: "processed",
      attempts: 1,
    });
  });
});
