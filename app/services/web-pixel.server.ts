import { randomBytes } from "node:crypto";
import { z } from "zod";
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

const userErrors = z.array(
  z.object({ field: z.array(z.string()).nullish(), message: z.string(), code: z.string().nullish() }),
);
const webPixelPayload = z.object({
  webPixel: z.object({ id: z.string(), settings: z.string() }).nullable(),
  userErrors,
});

const CREATE = /* GraphQL */ `
  mutation ConnectPixel($settings: JSON!) {
    webPixelCreate(webPixel: { settings: $settings }) {
      webPixel {
        id
        settings
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`;
const UPDATE = /* GraphQL */ `
  mutation UpdatePixel($id: ID!, $settings: JSON!) {
    webPixelUpdate(id: $id, webPixel: { settings: $settings }) {
      webPixel {
        id
        settings
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`;
const DELETE = /* GraphQL */ `
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
const CURRENT = /* GraphQL */ `
  query CurrentPixel {
    webPixel {
      id
      settings
    }
  }
`;

export const ingestUrl = () => new URL(PIXEL_EVENTS_PATH, loadConfig().SHOPIFY_APP_URL).href;
const newAccountId = () => randomBytes(24).toString("base64url");

function settingsOf(accountId: string) {
  return JSON.stringify({ accountID: accountId, ingestUrl: ingestUrl() });
}

function failIfErrors(errors: z.infer<typeof userErrors>) {
  if (errors.length > 0)
    throw new PermanentShopifyError(`Shopify refused the pixel: ${errors.map((e) => e.message).join("; ")}`);
}

async function existingPixelId(shop: string) {
  const current = await adminGraphql(shop, CURRENT, z.object({ webPixel: z.object({ id: z.string() }).nullable() }));
  return current.webPixel?.id ?? null;
}

/** Creates the shop's pixel (or takes over the one Shopify already has) with a fresh account id. */
export async function connectWebPixel(shop: string) {
  const accountId = newAccountId();
  const settings = settingsOf(accountId);
  const created = await adminGraphql(shop, CREATE, z.object({ webPixelCreate: webPixelPayload }), {
    variables: { settings },
  });
  let webPixelId = created.webPixelCreate.webPixel?.id;
  if (!webPixelId) {
    const taken = created.webPixelCreate.userErrors.some((error) => error.code === "TAKEN");
    const existing = taken ? await existingPixelId(shop) : null;
    if (!existing) failIfErrors(created.webPixelCreate.userErrors);
    const updated = await adminGraphql(shop, UPDATE, z.object({ webPixelUpdate: webPixelPayload }), {
      variables: { id: existing, settings },
    });
    failIfErrors(updated.webPixelUpdate.userErrors);
    webPixelId = updated.webPixelUpdate.webPixel!.id;
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
  const updated = await adminGraphql(shop, UPDATE, z.object({ webPixelUpdate: webPixelPayload }), {
    variables: { id: connection.webPixelId, settings: settingsOf(accountId) },
  });
  failIfErrors(updated.webPixelUpdate.userErrors);
  return savePixelConnection({ shop, accountId, webPixelId: connection.webPixelId, ingestUrl: ingestUrl() });
}

/** Removes the pixel from the shop and stops accepting its events. */
export async function disconnectWebPixel(shop: string) {
  const connection = await getPixelConnection(shop);
  if (connection?.webPixelId) {
    const deleted = await adminGraphql(
      shop,
      DELETE,
      z.object({ webPixelDelete: z.object({ deletedWebPixelId: z.string().nullable(), userErrors }) }),
      { variables: { id: connection.webPixelId } },
    );
    // Already gone in Shopify is as good as deleted.
    const missing = deleted.webPixelDelete.userErrors.every((error) => /not found|not exist/i.test(error.message));
    if (!missing) failIfErrors(deleted.webPixelDelete.userErrors);
  }
  await disconnectPixel(shop);
}
