import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test } from "@playwright/test";
import { TRACKED_EVENTS, type WireBatch } from "../../extensions/web-pixel/src/collector";
import {
  bundleWebPixel,
  runPixelSession,
  SESSION_PII,
  shoppingSession,
  type PixelSessionResult,
} from "../helpers/web-pixel-harness";

/** The real extension in a Chromium worker, posting cross-origin to a stand-in collector. */

interface CapturedRequest {
  method: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const WIRE_EVENT_KEYS = ["id", "name", "timestamp", "clientId", "url", "data"];
const WIRE_DATA_KEYS = [
  "productId",
  "variantId",
  "productTitle",
  "productType",
  "vendor",
  "price",
  "currency",
  "quantity",
  "collectionId",
  "collectionTitle",
  "query",
  "cartTotal",
  "checkoutToken",
  "orderId",
  "customerId",
  "itemCount",
];

async function startCaptureCollector() {
  const requests: CapturedRequest[] = [];
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    requests.push({ method: request.method ?? "", headers: request.headers, body: Buffer.concat(chunks).toString() });
    response
      .writeHead(204, {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": "POST",
        "Access-Control-Allow-Headers": "Content-Type",
      })
      .end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/pixel/events`,
    requests,
    batches: () => requests.filter((r) => r.method === "POST").map((r) => JSON.parse(r.body) as WireBatch),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let collector: Awaited<ReturnType<typeof startCaptureCollector>>;

test.beforeEach(async () => {
  collector = await startCaptureCollector();
});

test.afterEach(async () => {
  await collector.close();
});

function expectValidBatches(batches: WireBatch[], accountId: string, session: PixelSessionResult) {
  for (const batch of batches) {
    expect(Object.keys(batch).sort()).toEqual(["accountId", "events"]);
    expect(batch.accountId).toBe(accountId);
    expect(batch.events.length).toBeGreaterThanOrEqual(1);
    expect(batch.events.length).toBeLessThanOrEqual(100);
    for (const event of batch.events) {
      expect(WIRE_EVENT_KEYS).toEqual(expect.arrayContaining(Object.keys(event)));
      expect(TRACKED_EVENTS).toContain(event.name);
      expect(event.clientId).toBe(session.clientId);
      expect(new Date(event.timestamp).toISOString()).toBe(event.timestamp);
      expect(WIRE_DATA_KEYS).toEqual(expect.arrayContaining(Object.keys(event.data ?? {})));
    }
  }
}

test("with consent, every event of a shopping session reaches the collector cross-origin", async ({ page }) => {
  const accountId = "acct-7f3c9e21d4b8";
  const session = await runPixelSession(page, { ingestUrl: collector.url, accountId, consent: true });

  expect(await bundleWebPixel()).toContain("WebPixel::Render");
  expect([...session.subscribedEvents].sort()).toEqual([...TRACKED_EVENTS].sort());
  expect(session.deliveredEventIds).toEqual(session.publishedEventIds);
  expect(session.statuses.every((status) => status === 204)).toBe(true);
  for (const request of session.requests) {
    expect(request).toMatchObject({ method: "POST", keepalive: true, credentials: "omit", mode: "cors" });
  }

  // A text/plain POST is a "simple" request: no preflight, but the browser still enforces CORS on it.
  expect(collector.requests.map((r) => r.method).every((method) => method === "POST")).toBe(true);
  for (const request of collector.requests) {
    expect(request.headers.origin).toBe(session.pageOrigin);
    expect(request.headers["content-type"]).toBe("text/plain;charset=UTF-8");
    expect(request.headers.cookie).toBeUndefined();
    for (const value of SESSION_PII) expect(request.body).not.toContain(value);
  }
  expect(new URL(collector.url).origin).not.toBe(session.pageOrigin);

  const batches = collector.batches();
  // The pause in the session lets the timer send the browsing events before checkout_completed sends the rest.
  expect(batches.length).toBeGreaterThanOrEqual(2);
  expectValidBatches(batches, accountId, session);
  const events = batches.flatMap((batch) => batch.events);
  expect(events.map((event) => event.id)).toEqual(session.publishedEventIds);
  expect(events.map((event) => event.name)).toEqual(session.published.map((event) => event.name));

  const byName = (name: string) => events.find((event) => event.name === name)?.data;
  expect(byName("product_viewed")).toMatchObject({
    productId: "gid://shopify/Product/8822101",
    variantId: "gid://shopify/ProductVariant/45102934",
    price: "18.5",
    currency: "CAD",
  });
  expect(byName("collection_viewed")).toMatchObject({ collectionId: "gid://shopify/Collection/471002" });
  expect(byName("search_submitted")).toEqual({ query: "smoky" });
  expect(byName("product_added_to_cart")).toMatchObject({ quantity: 3 });
  expect(byName("cart_viewed")).toEqual({ cartTotal: "61", currency: "CAD", itemCount: 2 });
  expect(byName("checkout_completed")).toMatchObject({
    orderId: "gid://shopify/Order/5550001234",
    customerId: "gid://shopify/Customer/7001234",
    itemCount: 2,
  });
  expect(events.find((event) => event.name === "page_viewed")?.url).toBe("https://microsegment-harness.myshopify.com/");
});

test("without consent, nothing reaches the collector", async ({ page }) => {
  const session = await runPixelSession(page, {
    ingestUrl: collector.url,
    accountId: "acct-no-consent",
    consent: false,
    quietMs: 6_000,
  });

  expect(session.publishedEventIds).toHaveLength(11);
  expect(session.expectedEventIds).toEqual([]);
  expect(session.requests).toEqual([]);
  expect(collector.requests).toEqual([]);
});

test("consent given during the visit: only the events after it reach the collector", async ({ page }) => {
  const accountId = "acct-late-consent";
  const steps = shoppingSession();
  const session = await runPixelSession(page, {
    ingestUrl: collector.url,
    accountId,
    consent: false,
    session: [...steps.slice(0, 3), { consent: true }, ...steps.slice(3)],
  });

  const beforeConsent = session.publishedEventIds.slice(0, 3);
  expect(session.expectedEventIds).toEqual(session.publishedEventIds.slice(3));
  const batches = collector.batches();
  expectValidBatches(batches, accountId, session);
  const receivedIds = batches.flatMap((batch) => batch.events.map((event) => event.id));
  expect(receivedIds).toEqual(session.expectedEventIds);
  for (const id of beforeConsent) expect(receivedIds).not.toContain(id);
});
