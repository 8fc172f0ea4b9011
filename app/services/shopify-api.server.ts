import "@shopify/shopify-api/adapters/web-api";
import { type ApiVersion, LogSeverity, shopifyApi } from "@shopify/shopify-api";
import { API_VERSION } from "../api-version";
import { loadConfig } from "../config.server";
import { logger } from "../logger.server";

/**
 * The bare @shopify/shopify-api library on the app's settings, for the checks that must not go through
 * shopify-app-remix (which keeps its own instance to itself): session tokens of the JSON API, whose
 * `authenticate.admin` would refuse scripts, and webhook signatures on server.ts's fast path, which loads no
 * Remix. Only errors are logged: the app's own instance already logs the library's startup lines.
 */
const config = loadConfig();
const appUrl = new URL(config.SHOPIFY_APP_URL);

export const shopifyLibrary = shopifyApi({
  apiKey: config.SHOPIFY_API_KEY,
  apiSecretKey: config.SHOPIFY_API_SECRET,
  apiVersion: API_VERSION as ApiVersion,
  scopes: config.SCOPES.split(","),
  hostName: appUrl.host,
  hostScheme: appUrl.protocol === "https:" ? "https" : "http",
  isEmbeddedApp: true,
  logger: { level: LogSeverity.Error, log: (_severity, message) => logger.error({ source: "shopify" }, message) },
});
