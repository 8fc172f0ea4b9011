import type { ApiVersion } from "@shopify/shopify-api";

/**
 * The Admin API version the app speaks, in one place: the Shopify client,
 * the codegen config and schema check, the simulator and the
 * shopify.app.toml check all read it. Upgrading is this constant plus
 * `npm run schema:refresh` (see README, "Upgrading the Admin API version").
 */
export const API_VERSION = "2026-10" satisfies `${ApiVersion}`;
