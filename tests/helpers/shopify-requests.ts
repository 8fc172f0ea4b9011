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

export function signedWebhook(
  appUrl: string,
  topic: string,
  shop: string,
  payload: unknown,
  options: { secret?: string; eventId?: string; webhookId?: string } = {},
) {
  const body = JSON.stringify(payload);
  const hmac = createHmac("sha256", options.secret ?? TEST_APP.apiSecret)
    .update(body)
    .digest("base64");
  return fetch(`${appUrl}/webhooks/${topic}`, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      "x-shopify-topic": topic,
      "x-shopify-shop-domain": shop,
      "x-shopify-api-version": API_VERSION,
      "x-shopify-webhook-id": options.webhookId ?? randomUUID(),
      "x-shopify-event-id": options.eventId ?? randomUUID(),
      "x-shopify-triggered-at": new Date().toISOString(),
      "x-shopify-hmac-sha256": hmac,
      ...BROWSER_HEADERS,
    },
  });
}
