import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import { savePixelConnection } from "../../app/models/pixel.server";
import { createPull } from "../../app/models/pulls.server";
import { DeliveryBatch, processDelivery } from "../../app/services/webhook-processing.server";
import { webhookFixture } from "../helpers/payload-shape";
import { seedSyntheticShop } from "../helpers/segment-data";

/**
 * Every webhook handler, run on Shopify's payload of its topic
 * (tests/fixtures/webhooks, shaped like Shopify's documented examples)
 * against real Postgres. Where a handler looks records up, the fixture's ids
 * are pointed at the shop's stored records; every other field is Shopify's.
 */

const newShop = (name: string) => `${name}-${randomUUID().slice(0, 8)}.myshopify.com`;

async function deliver(shop: string, topic: string, payload: unknown) {
  const delivery = await prisma.webhookDelivery.create({
    data: {
      shop,
      topic,
      dedupeKey: randomUUID(),
      webhookId: randomUUID(),
      apiVersion: "2026-10",
      payload: payload as object,
    },
  });
  const batch = new DeliveryBatch([delivery]);
  await processDelivery(delivery, batch);
  await batch.queueRecordSyncs();
}

async function jobsOf(shop: string, task: string) {
  return prisma.$queryRaw<{ payload: Record<string, unknown> }[]>`
    SELECT payload FROM graphile_worker._private_jobs j
    JOIN graphile_worker._private_tasks t ON t.id = j.task_id
    WHERE t.identifier = ${task} AND j.payload->>'shop' = ${shop}`;
}

/** A stored customer with orders, and the fixture's customer made into them. */
async function shopWithCustomer(name: string) {
  const shop = newShop(name);
  await prisma.shop.create({ data: { domain: shop, currencyCode: "CAD" } });
  await seedSyntheticShop(prisma, shop, { customers: 12, orders: 80 });
  const orders = await prisma.order.findMany({ where: { shop, customerId: "gid://shopify/Customer/2" } });
  expect(orders.length).toBeGreaterThan(0);
  const customer = { id: 2, email: "person2@example.com", phone: null };
  return { shop, customer, orderIds: orders.map((order) => Number(order.legacyId)) };
}

describe("webhook handlers on Shopify's payloads", () => {
  it("customers/data_request: the customer's export, with their orders, is ready for the merchant", async () => {
    const { shop, customer, orderIds } = await shopWithCustomer("data-request");
    const fixture = await webhookFixture("customers/data_request");
    await deliver(shop, "customers/data_request", {
      ...fixture,
      shop_domain: shop,
      customer: { ...(fixture.customer as object), ...customer },
      orders_requested: orderIds,
    });
    const [request] = await prisma.dataRequest.findMany({ where: { shop } });
    expect(request).toMatchObject({ customerId: "gid://shopify/Customer/2", requestId: "9999", status: "ready" });
    const exported = request!.export as { customer: { email: string }; orders: { id: string }[] };
    expect(exported.customer.email).toBe("person2@example.com");
    expect(exported.orders.map((order) => order.id).sort()).toEqual(
      orderIds.map((id) => `gid://shopify/Order/${id}`).sort(),
    );
  });

  it("customers/redact: the customer is erased and their orders keep no link to them", async () => {
    const { shop, customer, orderIds } = await shopWithCustomer("redact");
    const fixture = await webhookFixture("customers/redact");
    await deliver(shop, "customers/redact", {
      ...fixture,
      shop_domain: shop,
      customer: { ...(fixture.customer as object), ...customer },
      orders_to_redact: orderIds,
    });
    expect(await prisma.customer.count({ where: { shop, id: "gid://shopify/Customer/2" } })).toBe(0);
    const orders = await prisma.order.findMany({ where: { shop, legacyId: { in: orderIds.map(BigInt) } } });
    expect(orders.every((order) => order.customerId === null && order.email === null)).toBe(true);
    expect(await prisma.customer.count({ where: { shop } })).toBe(11);
    expect(await prisma.redactionRecord.count({ where: { shop, kind: "customer" } })).toBe(1);
  });

  it("shop/redact: every row of the shop is deleted", async () => {
    const { shop } = await shopWithCustomer("shop-redact");
    // Shopify sends shop/redact 48 hours after the uninstall; for an installed shop it is not acted on.
    await prisma.shop.update({ where: { domain: shop }, data: { uninstalledAt: new Date() } });
    await deliver(shop, "shop/redact", { ...(await webhookFixture("shop/redact")), shop_domain: shop });
    expect(await prisma.customer.count({ where: { shop } })).toBe(0);
    expect(await prisma.order.count({ where: { shop } })).toBe(0);
    expect(await prisma.shop.count({ where: { domain: shop } })).toBe(0);
  });

  it("app/uninstalled: the shop is marked uninstalled, its pixel disconnected and its pulls cancelled", async () => {
    const shop = newShop("uninstalled");
    await prisma.shop.create({ data: { domain: shop } });
    await savePixelConnection({
      shop,
      accountId: "acc",
      webPixelId: "gid://shopify/WebPixel/1",
      ingestUrl: "https://a.test",
    });
    const pull = await createPull({ shop, kind: "full", trigger: "merchant" });
    await deliver(shop, "app/uninstalled", await webhookFixture("app/uninstalled"));
    expect((await prisma.shop.findUniqueOrThrow({ where: { domain: shop } })).uninstalledAt).not.toBeNull();
    expect((await prisma.pixelConnection.findUniqueOrThrow({ where: { shop } })).status).toBe("disconnected");
    expect((await prisma.dataPull.findUniqueOrThrow({ where: { id: pull.id } })).status).toBe("cancelled");
  });

  it("app/scopes_update: the scopes granted now are recorded, on the shop and its offline session", async () => {
    const shop = newShop("scopes");
    const before = await prisma.shop.create({ data: { domain: shop, grantedScopes: "read_customers,read_orders" } });
    const session = (isOnline: boolean) => ({
      id: `${isOnline ? "online" : "offline"}_${shop}`,
      shop,
      state: "state",
      isOnline,
      scope: "read_customers,read_orders",
      accessToken: "encrypted",
    });
    await prisma.session.createMany({ data: [session(false), session(true)] });
    const fixture = await webhookFixture("app/scopes_update");
    await deliver(shop, "app/scopes_update", fixture);
    const granted = (fixture.current as string[]).join(",");
    const stored = await prisma.shop.findUniqueOrThrow({ where: { domain: shop } });
    expect(stored.grantedScopes).toBe(granted);
    expect(stored.updatedAt.getTime()).toBeGreaterThan(before.updatedAt.getTime());
    const sessions = await prisma.session.findMany({ where: { shop }, orderBy: { isOnline: "asc" } });
    expect(sessions.map((s) => s.scope)).toEqual([granted, "read_customers,read_orders"]);
  });

  it.each([
    ["orders/create", "orders", "gid://shopify/Order/6109384217653"],
    ["customers/create", "customers", "gid://shopify/Customer/706405506"],
    ["customers/update", "customers", "gid://shopify/Customer/706405506"],
    ["products/update", "products", "gid://shopify/Product/788032119"],
  ])("%s: the record is fetched again by its GraphQL id", async (topic, resource, id) => {
    const shop = newShop(topic.replace("/", "-"));
    await prisma.shop.create({ data: { domain: shop } });
    await deliver(shop, topic, await webhookFixture(topic));
    const jobs = await jobsOf(shop, "sync-records");
    expect(jobs.map((job) => job.payload)).toEqual([{ shop, resource, ids: [id] }]);
  });

  it("bulk_operations/finish: the pull step waiting for that operation runs now", async () => {
    const shop = newShop("bulk-finish");
    await prisma.shop.create({ data: { domain: shop } });
    const fixture = await webhookFixture("bulk_operations/finish");
    const pull = await createPull({ shop, kind: "full", trigger: "merchant", resources: ["orders"] });
    const step = await prisma.dataPullStep.findFirstOrThrow({ where: { pullId: pull.id } });
    await prisma.dataPullStep.update({
      where: { id: step.id },
      data: { status: "running", bulkOperationId: fixture.admin_graphql_api_id as string, bulkStatus: "RUNNING" },
    });
    await deliver(shop, "bulk_operations/finish", fixture);
    const after = await prisma.dataPullStep.findUniqueOrThrow({ where: { id: step.id } });
    expect(after.bulkStatus).not.toBe("RUNNING");
    const jobs = await prisma.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM graphile_worker._private_jobs WHERE payload->>'stepId' = ${step.id}`;
    expect(jobs[0]!.n).toBe(1n);
  });

  it("refuses a payload that is not the topic's, and stores nothing from it", async () => {
    const shop = newShop("malformed");
    await prisma.shop.create({ data: { domain: shop } });
    await expect(deliver(shop, "app/scopes_update", await webhookFixture("shop/redact"))).rejects.toThrow(
      /malformed app\/scopes_update payload/,
    );
    expect((await prisma.shop.findUniqueOrThrow({ where: { domain: shop } })).grantedScopes).toBeNull();
  });
});
