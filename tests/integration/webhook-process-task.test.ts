import { randomUUID } from "node:crypto";
import type { JobHelpers } from "graphile-worker";
import { afterAll, describe, expect, it, vi } from "vitest";
import prisma, { pgPool } from "../../app/db.server";
import { getDeliveries, recordDeliveries, type IncomingDelivery } from "../../app/models/webhook-deliveries.server";
import { DeliveryBatch } from "../../app/services/webhook-processing.server";
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
    processDelivery: async (...args: Parameters<typeof real.processDelivery>) => {
      if (args[0].dedupeKey.startsWith("flaky")) throw new Error("connection terminated unexpectedly");
      return real.processDelivery(...args);
    },
  };
});

const newShop = (name: string) => `${name}-${randomUUID().slice(0, 8)}.myshopify.com`;

afterAll(async () => {
  await prisma.$disconnect();
  await pgPool.end();
});

function incoming(
  shop: string,
  payload: unknown,
  dedupeKey: string = randomUUID(),
  topic = "app/scopes_update",
): IncomingDelivery {
  return {
    shop,
    topic,
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
      incoming(shop, await webhookFixture("orders/create"), "flaky", "orders/create"),
      incoming(shop, await webhookFixture("orders/create"), "good-2", "orders/create"),
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

  it("applies only the latest of a shop's scope lists in a batch, whatever their order in it", async () => {
    const [shop, other] = [newShop("batch-scopes"), newShop("batch-scopes-other")];
    await prisma.shop.createMany({ data: [{ domain: shop }, { domain: other }] });
    const scopes = await webhookFixture("app/scopes_update");
    const granted = (current: string[], updatedAt: string) => ({ ...scopes, current, updated_at: updatedAt });
    await recordDeliveries([
      incoming(shop, granted(["read_customers", "read_orders"], "2026-12-01T10:00:00Z"), "second"),
      incoming(shop, granted(["read_customers", "read_orders", "write_customers"], "2026-12-01T11:00:00Z"), "third"),
      incoming(shop, granted(["read_customers"], "2026-12-01T09:00:00Z"), "first"),
      incoming(other, granted(["read_products"], "2026-12-01T08:00:00Z"), "other"),
    ]);
    const [job] = await jobsFor(shop);
    const outcomes = await Promise.allSettled((await webhookProcess(job!.payload, helpersAt(1))) as Promise<void>[]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "fulfilled"]);
    const shops = await prisma.shop.findMany({ where: { domain: { in: [shop, other] } } });
    expect(Object.fromEntries(shops.map((row) => [row.domain, row.grantedScopes]))).toEqual({
      [shop]: "read_customers,read_orders,write_customers",
      [other]: "read_products",
    });
    const byKey = new Map(
      (await prisma.webhookDelivery.findMany({ where: { shop: { in: [shop, other] } } })).map((delivery) => [
        delivery.dedupeKey,
        delivery,
      ]),
    );
    expect(byKey.get("third")).toMatchObject({ status: "processed", note: null });
    expect(byKey.get("other")).toMatchObject({ status: "processed", note: null });
    for (const key of ["first", "second"]) {
      expect(byKey.get(key)).toMatchObject({ status: "ignored", attempts: 1 });
      expect(byKey.get(key)!.note).toMatch(/later app\/scopes_update/);
    }
  });

  it("reads a shop's install state again after an uninstall in the same batch", async () => {
    const shop = newShop("batch-uninstall");
    await prisma.shop.create({ data: { domain: shop } });
    await recordDeliveries([
      incoming(
        shop,
        { ...(await webhookFixture("app/uninstalled")), myshopify_domain: shop },
        "uninstall",
        "app/uninstalled",
      ),
      incoming(shop, await webhookFixture("orders/create"), "order", "orders/create"),
    ]);
    const [job] = await jobsFor(shop);
    await Promise.all((await webhookProcess(job!.payload, helpersAt(1))) as Promise<void>[]);
    expect((await prisma.shop.findUniqueOrThrow({ where: { domain: shop } })).uninstalledAt).not.toBeNull();
    expect(await prisma.webhookDelivery.findFirstOrThrow({ where: { shop, dedupeKey: "order" } })).toMatchObject({
      status: "ignored",
      note: "not acted on: the shop has uninstalled the app",
    });
    const syncJobs = await prisma.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM graphile_worker._private_jobs j
      JOIN graphile_worker._private_tasks t ON t.id = j.task_id
      WHERE t.identifier = 'sync-records' AND j.payload->>'shop' = ${shop}`;
    expect(syncJobs[0]!.n).toBe(0);
  });

  it("refreshes the records a batch names with one sync job per shop and resource, at most 250 records each", async () => {
    const [shop, other] = [newShop("batch-syncs"), newShop("batch-syncs-other")];
    await prisma.shop.createMany({ data: [{ domain: shop }, { domain: other }] });
    const [order, customer] = [await webhookFixture("orders/create"), await webhookFixture("customers/update")];
    const orderGid = (n: number) => `gid://shopify/Order/${n}`;
    const orders = Array.from({ length: 260 }, (_, n) =>
      incoming(shop, { ...order, admin_graphql_api_id: orderGid(n) }, `order-${n}`, "orders/create"),
    );
    await recordDeliveries([
      ...orders,
      // The same order again, as a second event (orders/updated would be one): refreshed once.
      incoming(shop, { ...order, admin_graphql_api_id: orderGid(7) }, "order-7-again", "orders/create"),
      incoming(shop, { ...customer, admin_graphql_api_id: "gid://shopify/Customer/1" }, "c-1", "customers/update"),
      incoming(shop, { ...customer, admin_graphql_api_id: "gid://shopify/Customer/2" }, "c-2", "customers/update"),
      incoming(other, { ...order, admin_graphql_api_id: orderGid(1) }, "other-order", "orders/create"),
    ]);
    const [job] = await jobsFor(shop);
    const outcomes = await Promise.allSettled((await webhookProcess(job!.payload, helpersAt(1))) as Promise<void>[]);
    expect(outcomes.every((outcome) => outcome.status === "fulfilled")).toBe(true);
    const syncs = await prisma.$queryRaw<{ payload: { shop: string; resource: string; ids: string[] } }[]>`
      SELECT j.payload FROM graphile_worker._private_jobs j
      JOIN graphile_worker._private_tasks t ON t.id = j.task_id
      WHERE t.identifier = 'sync-records' AND j.payload->>'shop' = ANY(${[shop, other]}::text[])`;
    const summary = syncs
      .map(({ payload }) => `${payload.shop === shop ? "shop" : "other"} ${payload.resource} ${payload.ids.length}`)
      .sort();
    expect(summary).toEqual(["other orders 1", "shop customers 2", "shop orders 10", "shop orders 250"]);
    const ordersSynced = syncs.filter(({ payload }) => payload.shop === shop && payload.resource === "orders");
    expect(new Set(ordersSynced.flatMap(({ payload }) => payload.ids))).toEqual(
      new Set(orders.map((_, n) => orderGid(n))),
    );
    const statuses = await prisma.webhookDelivery.groupBy({
      by: ["status"],
      where: { shop: { in: [shop, other] } },
      _count: true,
    });
    expect(statuses).toEqual([{ status: "processed", _count: 264 }]);
  });

  it("fails alone a delivery whose record id is not one, and queues its neighbours' syncs", async () => {
    const shop = newShop("batch-bad-id");
    await prisma.shop.create({ data: { domain: shop } });
    const order = await webhookFixture("orders/create");
    await recordDeliveries([
      incoming(shop, { ...order, admin_graphql_api_id: "gid://shopify/Order/1" }, "good", "orders/create"),
      incoming(shop, { ...order, admin_graphql_api_id: "1; DROP TABLE" }, "bad", "orders/create"),
    ]);
    const [job] = await jobsFor(shop);
    const outcomes = await Promise.allSettled((await webhookProcess(job!.payload, helpersAt(1))) as Promise<void>[]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "fulfilled"]);
    const byKey = new Map(
      (await prisma.webhookDelivery.findMany({ where: { shop } })).map((delivery) => [delivery.dedupeKey, delivery]),
    );
    expect(byKey.get("good")).toMatchObject({ status: "processed" });
    expect(byKey.get("bad")).toMatchObject({ status: "failed", attempts: 1 });
    expect(byKey.get("bad")!.lastError).toMatch(/not a record id/);
    const syncs = await prisma.$queryRaw<{ ids: string[] }[]>`
      SELECT j.payload->'ids' AS ids FROM graphile_worker._private_jobs j
      JOIN graphile_worker._private_tasks t ON t.id = j.task_id
      WHERE t.identifier = 'sync-records' AND j.payload->>'shop' = ${shop}`;
    expect(syncs).toEqual([{ ids: ["gid://shopify/Order/1"] }]);
  });

  it("hands back every delivery whose record sync could not be queued, and only those", async () => {
    const shop = newShop("batch-sync-outage");
    await prisma.shop.create({ data: { domain: shop } });
    await recordDeliveries([
      incoming(shop, await webhookFixture("app/scopes_update"), "scopes"),
      incoming(shop, await webhookFixture("orders/create"), "order", "orders/create"),
    ]);
    const [job] = await jobsFor(shop);
    const outage = vi
      .spyOn(DeliveryBatch.prototype, "queueRecordSyncs")
      .mockRejectedValueOnce(new Error("connection terminated unexpectedly"));
    try {
      const outcomes = await Promise.allSettled((await webhookProcess(job!.payload, helpersAt(1))) as Promise<void>[]);
      expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected"]);
    } finally {
      outage.mockRestore();
    }
    const byKey = new Map(
      (await prisma.webhookDelivery.findMany({ where: { shop } })).map((delivery) => [delivery.dedupeKey, delivery]),
    );
    expect(byKey.get("scopes")).toMatchObject({ status: "processed" });
    expect(byKey.get("order")).toMatchObject({ status: "received", attempts: 1 });
    expect(byKey.get("order")!.lastError).toMatch(/connection terminated/);
  });

  it("loads a batch's deliveries as Prisma reads them, whatever the process's time zone", async () => {
    const shop = newShop("batch-zone");
    await recordDeliveries([{ ...incoming(shop, { current: [] }), triggeredAt: new Date("2026-12-03T12:00:00.000Z") }]);
    const stored = await prisma.webhookDelivery.findFirstOrThrow({ where: { shop } });
    const zone = process.env.TZ;
    process.env.TZ = "America/Toronto";
    try {
      expect(new Date("2026-12-03T12:00:00").getTime()).not.toBe(Date.parse("2026-12-03T12:00:00Z"));
      expect((await getDeliveries([stored.id])).get(stored.id)).toEqual(stored);
      expect(stored.triggeredAt).toEqual(new Date("2026-12-03T12:00:00.000Z"));
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });
});
