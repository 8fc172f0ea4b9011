import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueJob } from "../../app/models/jobs.server";
import { PAGINATED } from "../../app/services/pull-queries.server";
import { simulatedInstall } from "../helpers/installed-shop";
import { startWorker, waitFor, type RunningProcess } from "../helpers/processes";

/**
 * Records a webhook named, refreshed by the real worker from the simulated
 * Shopify: many ids in few queries (nodes(ids:), as many a query as a pull's
 * page holds), each record written with its children as a pull writes it,
 * and ids that are gone or of another type skipped.
 */

type Install = Awaited<ReturnType<typeof simulatedInstall>>;
let install: Install;
let worker: RunningProcess;

beforeAll(async () => {
  install = await simulatedInstall({ size: "tiny" });
  worker = await startWorker(install.env);
});

afterAll(async () => {
  await worker?.stop();
  await install?.close();
});

const runtime = () => install.simulator.runtime(install.shop)!;

async function synced(resource: "customers" | "products" | "orders", ids: string[]) {
  const requestsBefore = runtime().counters.requests;
  const { id } = await enqueueJob("sync-records", { shop: install.shop, resource, ids });
  const job = () =>
    install.prisma.$queryRaw<{ attempts: number; last_error: string | null }[]>`
      SELECT attempts, last_error FROM graphile_worker._private_jobs WHERE id = ${BigInt(id)}`;
  await waitFor(async () => (await job()).length === 0, 30_000, "the sync-records job to end").catch(async (error) => {
    throw new Error(`${(error as Error).message}: ${JSON.stringify(await job())}`);
  });
  return runtime().counters.requests - requestsBefore;
}

describe("sync-records", () => {
  it("refreshes 30 orders in as many queries as pages of orders, with every line item, skipping unknown ids", async () => {
    const data = install.data;
    const orders = Array.from({ length: 30 }, (_, i) => data.order(i)!);
    const ids = [
      ...orders.map((order) => `gid://shopify/Order/${order.id}`),
      "gid://shopify/Order/999999999999",
      `gid://shopify/Customer/${data.customer(0)!.id}`,
    ];
    const requests = await synced("orders", ids);

    // Line items past an order's first ten come in queries of their own, as in a pull.
    const moreLineItems = orders.filter((order) => order.lineItems.length > 10).length;
    expect(requests).toBe(Math.ceil(ids.length / PAGINATED.orders.pageSize) + moreLineItems);
    const stored = await install.prisma.order.findMany({ where: { shop: install.shop } });
    expect(stored.map((order) => String(order.legacyId)).sort()).toEqual(orders.map((order) => String(order.id)).sort());
    for (const order of orders) {
      const lineItems = await install.prisma.orderLineItem.count({
        where: { shop: install.shop, orderId: `gid://shopify/Order/${order.id}` },
      });
      expect(lineItems).toBe(order.lineItems.length);
    }
    expect(await install.prisma.customer.count({ where: { shop: install.shop } })).toBe(0);
  });

  it("refreshes every customer of the shop in one query", async () => {
    const count = install.data.customerCount;
    expect(count).toBeLessThanOrEqual(PAGINATED.customers.pageSize);
    const ids = Array.from({ length: count }, (_, i) => `gid://shopify/Customer/${install.data.customer(i)!.id}`);
    expect(await synced("customers", ids)).toBe(1);
    expect(await install.prisma.customer.count({ where: { shop: install.shop } })).toBe(count);
  });
});
