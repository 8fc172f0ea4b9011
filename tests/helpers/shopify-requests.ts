import { createHmac, randomUUID } from "node:crypto";
import { API_VERSION } from "../../app/api-version";
import { embeddedAppUrl as localAdminAppUrl } from "../../simulator/local-admin";
import { signSessionToken } from "../../simulator/session-token";
import { TEST_APP } from "./app-env";

/** Requests as Shopify Admin and Shopify's webhook sender make them. */

export function sessionToken(shop: string) {
  return signSessionToken({ shop, apiKey: TEST_APP.apiKey, apiSecret: TEST_APP.apiSecret });
}

/** The app's URL as Shopify Admin opens it, with a fresh session token (the local Admin's own code). */
export function embeddedAppUrl(appUrl: string, shop: string, path = "/app") {
  return localAdminAppUrl({ appUrl, apiKey: TEST_APP.apiKey, apiSecret: TEST_APP.apiSecret }, shop, path);
}

export const BROWSER_HEADERS = {
  "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36",
};

export interface SignedWebhookOptions {
  secret?: string;
  eventId?: string;
  webhookId?: string;
  /** X-Shopify-Topic when it differs from the route's topic (a forgery). */
  topicHeader?: string;
  /** The exact bytes to sign and send, instead of the payload's JSON. */
  rawBody?: string;
  /** Headers to add, or to drop when set to undefined. */
  headers?: Record<string, string | undefined>;
}

/** A delivery to /webhooks/<topic>, signed as Shopify signs it: base64 HMAC-SHA256 of the raw body. */
export function signedWebhook(
  appUrl: string,
  topic: string,
  shop: string,
  payload: unknown,
  options: SignedWebhookOptions = {},
) {
  const body = options.rawBody ?? JSON.stringify(payload);
  const hmac = createHmac("sha256", options.secret ?? TEST_APP.apiSecret)
    .update(body)
    .digest("base64");
  const headers: Record<string, string | undefined> = {
    "content-type": "application/json",
    "x-shopify-topic": options.topicHeader ?? topic,
    "x-shopify-shop-domain": shop,
    "x-shopify-api-version": API_VERSION,
    "x-shopify-webhook-id": options.webhookId ?? randomUUID(),
    "x-shopify-event-id": options.eventId ?? randomUUID(),
    "x-shopify-triggered-at": new Date().toISOString(),
    "x-shopify-hmac-sha256": hmac,
    "user-agent": "Shopify-Captain-Hook",
    ...options.headers,
  };
  return fetch(`${appUrl}/webhooks/${topic}`, {
    method: "POST",
    body,
    headers: Object.fromEntries(
      Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== undefined),
    ),
  });
}
