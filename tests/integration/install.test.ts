import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shopKey } from "../../app/models/jobs.server";
import { createSimulator } from "../../simulator/server";
import { TEST_APP } from "../helpers/app-env";
import { startAppServer, startWorker, waitFor, type RunningProcess } from "../helpers/processes";
import { BROWSER_HEADERS, embeddedAppUrl, sessionToken, signedWebhook } from "../helpers/shopify-requests";

/**
 * Install end to end with real processes: the app server and a worker talk
 * to the simulated store through the app's own auth and API code.
 */

const shop = `install-${Date.now()}.myshopify.com`;
const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL! }) });
const simulator = createSimulator({ apiKey: TEST_APP.apiKey, apiSecret: TEST_APP.apiSecret, scopes: TEST_APP.scopes });
simulator.store.addShop({
  domain: shop,
  name: "Install Test Outfitters",
  email: "owner.private@example.org",
  currencyCode: "EUR",
  ianaTimezone: "Europe/Berlin",
  planDisplayName: "Grow",
});

let app: RunningProcess & { url: string };
let worker: RunningProcess;
let env: Record<string, string>;

beforeAll(async () => {
  const simulatorUrl = await simulator.listen();
  env = {
    ...TEST_APP.env,
    NODE_ENV: "production",
    LOG_LEVEL: "debug",
    DATABASE_URL: process.env.DATABASE_URL!,
    SHOPIFY_SIMULATOR_URL: simulatorUrl,
  };
  app = await startAppServer(env);
});

afterAll(async () => {
  await Promise.all([app?.stop(), worker?.stop()]);
  await simulator.close();
  await prisma.$disconnect();
});

describe("install through token exchange", () => {
  it("is not ready before a worker has been seen", async () => {
    const response = await fetch(`${app.url}/readyz`);
    const body = await response.json();
    expect(body.checks.database).toBe(true);
    expect(body.checks.migrations).toBe(true);
    if (!body.checks.worker) expect(response.status).toBe(503);
  });

  it("exchanges the session token, stores an encrypted offline session and records the shop", async () => {
    const response = await fetch(embeddedAppUrl(app.url, shop), { headers: BROWSER_HEADERS });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain("Shopify connection");
    expect(html).not.toMatch(/shpat_|shprt_/);
    const framing = response.headers.get("content-security-policy") ?? "";
    expect(framing).toMatch(/^frame-ancestors /);
    expect(framing).toContain(`https://${shop} https://admin.shopify.com`);

    const session = await prisma.session.findUniqueOrThrow({ where: { id: `offline_${shop}` } });
    expect(session.accessToken).toMatch(/^enc:v1:k1:/);
    expect(session.refreshToken).toMatch(/^enc:v1:k1:/);
    expect(session.expires).not.toBeNull();

    const recorded = await prisma.shop.findUniqueOrThrow({ where: { domain: shop } });
    expect(recorded.installedAt).toBeInstanceOf(Date);
    expect(recorded.uninstalledAt).toBeNull();
    expect(recorded.grantedScopes).toBe(TEST_APP.scopes);

    const jobs = await prisma.$queryRaw<{ task_identifier: string; payload: unknown }[]>`
      SELECT t.identifier AS task_identifier, j.payload
      FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id
      WHERE j.key = ${`shop-details-sync:${shopKey(shop)}`}`;
    expect(jobs).toEqual([{ task_identifier: "shop-details-sync", payload: { shop } }]);
  });

  it("runs the first job in the worker: the shop's details come from the Admin API", async () => {
    worker = await startWorker(env);
    const synced = await waitFor(
      () => prisma.shop.findFirst({ where: { domain: shop, detailsSyncedAt: { not: null } } }),
      30_000,
      "shop details",
    );
    expect(synced).toMatchObject({
      name: "Install Test Outfitters",
      currencyCode: "EUR",
      ianaTimezone: "Europe/Berlin",
      planName: "Grow",
    });
    const ready = await waitFor(async () => {
      const response = await fetch(`${app.url}/readyz`);
      return response.status === 200 && response.json();
    });
    expect(ready).toMatchObject({ ready: true, checks: { database: true, migrations: true, worker: true } });
  });

  it("answers an authenticated data request made with the session token", async () => {
    const response = await fetch(`${app.url}/app.data?_routes=routes%2Fapp._index`, {
      headers: { authorization: `Bearer ${sessionToken(shop)}`, ...BROWSER_HEADERS },
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("Install Test Outfitters");
  });

  it("rejects a data request without a valid session token", async () => {
    const response = await fetch(`${app.url}/app.data?_routes=routes%2Fapp._index`, {
      headers: { authorization: "Bearer not-a-token", ...BROWSER_HEADERS },
    });
    expect(response.status).toBe(401);
  });

  it("accepts a signed webhook and rejects a forged one with 401", async () => {
    const accepted = await signedWebhook(app.url, "app/scopes_update", shop, {
      id: 1,
      previous: [],
      current: ["read_customers", "read_orders"],
      updated_at: new Date().toISOString(),
    });
    expect(accepted.status).toBe(200);
    // Processed by the worker, after the 200.
    await waitFor(
      () => prisma.shop.findFirst({ where: { domain: shop, grantedScopes: "read_customers,read_orders" } }),
      20_000,
      "scopes update",
    );

    const forged = await signedWebhook(
      app.url,
      "app/scopes_update",
      shop,
      { current: ["everything"] },
      { secret: "wrong" },
    );
    expect(forged.status).toBe(401);
    const unchanged = await prisma.shop.findUniqueOrThrow({ where: { domain: shop } });
    expect(unchanged.grantedScopes).toBe("read_customers,read_orders");
  });

  it("kept every secret and customer email out of the logs", async () => {
    const logs = app.output() + worker.output();
    expect(logs).toContain('"msg":"request"');
    expect(logs).toMatch(/"requestId":"[0-9a-f-]{36}"/);
    const secrets = [
      TEST_APP.apiSecret,
      "owner.private@example.org",
      ...simulator.store.allTokens().map((issued) => issued.token),
    ];
    expect(secrets.length).toBeGreaterThan(3);
    for (const secret of secrets) expect(logs).not.toContain(secret);
    expect(logs).not.toMatch(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\./);
    expect(logs).not.toMatch(/"x-shopify-hmac-sha256":"[A-Za-z0-9+/=]{20,}"/i);
  });
});
