import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPull } from "../../app/models/pulls.server";
import { simulatedInstall } from "../helpers/installed-shop";
import { startAppServer, startWorker, waitFor, type RunningProcess } from "../helpers/processes";
import { BROWSER_HEADERS, embeddedAppUrl, signedWebhook } from "../helpers/shopify-requests";

/** Webhooks end to end: the simulator signs and delivers, the app records, the worker processes. */

type Install = Awaited<ReturnType<typeof simulatedInstall>>;
let install: Install;
let app: RunningProcess & { url: string };
let worker: RunningProcess;

async function scanTables(needles: string[], schemas = ["public"]) {
  const columns = await install.prisma.$queryRaw<{ table_schema: string; table_name: string; column_name: string }[]>`
    SELECT table_schema::text, table_name::text, column_name::text FROM information_schema.columns
    WHERE table_schema = ANY(${schemas}) AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'ARRAY')`;
  const hits: string[] = [];
  for (const needle of needles) {
    for (const column of columns) {
      const rows = await install.prisma.$queryRawUnsafe<{ n: bigint }[]>(
        `SELECT count(*) AS n FROM "${column.table_schema}"."${column.table_name}" WHERE strpos(lower("${column.column_name}"::text), lower($1)) > 0`,
        needle,
      );
      if (rows[0]!.n > 0n)
        hits.push(`${needle} in ${column.table_schema}.${column.table_name}.${column.column_name} (${rows[0]!.n})`);
    }
  }
  return hits;
}

async function deliveries(topic: string) {
  return install.prisma.webhookDelivery.findMany({ where: { shop: install.shop, topic } });
}

beforeAll(async () => {
  install = await simulatedInstall({ size: "tiny" });
  const env = { ...install.env, NODE_ENV: "production" };
  app = await startAppServer(env);
  worker = await startWorker(env);
  install.simulator.setAppUrl(app.url);
  const pull = await createPull({ shop: install.shop, kind: "full", trigger: "merchant" });
  await waitFor(
    async () => (await install.prisma.dataPull.findFirst({ where: { id: pull.id, status: "succeeded" } })) ?? undefined,
    60_000,
    "first pull",
  );
});

afterAll(async () => {
  await Promise.all([app?.stop(), worker?.stop()]);
  await install?.close();
});

describe("webhook intake", () => {
  it("accepts a signed delivery, records it and processes it in the worker", async () => {
    const [report] = await install.simulator.trigger({ event: "customers/update", shop: install.shop, customer: 2 });
    expect(report!.attempts.map((a) => a.status)).toEqual([200]);
    const customerId = `gid://shopify/Customer/${install.data.customer(2)!.id}`;
    await waitFor(
      async () =>
        (await install.prisma.customer.findFirst({
          where: { shop: install.shop, id: customerId, tags: { has: "updated" } },
        })) ?? undefined,
      20_000,
      "customer refreshed",
    );
    const [delivery] = await deliveries("customers/update");
    expect(delivery).toMatchObject({ status: "processed", attempts: 1 });
  });

  it("answers 401 to a bad or missing signature and stores nothing", async () => {
    const before = await install.prisma.webhookDelivery.count();
    const forged = await signedWebhook(
      app.url,
      "customers/redact",
      install.shop,
      { customer: { id: 1 } },
      { secret: "not-the-secret" },
    );
    expect(forged.status).toBe(401);
    const unsigned = await fetch(`${app.url}/webhooks/shop/redact`, {
      method: "POST",
      body: JSON.stringify({ shop_domain: install.shop }),
      headers: {
        "content-type": "application/json",
        "x-shopify-topic": "shop/redact",
        "x-shopify-shop-domain": install.shop,
        ...BROWSER_HEADERS,
      },
    });
    expect(unsigned.status).toBe(401);
    expect(await install.prisma.webhookDelivery.count()).toBe(before);
    expect(await install.prisma.shop.count({ where: { domain: install.shop } })).toBe(1);
  });

  it("answers 400 to malformed JSON under a good signature and stores nothing", async () => {
    const before = await install.prisma.webhookDelivery.count();
    for (const rawBody of ['{"admin_graphql_api_id": "gid://shopify/Customer/1"', "[1, 2]", "null"]) {
      const answer = await signedWebhook(app.url, "customers/update", install.shop, undefined, { rawBody });
      expect(answer.status, rawBody).toBe(400);
    }
    expect(await install.prisma.webhookDelivery.count()).toBe(before);
  });

  it("records a delivery for a shop that never installed the app once, answers 200 and does not retry it", async () => {
    const stranger = `never-installed-${Date.now()}.myshopify.com`;
    const eventId = randomUUID();
    const order = { id: 1, admin_graphql_api_id: "gid://shopify/Order/1" };
    const answers = await Promise.all([
      signedWebhook(app.url, "orders/create", stranger, order, { eventId }),
      signedWebhook(app.url, "orders/create", stranger, order, { eventId }),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
    const delivery = await waitFor(
      async () =>
        (await install.prisma.webhookDelivery.findFirst({ where: { shop: stranger, status: "ignored" } })) ?? undefined,
      20_000,
      "delivery ignored",
    );
    expect(delivery).toMatchObject({ topic: "orders/create", attempts: 1, lastError: null });
    expect(delivery.note).toMatch(/never installed/);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await install.prisma.webhookDelivery.findMany({ where: { shop: stranger } })).toEqual([delivery]);
    const jobs = await install.prisma.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM graphile_worker._private_jobs WHERE payload::text LIKE ${`%${stranger}%`}
        OR payload::text LIKE ${`%${delivery.id}%`}`;
    expect(jobs[0]!.n).toBe(0n);
  });

  it("processes the same event delivered three times exactly once", async () => {
    const reports = await install.simulator.trigger({
      event: "orders/create",
      shop: install.shop,
      customer: 5,
      duplicates: 2,
    });
    expect(reports).toHaveLength(3);
    expect(reports.every((report) => report.delivered)).toBe(true);
    const orderId = `gid://shopify/Order/${install.data.order(install.data.orderCount - 1)!.id}`;
    await waitFor(
      async () => (await install.prisma.order.findFirst({ where: { shop: install.shop, id: orderId } })) ?? undefined,
      20_000,
      "new order",
    );
    const recorded = await deliveries("orders/create");
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ status: "processed", attempts: 1 });
    const jobs = await install.prisma.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id WHERE t.identifier = 'webhook-process'`;
    expect(jobs[0]!.n).toBe(0n);
  });
});

/** What the app holds of a shop, table by table: what a forged erasure would take away. */
async function holdings(shop: string) {
  const where = { shop };
  const [customers, orders, sessions, pulls, deliveries, installed] = await Promise.all([
    install.prisma.customer.count({ where }),
    install.prisma.order.count({ where }),
    install.prisma.session.count({ where }),
    install.prisma.dataPull.count({ where }),
    install.prisma.webhookDelivery.count({ where }),
    install.prisma.shop.count({ where: { domain: shop, uninstalledAt: null } }),
  ]);
  return { customers, orders, sessions, pulls, deliveries, installed };
}

describe("webhooks trust only what is signed", () => {
  // Shop B: a second shop with the app installed and its data pulled, the target of the forgeries.
  let victim: string;
  let victimBefore: Awaited<ReturnType<typeof holdings>>;

  beforeAll(async () => {
    victim = await install.installAnotherShop("victim");
    const pull = await createPull({ shop: victim, kind: "full", trigger: "merchant" });
    await waitFor(
      async () =>
        (await install.prisma.dataPull.findFirst({ where: { id: pull.id, status: "succeeded" } })) ?? undefined,
      60_000,
      "victim's pull",
    );
    victimBefore = await holdings(victim);
    expect(victimBefore.customers).toBeGreaterThan(0);
    expect(victimBefore.orders).toBeGreaterThan(0);
  });

  /** Gives the worker time to act on anything that was wrongly accepted, then checks B lost nothing. */
  async function expectVictimUntouched() {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await holdings(victim)).toEqual(victimBefore);
    expect(await install.prisma.redactionRecord.count({ where: { kind: "shop" } })).toBe(0);
  }

  // Shop A's own signed orders/create body, as Shopify sent it to A.
  const ordersCreateOfA = () => ({
    id: 820982911946154500,
    admin_graphql_api_id: `gid://shopify/Order/${install.data.order(0)!.id}`,
  });

  it("refuses shop A's signed orders/create body replayed as shop/redact of shop B (the topic swap)", async () => {
    const before = await install.prisma.webhookDelivery.count();
    const swapped = await signedWebhook(app.url, "orders/create", victim, ordersCreateOfA(), {
      topicHeader: "shop/redact",
    });
    expect(swapped.status).toBe(400);
    // The same body on the shop/redact route: its payload does not name the shop it would erase.
    const onRedactRoute = await signedWebhook(app.url, "shop/redact", victim, ordersCreateOfA());
    expect(onRedactRoute.status).toBe(400);
    expect(await install.prisma.webhookDelivery.count()).toBe(before);
    await expectVictimUntouched();
  });

  it("refuses shop A's signed privacy bodies sent in the name of shop B (the shop swap)", async () => {
    const before = await install.prisma.webhookDelivery.count();
    const customer = install.data.customer(1)!;
    const forgeries = [
      signedWebhook(app.url, "shop/redact", victim, { shop_id: 1, shop_domain: install.shop }),
      signedWebhook(app.url, "customers/redact", victim, {
        shop_id: 1,
        shop_domain: install.shop,
        customer: { id: customer.id, email: customer.email },
        orders_to_redact: [],
      }),
      signedWebhook(app.url, "customers/data_request", victim, {
        shop_id: 1,
        shop_domain: install.shop,
        customer: { id: customer.id, email: customer.email },
        orders_requested: [],
      }),
      signedWebhook(app.url, "app/uninstalled", victim, {
        id: 1,
        domain: install.shop,
        myshopify_domain: install.shop,
      }),
    ];
    expect((await Promise.all(forgeries)).map((response) => response.status)).toEqual([400, 400, 400, 400]);
    expect(await install.prisma.webhookDelivery.count()).toBe(before);
    await expectVictimUntouched();
  });

  it("records a genuine shop/redact for a shop that is still installed and erases nothing", async () => {
    const eventId = randomUUID();
    const answer = await signedWebhook(
      app.url,
      "shop/redact",
      victim,
      { shop_id: 2, shop_domain: victim },
      { eventId },
    );
    expect(answer.status).toBe(200);
    const delivery = await waitFor(
      async () =>
        (await install.prisma.webhookDelivery.findFirst({
          where: { shop: victim, dedupeKey: eventId, status: { not: "received" } },
        })) ?? undefined,
      20_000,
      "shop/redact recorded",
    );
    expect(delivery).toMatchObject({ topic: "shop/redact", status: "ignored", attempts: 1 });
    expect(delivery.note).toMatch(/installed/);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = await holdings(victim);
    expect(after).toEqual({ ...victimBefore, deliveries: victimBefore.deliveries + 1 });
    expect(await install.prisma.redactionRecord.count({ where: { kind: "shop" } })).toBe(0);
  });

  // Last: the privacy tests below scan every table for shop A's customers, whose ids shop B shares.
  it("erases shop B once it has uninstalled the app (the genuine shop/redact)", async () => {
    const uninstall = await signedWebhook(app.url, "app/uninstalled", victim, {
      id: 2,
      domain: victim,
      myshopify_domain: victim,
    });
    expect(uninstall.status).toBe(200);
    await waitFor(
      async () =>
        (await install.prisma.shop.findFirst({ where: { domain: victim, uninstalledAt: { not: null } } })) ?? undefined,
      20_000,
      "victim uninstalled",
    );
    const redact = await signedWebhook(app.url, "shop/redact", victim, { shop_id: 2, shop_domain: victim });
    expect(redact.status).toBe(200);
    await waitFor(
      async () => (await install.prisma.redactionRecord.count({ where: { kind: "shop" } })) === 1,
      20_000,
      "victim erased",
    );
    expect(await holdings(victim)).toEqual({
      customers: 0,
      orders: 0,
      sessions: 0,
      pulls: 0,
      deliveries: 0,
      installed: 0,
    });
  });
});

describe("privacy", () => {
  it("answers customers/data_request with an export of the customer's data", async () => {
    const customer = install.data.customer(3)!;
    await install.simulator.trigger({ event: "customers/data_request", shop: install.shop, customer: 3 });
    const request = await waitFor(
      async () =>
        (await install.prisma.dataRequest.findFirst({ where: { shop: install.shop, status: "ready" } })) ?? undefined,
      20_000,
      "data request",
    );
    const exported = request.export as { customer: { email: string }; orders: { id: string }[] };
    expect(exported.customer.email).toBe(customer.email);
    let expectedOrders = 0;
    for (let i = 0; i < install.data.orderCount; i++) if (install.data.order(i)!.customerIndex === 3) expectedOrders++;
    expect(exported.orders).toHaveLength(expectedOrders);
  });

  it("customers/redact leaves nothing of the customer in any text or JSON column", async () => {
    // A customer with orders and a full name no other customer shares.
    const names = new Map<string, number>();
    for (let j = 0; j < install.data.customerCount; j++) {
      const c = install.data.customer(j)!;
      names.set(`${c.firstName} ${c.lastName}`, (names.get(`${c.firstName} ${c.lastName}`) ?? 0) + 1);
    }
    let index = -1;
    for (let i = 0; i < install.data.orderCount && index < 0; i++) {
      const candidate = install.data.order(i)!.customerIndex;
      if (candidate !== null && candidate !== 3) {
        const c = install.data.customer(candidate)!;
        if (names.get(`${c.firstName} ${c.lastName}`) === 1 && c.phone) index = candidate;
      }
    }
    expect(index).toBeGreaterThanOrEqual(0);
    const customer = install.data.customer(index)!;
    // Give the customer traces everywhere first: a data request and a webhook mentioning them.
    await install.simulator.trigger({ event: "customers/data_request", shop: install.shop, customer: index });
    const identifiers = [
      customer.email,
      customer.phone!,
      `${customer.firstName} ${customer.lastName}`,
      `gid://shopify/Customer/${customer.id}`,
      String(customer.id),
    ];
    await waitFor(
      async () => (await scanTables([customer.email])).some((hit) => hit.includes("DataRequest")),
      20_000,
      "export",
    );
    expect((await scanTables(identifiers)).length).toBeGreaterThan(0);

    await install.simulator.trigger({ event: "customers/redact", shop: install.shop, customer: index });
    await waitFor(
      async () => (await install.prisma.redactionRecord.count({ where: { shop: install.shop, kind: "customer" } })) > 0,
      20_000,
      "redaction",
    );
    expect(await scanTables(identifiers)).toEqual([]);
    // Orders stay for statistics, unlinked.
    const orders = await install.prisma.order.count({ where: { shop: install.shop } });
    expect(orders).toBe(install.data.orderCount);
  });

  it("app/uninstalled removes the sessions and a reinstall starts cleanly", async () => {
    await install.simulator.trigger({ event: "app/uninstalled", shop: install.shop });
    await waitFor(
      async () =>
        (await install.prisma.shop.findFirst({ where: { domain: install.shop, uninstalledAt: { not: null } } })) ??
        undefined,
      20_000,
      "uninstall",
    );
    expect(await install.prisma.session.count({ where: { shop: install.shop } })).toBe(0);
    const reinstalled = await fetch(embeddedAppUrl(app.url, install.shop), { headers: BROWSER_HEADERS });
    expect(reinstalled.status).toBe(200);
    const shop = await install.prisma.shop.findUniqueOrThrow({ where: { domain: install.shop } });
    expect(shop.uninstalledAt).toBeNull();
    expect(await install.prisma.session.count({ where: { shop: install.shop } })).toBe(1);
  });

  it("shop/redact deletes every row of the shop, jobs included", async () => {
    // Shopify sends shop/redact 48 hours after uninstall, when nothing else is in flight:
    // uninstall again and let the reinstall's pull and its webhooks settle first.
    await install.simulator.trigger({ event: "app/uninstalled", shop: install.shop });
    const settled = async () =>
      (await install.prisma.dataPull.count({
        where: { shop: install.shop, status: { in: ["queued", "running"] } },
      })) === 0 &&
      (await install.prisma.webhookDelivery.count({ where: { shop: install.shop, status: "received" } })) === 0;
    await waitFor(settled, 30_000, "pulls and deliveries settled");
    await new Promise((resolve) => setTimeout(resolve, 1500)); // a bulk_operations/finish may still be on its way
    await waitFor(settled, 30_000, "pulls and deliveries settled");
    const shopRedactions = await install.prisma.redactionRecord.count({ where: { kind: "shop" } });
    await install.simulator.trigger({ event: "shop/redact", shop: install.shop });
    await waitFor(
      async () => (await install.prisma.redactionRecord.count({ where: { kind: "shop" } })) > shopRedactions,
      20_000,
      "shop redaction",
    );
    await waitFor(
      async () => (await scanTables([install.shop], ["public", "graphile_worker"])).length === 0 || undefined,
      10_000,
      "queue drained",
    ).catch(() => {});
    expect(await scanTables([install.shop], ["public", "graphile_worker"])).toEqual([]);
  });
});
