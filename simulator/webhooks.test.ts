import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shopifyLibrary, startTestSimulator } from "./test-client";

const api = shopifyLibrary();

interface Received {
  valid: boolean;
  topic: string;
  webhookId: string;
  eventId: string;
  path: string;
  body: any;
}

let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let app: Server;
const received: Received[] = [];
let failNext = 0;

beforeAll(async () => {
  sim = await startTestSimulator({ size: "small", webhookMaxAttempts: 4, webhookBaseDelayMs: 20 });
  app = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString("utf8");
    if (failNext > 0) {
      failNext--;
      res.writeHead(500).end();
      return;
    }
    // The library's own check, as the app's authenticate.webhook runs it.
    const check = await api.webhooks.validate({ rawBody, rawRequest: req, rawResponse: res });
    received.push({
      valid: check.valid,
      topic: String(req.headers["x-shopify-topic"]),
      webhookId: String(req.headers["x-shopify-webhook-id"]),
      eventId: String(req.headers["x-shopify-event-id"]),
      path: req.url!,
      body: JSON.parse(rawBody),
    });
    res.writeHead(200).end();
  }).listen(0, "127.0.0.1");
  await once(app, "listening");
  sim.simulator.setAppUrl(`http://127.0.0.1:${(app.address() as { port: number }).port}`);
});

afterAll(async () => {
  app.close();
  await sim.simulator.close();
});

describe("webhook sender", () => {
  it("reads the subscriptions from shopify.app.toml, including the compliance topics", () => {
    const topics = sim.simulator.webhooks.subscribedTopics();
    for (const topic of [
      "app/uninstalled",
      "customers/data_request",
      "customers/redact",
      "shop/redact",
      "orders/create",
      "bulk_operations/finish",
    ]) {
      expect(topics).toContain(topic);
    }
  });

  it("signs deliveries so that @shopify/shopify-api validates them, with every Shopify header", async () => {
    received.length = 0;
    const [report] = await sim.simulator.trigger({ event: "customers/redact", shop: sim.shop, customer: 3 });
    expect(report!.delivered).toBe(true);
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ valid: true, topic: "customers/redact", path: "/webhooks/customers/redact" });
    expect(received[0]!.body).toMatchObject({
      shop_domain: sim.shop,
      customer: { id: expect.any(Number), email: expect.stringContaining("@") },
    });
    expect(received[0]!.body.orders_to_redact).toEqual(expect.any(Array));
  });

  it("retries with backoff until the app answers 2xx, keeping the same ids", async () => {
    received.length = 0;
    failNext = 2;
    const [report] = await sim.simulator.trigger({ event: "orders/create", shop: sim.shop, customer: 1 });
    expect(report!.attempts.map((attempt) => attempt.status)).toEqual([500, 500, 200]);
    expect(new Set(report!.attempts.map((attempt) => attempt.webhookId)).size).toBe(1);
    expect(received).toHaveLength(1);
    // the new order is in the store, so a later pull sees it
    const created = received[0]!.body;
    const read = await sim.graphql("query($id: ID!) { order(id: $id) { id name } }", {
      id: created.admin_graphql_api_id,
    });
    expect(read.body.data.order.name).toBe(created.name);
  });

  it("can deliver the same event twice: same event id, new webhook id", async () => {
    received.length = 0;
    await sim.simulator.trigger({ event: "customers/update", shop: sim.shop, customer: 2, duplicates: 1 });
    expect(received).toHaveLength(2);
    expect(received[0]!.eventId).toBe(received[1]!.eventId);
    expect(received[0]!.webhookId).not.toBe(received[1]!.webhookId);
    expect(received.every((delivery) => delivery.valid)).toBe(true);
  });

  it("is scriptable over HTTP, as the CLI uses it", async () => {
    received.length = 0;
    const response = await fetch(`${sim.url}/simulator/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ event: "app/uninstalled", shop: sim.shop }),
    });
    expect(response.status).toBe(200);
    expect(received[0]).toMatchObject({ topic: "app/uninstalled", valid: true });
    // uninstalling revokes the app's tokens
    expect((await sim.graphql("{ shop { name } }")).status).toBe(401);
    const bad = await fetch(`${sim.url}/simulator/events`, { method: "POST", body: JSON.stringify({ event: "nope" }) });
    expect(bad.status).toBe(400);
  });
});
