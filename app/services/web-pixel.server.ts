import { randomBytes } from "node:crypto";
import { loadConfig } from "../config.server";
import { disconnectPixel, getPixelConnection, savePixelConnection } from "../models/pixel.server";
import { PIXEL_EVENTS_PATH } from "./pixel-ingest.server";
import { adminGraphql, PermanentShopifyError } from "./admin-api.server";

/**
 * Activating the web pixel extension in a shop. Its settings (validated by
 * Shopify against extensions/web-pixel/shopify.extension.toml) carry a fresh,
 * unguessable account id and this app's ingestion URL, so one extension
 * build serves every environment.
 */

const CREATE = `#graphql
  mutation ConnectPixel($settings: JSON!) {
    webPixelCreate(webPixel: { settings: $settings }) {
      webPixel {
        id
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`;
const UPDATE = `#graphql
  mutation UpdatePixel($id: ID!, $settings: JSON!) {
    webPixelUpdate(id: $id, webPixel: { settings: $settings }) {
      webPixel {
        id
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`;
const DELETE = `#graphql
  mutation DisconnectPixel($id: ID!) {
    webPixelDelete(id: $id) {
      deletedWebPixelId
      userErrors {
        field
        message
        code
      }
    }
  }
`;
const CURRENT = `#graphql
  query CurrentPixel {
    webPixel {
      id
    }
  }
`;

interface PixelSettings {
  accountID: string;
  ingestUrl: string;
}

export const ingestUrl = () => new URL(PIXEL_EVENTS_PATH, loadConfig().SHOPIFY_APP_URL).href;
const newAccountId = () => randomBytes(24).toString("base64url");

/** `settings` is a JSON scalar: the object itself, which Shopify checks against the extension's settings definition. */
function settingsOf(accountId: string): PixelSettings {
  return { accountID: accountId, ingestUrl: ingestUrl() };
}

function failIfErrors(errors: { message: string }[]) {
  if (errors.length > 0)
    throw new PermanentShopifyError(`Shopify refused the pixel: ${errors.map((e) => e.message).join("; ")}`);
}

async function existingPixelId(shop: string) {
  const current = await adminGraphql(shop, CURRENT);
  return current.webPixel?.id ?? null;
}

/** Creates the shop's pixel (or takes over the one Shopify already has) with a fresh account id. */
export async function connectWebPixel(shop: string) {
  const accountId = newAccountId();
  const settings = settingsOf(accountId);
  const { webPixelCreate } = await adminGraphql(shop, CREATE, { variables: { settings } });
  let webPixelId = webPixelCreate?.webPixel?.id;
  if (!webPixelId) {
    const errors = webPixelCreate?.userErrors ?? [];
    const taken = errors.some((error) => error.code === "TAKEN");
    const existing = taken ? await existingPixelId(shop) : null;
    if (!existing) failIfErrors(errors.length > 0 ? errors : [{ message: "no web pixel in the answer" }]);
    const { webPixelUpdate } = await adminGraphql(shop, UPDATE, { variables: { id: existing!, settings } });
    failIfErrors(webPixelUpdate?.userErrors ?? []);
    webPixelId = webPixelUpdate?.webPixel?.id;
    if (!webPixelId) throw new PermanentShopifyError("Shopify answered no web pixel");
  }
  return savePixelConnection({ shop, accountId, webPixelId, ingestUrl: ingestUrl() });
}

/**
 * Sends the settings again: the app's URL may have changed (a new tunnel
 * under `shopify app dev`, a new domain); with `rotate`, a new account id
 * replaces one that leaked, and the old one stops working at once.
 */
export async function updateWebPixel(shop: string, options: { rotate?: boolean } = {}) {
  const connection = await getPixelConnection(shop);
  if (!connection || connection.status !== "connected" || !connection.webPixelId) return connectWebPixel(shop);
  const accountId = options.rotate ? newAccountId() : connection.accountId;
  const { webPixelUpdate } = await adminGraphql(shop, UPDATE, {
    variables: { id: connection.webPixelId, settings: settingsOf(accountId) },
  });
  failIfErrors(webPixelUpdate?.userErrors ?? []);
  return savePixelConnection({ shop, accountId, webPixelId: connection.webPixelId, ingestUrl: ingestUrl() });
}

/** Removes the pixel from the shop and stops accepting its events. */
export async function disconnectWebPixel(shop: string) {
  const connection = await getPixelConnection(shop);
  if (connection?.webPixelId) {
    const { webPixelDelete } = await adminGraphql(shop, DELETE, { variables: { id: connection.webPixelId } });
    const errors = webPixelDelete?.userErrors ?? [];
    // Already gone in Shopify is as good as deleted.
    const missing = errors.every((error) => /not found|not exist/i.test(error.message));
    if (!missing) failIfErrors(errors);
  }
  await disconnectPixel(shop);
}
