import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_APP } from "../helpers/app-env";
import { simulatedInstall } from "../helpers/installed-shop";
import { startAppServer, startWorker, waitFor, type RunningProcess } from "../helpers/processes";
import { BROWSER_HEADERS, sessionToken } from "../helpers/shopify-requests";

/**
 * The pixel's public endpoint, through real app processes and Postgres:
 * activation from the Pixel page, CORS, validation, account mapping,
 * dedupe, identity, limits shared by two instances, and no acknowledged
 * event lost when the process dies right after answering.
 */

type Install = Awaited<ReturnType<typeof simulatedInstall>>;
let install: Install;
let apps: (RunningProcess & { url: string })[];
let worker: RunningProcess;
const CLIENT_LIMIT = 40;
const SHOP_LIMIT = 150;

const accountId = () => randomBytes(24).toString("base64url");

function event(overrides: Record<string, unknown> = {}) {
  return {
    id: randomUUID(),
    name: "page_viewed",
    timestamp: new Date().toISOString(),
    clientId: "client-a",
    url: "https://shop.example/products/hat",
    ...overrides,
  };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${url}/api/pixel/events`, {
    method: "POST",
    headers: { "content-type": "text/plain;charset=UTF-8", origin: "null", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/** A shop whose pixel is connected, made directly in the database. */
async function connectedShop(label: string) {
  const shop = `${label}-${randomBytes(3).toString("hex")}.myshopify.com`;
  const id = accountId();
  await install.prisma.pixelConnection.create({
    data: { shop, accountId: id, ingestUrl: "https://app.example/api/pixel/events", status: "connected" },
  });
  return { shop, accountId: id };
}

const storedCount = (shop: string) => install.prisma.pixelEvent.count({ where: { shop } });

/** Limits count per minute: start a burst early in a minute so that it does not straddle two windows. */
async function awayFromMinuteEnd() {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 45_000) await new Promise((resolve) => setTimeout(resolve, 60_500 - intoMinute));
}

beforeAll(async () => {
  install = await simulatedInstall({ size: "tiny" });
  const env = {
    ...install.env,
    NODE_ENV: "production",
    PIXEL_CLIENT_EVENTS_PER_MINUTE: String(CLIENT_LIMIT),
    PIXEL_SHOP_EVENTS_PER_MINUTE: String(SHOP_LIMIT),
  };
  apps = await Promise.all([startAppServer(env), startAppServer(env)]);
  worker = await startWorker(env);
  install.simulator.setAppUrl(apps[0]!.url);
});

afterAll(async () => {
  await Promise.all([...(apps ?? []).map((app) => app.stop()), worker?.stop()]);
  await install?.close();
});

describe("pixel activation", () => {
  it("connects the shop's pixel from the Pixel page with a fresh account id and the app's ingest URL", async () => {
    const response = await fetch(`${apps[0]!.url}/app/pixel?_data=routes%2Fapp.pixel`, {
      method: "POST",
      headers: { authorization: `Bearer ${sessionToken(install.shop)}`, ...BROWSER_HEADERS },
      body: new URLSearchParams({ intent: "connect" }),
    });
    expect(response.status).toBe(200);
    const connection = await install.prisma.pixelConnection.findUniqueOrThrow({ where: { shop: install.shop } });
    expect(connection.status).toBe("connected");
    expect(connection.accountId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const pixel = install.simulator.runtime(install.shop)!.webPixel!;
    expect(pixel.id).toBe(connection.webPixelId);
    expect(pixel.settings).toEqual({
      accountID: connection.accountId,
      ingestUrl: new URL("/api/pixel/events", TEST_APP.env.SHOPIFY_APP_URL).href,
    });

    const accepted = await post(apps[0]!.url, { accountId: connection.accountId, events: [event()] });
    expect(accepted.status).toBe(202);
    expect(await storedCount(install.shop)).toBe(1);
  });

  it("stops accepting the shop's events once the app is uninstalled", async () => {
    const { accountId: id } = await install.prisma.pixelConnection.findUniqueOrThrow({ where: { shop: install.shop } });
    await install.simulator.trigger({ event: "app/uninstalled", shop: install.shop });
    await waitFor(
      async () =>
        (await install.prisma.pixelConnection.findFirst({ where: { shop: install.shop, status: "disconnected" } })) ??
        undefined,
      20_000,
      "pixel disconnected by app/uninstalled",
    );
    const before = await storedCount(install.shop);
    expect((await post(apps[1]!.url, { accountId: id, events: [event()] })).status).toBe(410);
    expect(await storedCount(install.shop)).toBe(before);
    expect(install.simulator.runtime(install.shop)!.webPixel).toBeUndefined();
  });
});

describe("POST /api/pixel/events", () => {
  it("answers CORS preflights and sandboxed (null-origin) posts, and sets no cookies", async () => {
    const preflight = await fetch(`${apps[0]!.url}/api/pixel/events`, {
      method: "OPTIONS",
      headers: { origin: "https://shop.example", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-methods")).toContain("POST");
    const { accountId: id } = await connectedShop("cors");
    const posted = await post(apps[0]!.url, { accountId: id, event: event() });
    expect(posted.status).toBe(202);
    expect(posted.headers.get("access-control-allow-origin")).toBe("*");
    expect(posted.headers.get("access-control-allow-credentials")).toBeNull();
    expect(posted.headers.get("set-cookie")).toBeNull();
  });

  it("stores a batch with its shop and client id, once per event id", async () => {
    const { shop, accountId: id } = await connectedShop("batch");
    const events = [
      event({ name: "page_viewed", clientId: "c-1" }),
      event({
        name: "product_viewed",
        clientId: "c-1",
        data: {
          productId: "gid://shopify/Product/7",
          variantId: "gid://shopify/ProductVariant/70",
          price: "19.99",
          currency: "CAD",
        },
      }),
      event({ name: "search_submitted", clientId: "c-1", data: { query: "wool hat" } }),
    ];
    expect((await post(apps[0]!.url, { accountId: id, events })).status).toBe(202);
    // Retried by the pixel and delivered again, partly through the other instance.
    expect((await post(apps[1]!.url, { accountId: id, events })).status).toBe(202);
    expect((await post(apps[0]!.url, { accountId: id, event: events[1] })).status).toBe(202);
    const stored = await install.prisma.pixelEvent.findMany({ where: { shop }, orderBy: { occurredAt: "asc" } });
    expect(stored).toHaveLength(3);
    expect(new Set(stored.map((row) => row.eventId))).toEqual(new Set(events.map((e) => e.id)));
    expect(stored.every((row) => row.clientId === "c-1")).toBe(true);
    expect(stored.find((row) => row.name === "product_viewed")!.data).toMatchObject({
      price: "19.99",
      currency: "CAD",
    });
  });

  it("refuses bad input with a clear 4xx and stores nothing", async () => {
    const { shop, accountId: id } = await connectedShop("bad");
    const cases: [unknown, number, RegExp][] = [
      ["{not json", 400, /valid JSON/],
      [{ accountId: id, events: [event({ name: "teleported" })] }, 400, /events\.0\.name/],
      [{ accountId: id, events: [event({ data: { email: "someone@example.com" } })] }, 400, /events\.0\.data/],
      [{ accountId: id, events: [event({ timestamp: "yesterday" })] }, 400, /timestamp/],
      [{ accountId: id, events: [] }, 400, /events/],
      [{ accountId: id, events: Array.from({ length: 101 }, () => event()) }, 400, /events/],
      [{ events: [event()] }, 400, /accountId/],
      [{ accountId: id, events: [event({ url: "x".repeat(70_000) })] }, 413, /larger than 65536/],
      [{ accountId: accountId(), events: [event()] }, 404, /unknown pixel account/],
    ];
    for (const [body, status, message] of cases) {
      const response = await post(apps[0]!.url, body);
      expect(response.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      expect(response.body).toMatch(message);
    }
    const wrongMethod = await fetch(`${apps[0]!.url}/api/pixel/events`);
    expect(wrongMethod.status).toBe(405);
    expect(await storedCount(shop)).toBe(0);
  });

  it("refuses text the database cannot store without failing the events stored beside it", async () => {
    const { shop, accountId: id } = await connectedShop("unstorable");
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, n) => {
        const overrides =
          n % 4 === 0 ? { clientId: "nul\u0000here" } : n % 4 === 1 ? { data: { productTitle: "half \ud83d" } } : {};
        // JSON.stringify writes a NUL and an unpaired surrogate as \u escapes, as a browser would.
        return post(apps[n % 2]!.url, { accountId: id, event: event(overrides) });
      }),
    );
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 400)).toHaveLength(20);
    expect(statuses.filter((status) => status === 202)).toHaveLength(20);
    expect(answers.find((answer) => answer.status === 400)!.body).toMatch(/well-formed Unicode/);
    expect(await storedCount(shop)).toBe(20);
  });

  it("links a checkout's client id to the customer, so earlier browsing joins their history", async () => {
    const { shop, accountId: id } = await connectedShop("identity");
    // A second apart: events of the same millisecond would have no order to compare.
    const at = (seconds: number) => new Date(Date.now() - 60_000 + seconds * 1000).toISOString();
    const browsing = [
      event({ clientId: "anon-9", timestamp: at(0) }),
      event({ name: "product_added_to_cart", clientId: "anon-9", timestamp: at(1), data: { quantity: 2 } }),
    ];
    const checkout = event({
      name: "checkout_completed",
      clientId: "anon-9",
      timestamp: at(2),
      data: {
        orderId: "gid://shopify/Order/5001",
        customerId: "gid://shopify/Customer/42",
        cartTotal: "58.00",
        currency: "CAD",
      },
    });
    expect((await post(apps[0]!.url, { accountId: id, events: browsing })).status).toBe(202);
    expect((await post(apps[1]!.url, { accountId: id, events: [checkout] })).status).toBe(202);
    const history = await install.prisma.$queryRaw<{ name: string }[]>`
      SELECT e.name FROM "PixelEvent" e JOIN "PixelIdentity" i ON i.shop = e.shop AND i."clientId" = e."clientId"
      WHERE i.shop = ${shop} AND i."customerId" = 'gid://shopify/Customer/42' ORDER BY e."occurredAt"`;
    expect(history.map((row) => row.name)).toEqual(["page_viewed", "product_added_to_cart", "checkout_completed"]);
    const identity = await install.prisma.pixelIdentity.findUniqueOrThrow({
      where: { shop_clientId: { shop, clientId: "anon-9" } },
    });
    expect(identity.orderId).toBe("gid://shopify/Order/5001");
  });

  it("limits each visitor and each shop, counted across both app instances, with 429 and Retry-After", async () => {
    await awayFromMinuteEnd();
    const { shop, accountId: id } = await connectedShop("limits");
    const visitorAnswers = await Promise.all(
      Array.from({ length: CLIENT_LIMIT + 10 }, (_, n) =>
        post(apps[n % 2]!.url, { accountId: id, event: event({ clientId: "flooder" }) }),
      ),
    );
    const statuses = visitorAnswers.map((answer) => answer.status);
    expect(statuses.filter((status) => status === 202)).toHaveLength(CLIENT_LIMIT);
    expect(statuses.filter((status) => status === 429)).toHaveLength(10);
    const limited = visitorAnswers.find((answer) => answer.status === 429)!;
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    expect(await storedCount(shop)).toBe(CLIENT_LIMIT);

    // Other visitors still get through (the flooder's refused attempts cost the shop nothing), until the
    // shop as a whole reaches its limit.
    const shopAnswers = await Promise.all(
      Array.from({ length: SHOP_LIMIT }, (_, n) =>
        post(apps[n % 2]!.url, { accountId: id, event: event({ clientId: `visitor-${n}` }) }),
      ),
    );
    const accepted = shopAnswers.filter((answer) => answer.status === 202).length;
    expect(accepted).toBe(SHOP_LIMIT - CLIENT_LIMIT);
    expect(await storedCount(shop)).toBe(SHOP_LIMIT);
  });
});

describe("durability", () => {
  it("keeps every acknowledged event when the app is killed right after answering", async () => {
    const { shop, accountId: id } = await connectedShop("durable");
    const env = {
      ...install.env,
      NODE_ENV: "production",
      PIXEL_SHOP_EVENTS_PER_MINUTE: "100000",
      PIXEL_CLIENT_EVENTS_PER_MINUTE: "100000",
    };
    const victim = await startAppServer(env);
    const acknowledged: string[] = [];
    let unanswered = 0;
    let killed = false;
    // Eight visitors send one event after another until the process is gone; it dies once 100 are acknowledged.
    await Promise.all(
      Array.from({ length: 8 }, async (_, lane) => {
        for (;;) {
          const sent = event({ clientId: `v-${lane}` });
          try {
            const answer = await post(victim.url, { accountId: id, event: sent });
            if (answer.status === 202) acknowledged.push(sent.id);
          } catch {
            // The connection died with the process: not acknowledged, so the pixel would retry it.
            unanswered++;
            return;
          }
          if (acknowledged.length >= 100 && !killed) {
            killed = true;
            victim.child.kill("SIGKILL");
          }
        }
      }),
    );
    await victim.stop();
    expect(killed).toBe(true);
    expect(unanswered).toBe(8);
    expect(acknowledged.length).toBeGreaterThanOrEqual(100);
    const stored = await install.prisma.pixelEvent.findMany({
      where: { shop, eventId: { in: acknowledged } },
      select: { eventId: true },
    });
    expect(stored).toHaveLength(acknowledged.length);
  });
});
