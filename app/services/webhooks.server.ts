import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { loadConfig } from "../config.server";
import { logger } from "../logger.server";
import { recordDeliveries, type IncomingDelivery } from "../models/webhook-deliveries.server";
import { GroupCommitter } from "./group-commit.server";
import { readBody, refuseTooLarge } from "./http-limits.server";
import { metrics } from "./metrics.server";

/**
 * Webhook intake: POST /webhooks/<topic>, served by node:http directly (server.ts), never through Remix.
 * Shopify's HMAC covers the body alone, so nothing else a delivery says is believed on its own: the
 * signature is checked (as the official library checks it), the X-Shopify-Topic header must be the route's topic, and
 * where the payload names the shop it must be the X-Shopify-Shop-Domain shop (the privacy and uninstall
 * topics must name it). A delivery is recorded once per event with its processing job, in a transaction
 * shared with the deliveries arriving beside it (group commit), then answered 200. No session is loaded
 * here: the worker (app/services/webhook-processing.server.ts) does the work and decides what a shop's
 * state allows.
 */

/** Every topic shopify.app.toml subscribes to; each is answered at /webhooks/<topic>. */
export const WEBHOOK_TOPICS = [
  "app/uninstalled",
  "app/scopes_update",
  "orders/create",
  "customers/create",
  "customers/update",
  "products/update",
  "bulk_operations/finish",
  "customers/data_request",
  "customers/redact",
  "shop/redact",
] as const;

export type WebhookTopic = (typeof WEBHOOK_TOPICS)[number];

/** The library's form of a topic (ORDERS_CREATE), whichever way the X-Shopify-Topic header spells it. */
const libraryTopic = (topic: string) => topic.toUpperCase().replace(/\/|\./g, "_");

const TOPIC_BY_PATH = new Map<string, WebhookTopic>(WEBHOOK_TOPICS.map((topic) => [`/webhooks/${topic}`, topic]));
export const WEBHOOK_PATHS = [...TOPIC_BY_PATH.keys()];

/** The topic a request's URL is the route of, if any (a query string is allowed, as Shopify never sends one). */
export function webhookTopicOf(url = ""): WebhookTopic | undefined {
  if (!url.startsWith("/webhooks/")) return undefined;
  const query = url.indexOf("?");
  return TOPIC_BY_PATH.get(query < 0 ? url : url.slice(0, query));
}

// The payload field that names the shop, for the topics whose payload always does. A signed body of one of
// these topics can then only ever act on its own shop.
const REQUIRED_SHOP_FIELD: Partial<Record<WebhookTopic, "shop_domain" | "myshopify_domain">> = {
  "shop/redact": "shop_domain",
  "customers/redact": "shop_domain",
  "customers/data_request": "shop_domain",
  "app/uninstalled": "myshopify_domain",
};

const MYSHOPIFY_DOMAIN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;

/** The fields any payload may name its shop by. `domain` is the shop's primary domain, compared only when it is a myshopify.com one. */
const shopNaming = z.looseObject({
  shop_domain: z.string().optional(),
  myshopify_domain: z.string().optional(),
  domain: z.unknown().optional(),
});

const config = loadConfig();

/** The header a delivery's value is read from, when it is sent once (Node joins a repeated one). */
function headerOf(headers: IncomingMessage["headers"], name: string) {
  const value = headers[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

// Shopify's signature: the base64 HMAC-SHA256 of the body's bytes under the app's secret. It is checked here,
// with node:crypto, rather than by @shopify/shopify-api's webhooks.validate: that one computes the HMAC through
// WebCrypto (a key import and a thread-pool round trip per delivery) and canonicalises every header for each
// one it reads, which was two thirds of intake's CPU. tests/unit/webhook-intake.test.ts holds this check to
// the library's verdict on the same deliveries.
function signedByApp(rawBody: string | Buffer, signature: string) {
  const expected = Buffer.from(createHmac("sha256", config.SHOPIFY_API_SECRET).update(rawBody).digest("base64"));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The headers every classic webhook delivery carries, as the library requires them. */
const REQUIRED_HEADERS = ["x-shopify-topic", "x-shopify-shop-domain", "x-shopify-api-version", "x-shopify-webhook-id"];

type Verdict = { ok: true; delivery: IncomingDelivery } | { ok: false; status: 400 | 401; reason: string };

const refuse = (status: 400 | 401, reason: string): Verdict => ({ ok: false, status, reason });

/** Everything a delivery must satisfy before it is recorded; answers the delivery or why it is refused. */
export function checkDelivery(
  routeTopic: WebhookTopic,
  headers: IncomingMessage["headers"],
  rawBody: string | Buffer,
): Verdict {
  if (rawBody.length === 0) return refuse(400, "empty body");
  const signature = headerOf(headers, "x-shopify-hmac-sha256");
  if (!signature || !signedByApp(rawBody, signature)) return refuse(401, "missing or invalid HMAC signature");
  const missing = REQUIRED_HEADERS.filter((name) => headerOf(headers, name) === undefined);
  if (missing.length > 0) return refuse(400, `missing headers: ${missing.join(", ")}`);
  if (libraryTopic(headerOf(headers, "x-shopify-topic")!) !== libraryTopic(routeTopic)) {
    return refuse(400, `X-Shopify-Topic is not this route's topic, ${routeTopic}`);
  }
  const shop = headerOf(headers, "x-shopify-shop-domain")!.toLowerCase();
  if (!MYSHOPIFY_DOMAIN.test(shop)) return refuse(400, "X-Shopify-Shop-Domain is not a myshopify.com domain");
  const text = typeof rawBody === "string" ? rawBody : rawBody.toString("utf8");
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    return refuse(400, "body is not valid JSON");
  }
  const naming = shopNaming.safeParse(payload);
  if (!naming.success) return refuse(400, "body is not a JSON object");
  const named = naming.data;
  const required = REQUIRED_SHOP_FIELD[routeTopic];
  if (required && named[required] === undefined)
    return refuse(400, `${routeTopic} body does not name its shop (${required})`);
  const primaryDomain =
    typeof named.domain === "string" && MYSHOPIFY_DOMAIN.test(named.domain) ? named.domain : undefined;
  for (const [field, value] of [
    ["shop_domain", named.shop_domain],
    ["myshopify_domain", named.myshopify_domain],
    ["domain", primaryDomain],
  ] as const) {
    if (value !== undefined && value.toLowerCase() !== shop) {
      return refuse(400, `body's ${field} is not the X-Shopify-Shop-Domain shop`);
    }
  }
  const webhookId = headerOf(headers, "x-shopify-webhook-id")!;
  const triggeredAtHeader = headerOf(headers, "x-shopify-triggered-at");
  const triggeredAt = triggeredAtHeader === undefined ? null : new Date(triggeredAtHeader);
  return {
    ok: true,
    delivery: {
      shop,
      topic: routeTopic,
      dedupeKey: headerOf(headers, "x-shopify-event-id") ?? webhookId,
      webhookId,
      apiVersion: headerOf(headers, "x-shopify-api-version")!,
      triggeredAt: triggeredAt && !Number.isNaN(triggeredAt.getTime()) ? triggeredAt : null,
      payloadJson: storableJson(text, payload),
    },
  };
}

// PostgreSQL's jsonb refuses NUL and unpaired surrogates, and one such delivery would fail every delivery
// committed with it: the payload is stored with them replaced (Shopify sends it again on a refusal, forever).
const UNSTORABLE_ESCAPE = /\\u(?:0000|[dD][89a-fA-F])/;
const UNSTORABLE_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function storableJson(rawBody: string, payload: unknown) {
  if (!UNSTORABLE_ESCAPE.test(rawBody)) return rawBody;
  return JSON.stringify(payload, (_key, value: unknown) =>
    typeof value === "string" ? value.replace(UNSTORABLE_TEXT, "\uFFFD") : value,
  );
}

const intake = new GroupCommitter<IncomingDelivery, void>(
  async (deliveries) => {
    await recordDeliveries(deliveries);
    return deliveries.map(() => undefined);
  },
  { maxBatch: 200, maxConcurrent: 2 },
);

// The counter of each topic, looked up once rather than by label for every delivery.
const deliveriesCounted = new Map(WEBHOOK_TOPICS.map((topic) => [topic, metrics.webhookDeliveries.labels({ topic })]));

function answer(res: ServerResponse, status: number, error?: string, headers: Record<string, string> = {}) {
  if (error === undefined) return void res.writeHead(status, headers).end();
  res.writeHead(status, { ...headers, "content-type": "application/json" }).end(JSON.stringify({ error }));
}

/** Answers one delivery to /webhooks/<topic>: 200 once it is durable, 4xx (nothing stored) when it is refused. */
export async function handleWebhook(req: IncomingMessage, res: ServerResponse, topic: WebhookTopic): Promise<void> {
  if (req.method !== "POST") return answer(res, 405, "use POST", { allow: "POST" });
  const body = await readBody(req, config.WEBHOOK_MAX_BODY_BYTES);
  if (!body) return refuseTooLarge(res, config.WEBHOOK_MAX_BODY_BYTES);
  const verdict = checkDelivery(topic, req.headers, body);
  if (!verdict.ok) {
    logger.warn({ topic, status: verdict.status, reason: verdict.reason }, "webhook refused");
    return answer(res, verdict.status, verdict.reason);
  }
  try {
    await intake.submit(verdict.delivery);
  } catch (error) {
    logger.error({ err: error, topic }, "webhook delivery could not be recorded");
    return answer(res, 503, "temporarily unavailable; Shopify retries", { "retry-after": "1" });
  }
  deliveriesCounted.get(topic)!.inc();
  answer(res, 200);
}
