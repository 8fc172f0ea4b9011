import { createHmac } from "node:crypto";
import { WebhookValidationErrorReason } from "@shopify/shopify-api";
import { describe, expect, it } from "vitest";
import { shopifyLibrary } from "../../app/services/shopify-api.server";
import { checkDelivery, WEBHOOK_PATHS, WEBHOOK_TOPICS, webhookTopicOf } from "../../app/services/webhooks.server";
import { readSubscriptions } from "../../simulator/webhooks";
import { TEST_APP } from "../helpers/app-env";
import { webhookFixture } from "../helpers/payload-shape";

/** The intake's checks, held to the official library's verdict: what a delivery must be before it is recorded. */

const SHOP = "intake-test.myshopify.com";

function headers(body: string, overrides: Record<string, string | undefined> = {}) {
  const all: Record<string, string | undefined> = {
    "content-type": "application/json",
    "x-shopify-topic": "orders/create",
    "x-shopify-shop-domain": SHOP,
    "x-shopify-api-version": "2026-10",
    "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
    "x-shopify-event-id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
    "x-shopify-triggered-at": "2026-12-03T12:00:00.000Z",
    "x-shopify-hmac-sha256": createHmac("sha256", TEST_APP.apiSecret).update(body).digest("base64"),
    ...overrides,
  };
  return Object.fromEntries(Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

const check = (
  topic: Parameters<typeof checkDelivery>[0],
  body: string,
  overrides?: Record<string, string | undefined>,
) => checkDelivery(topic, headers(body, { "x-shopify-topic": topic, ...overrides }), body);

describe("webhook routes", () => {
  it("answer exactly the topics shopify.app.toml subscribes to, each at the URI it names", () => {
    const { subscriptions } = readSubscriptions("shopify.app.toml");
    expect(subscriptions.map((subscription) => subscription.topic).sort()).toEqual([...WEBHOOK_TOPICS].sort());
    for (const subscription of subscriptions) {
      expect(webhookTopicOf(subscription.uri)).toBe(subscription.topic);
      expect(WEBHOOK_PATHS).toContain(subscription.uri);
    }
    expect(webhookTopicOf("/webhooks/orders/create?x=1")).toBe("orders/create");
    expect(webhookTopicOf("/webhooks/orders/created")).toBeUndefined();
    expect(webhookTopicOf("/webhooks/")).toBeUndefined();
  });
});

describe("checkDelivery", () => {
  const order = JSON.stringify({ id: 1, admin_graphql_api_id: "gid://shopify/Order/1" });

  it("accepts a signed delivery, keyed by its event id, with its body as it came", async () => {
    const verdict = await check("orders/create", order);
    expect(verdict).toEqual({
      ok: true,
      delivery: {
        shop: SHOP,
        topic: "orders/create",
        dedupeKey: "98880550-7158-44d4-b7cd-2c97c8a091b5",
        webhookId: "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        apiVersion: "2026-10",
        triggeredAt: new Date("2026-12-03T12:00:00.000Z"),
        payloadJson: order,
      },
    });
  });

  it.each(WEBHOOK_TOPICS)("accepts Shopify's own %s payload sent for the shop it names", async (topic) => {
    const fixture = await webhookFixture(topic);
    const named = fixture.shop_domain ?? fixture.myshopify_domain;
    const body = JSON.stringify(fixture);
    const verdict = await check(topic, body, typeof named === "string" ? { "x-shopify-shop-domain": named } : {});
    expect(verdict).toMatchObject({ ok: true });
  });

  it("answers 401 to a missing or wrong signature", async () => {
    expect(await check("orders/create", order, { "x-shopify-hmac-sha256": undefined })).toMatchObject({ status: 401 });
    const forged = createHmac("sha256", "another-secret").update(order).digest("base64");
    expect(await check("orders/create", order, { "x-shopify-hmac-sha256": forged })).toMatchObject({ status: 401 });
  });

  it("refuses a topic other than the route's, however it is spelled", async () => {
    expect(await check("orders/create", order, { "x-shopify-topic": "shop/redact" })).toMatchObject({ status: 400 });
    expect(await check("orders/create", order, { "x-shopify-topic": "ORDERS_CREATE" })).toMatchObject({ ok: true });
  });

  it("refuses a payload that names another shop, and privacy payloads that name none", async () => {
    const other = "other-shop.myshopify.com";
    const refused = [
      await check("shop/redact", JSON.stringify({ shop_id: 1, shop_domain: other })),
      await check("shop/redact", JSON.stringify({ shop_id: 1 })),
      await check("customers/redact", JSON.stringify({ customer: { id: 1 }, orders_to_redact: [] })),
      await check("customers/data_request", JSON.stringify({ shop_domain: other.toUpperCase(), customer: { id: 1 } })),
      await check("app/uninstalled", JSON.stringify({ id: 1, domain: SHOP })),
      await check("app/uninstalled", JSON.stringify({ id: 1, myshopify_domain: SHOP, domain: other })),
    ];
    expect(refused.map((verdict) => (verdict.ok ? 200 : verdict.status))).toEqual([400, 400, 400, 400, 400, 400]);
    // A custom primary domain cannot be compared; the myshopify.com one is.
    const customDomain = JSON.stringify({ id: 1, myshopify_domain: SHOP, domain: "shop.example.com" });
    expect(await check("app/uninstalled", customDomain)).toMatchObject({ ok: true });
    expect(await check("shop/redact", JSON.stringify({ shop_id: 1, shop_domain: SHOP }))).toMatchObject({ ok: true });
  });

  it("refuses malformed JSON, non-objects and a shop header that is not a myshopify.com domain", async () => {
    for (const body of ["{", "[]", "null", '"text"']) {
      expect(await check("orders/create", body), body).toMatchObject({ status: 400 });
    }
    expect(await check("orders/create", order, { "x-shopify-shop-domain": "evil.example.com" })).toMatchObject({
      status: 400,
    });
    expect(await check("orders/create", order, { "x-shopify-webhook-id": undefined })).toMatchObject({ status: 400 });
  });

  it("stores text PostgreSQL refuses (NUL, lone surrogates) replaced, so one delivery cannot fail its group", async () => {
    const body = '{"id":1,"admin_graphql_api_id":"gid://shopify/Order/1","note":"a\\u0000b\\ud800c"}';
    const verdict = await check("orders/create", body);
    expect(verdict.ok).toBe(true);
    if (verdict.ok) expect(JSON.parse(verdict.delivery.payloadJson).note).toBe("a\uFFFDb\uFFFDc");
  });
});

describe("the signature and header check", () => {
  const order = JSON.stringify({ id: 2, admin_graphql_api_id: "gid://shopify/Order/2" });
  const signature = (body: string, secret = TEST_APP.apiSecret, encoding: "base64" | "hex" = "base64") =>
    createHmac("sha256", secret).update(body).digest(encoding);
  const cases: [string, string, Record<string, string | undefined>][] = [
    ["signed", order, {}],
    ["signed, with a multi-byte body", '{"id":3,"note":"caf\u00e9 \u2615 \ud83d\ude00 \u00fc"}', {}],
    ["unsigned", order, { "x-shopify-hmac-sha256": undefined }],
    ["signed with an empty signature", order, { "x-shopify-hmac-sha256": "" }],
    ["signed with another secret", order, { "x-shopify-hmac-sha256": signature(order, "another-secret") }],
    ["signed over another body", order, { "x-shopify-hmac-sha256": signature(`${order} `) }],
    ["signed in hex rather than base64", order, { "x-shopify-hmac-sha256": signature(order, undefined, "hex") }],
    ["signed, with a truncated signature", order, { "x-shopify-hmac-sha256": signature(order).slice(0, -2) }],
    ["empty", "", {}],
    ["without a topic", order, { "x-shopify-topic": undefined }],
    ["with an empty topic", order, { "x-shopify-topic": "" }],
    ["without a shop", order, { "x-shopify-shop-domain": undefined }],
    ["without an API version", order, { "x-shopify-api-version": undefined }],
    ["without a webhook id or a topic", order, { "x-shopify-webhook-id": undefined, "x-shopify-topic": undefined }],
    [
      "unsigned, without a webhook id",
      order,
      { "x-shopify-webhook-id": undefined, "x-shopify-hmac-sha256": undefined },
    ],
  ];

  it.each(cases)("gives @shopify/shopify-api's verdict on a delivery %s", async (_name, body, overrides) => {
    const sent = headers(body, { "x-shopify-topic": "orders/create", ...overrides });
    const library = await shopifyLibrary.webhooks.validate({
      rawBody: body,
      rawRequest: { method: "POST", url: "http://localhost/webhooks/orders/create", headers: new Headers(sent) },
    });
    const ours = checkDelivery("orders/create", sent, body);
    if (library.valid) {
      expect(ours).toMatchObject({
        ok: true,
        delivery: { webhookId: library.webhookId, apiVersion: library.apiVersion },
      });
      return;
    }
    const unsigned: string[] = [WebhookValidationErrorReason.MissingHmac, WebhookValidationErrorReason.InvalidHmac];
    expect(ours).toMatchObject({ ok: false, status: unsigned.includes(library.reason) ? 401 : 400 });
    if ("missingHeaders" in library && !ours.ok) {
      expect(ours.reason.toLowerCase()).toBe(`missing headers: ${library.missingHeaders.join(", ")}`.toLowerCase());
    }
  });

  it("checks the bytes that came, not their decoding", () => {
    const bytes = Buffer.from([...Buffer.from('{"id":4,"note":"'), 0xff, 0xfe, ...Buffer.from('"}')]);
    const sent = headers("", {
      "x-shopify-hmac-sha256": createHmac("sha256", TEST_APP.apiSecret).update(bytes).digest("base64"),
    });
    expect(checkDelivery("orders/create", sent, bytes)).toMatchObject({ ok: true });
    expect(checkDelivery("orders/create", sent, bytes.toString("utf8"))).toMatchObject({ ok: false, status: 401 });
  });
});
