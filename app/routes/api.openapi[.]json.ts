import { loadConfig } from "../config.server";
import { openApiDocument } from "../services/api.server";

/** GET /api/openapi.json: the JSON API, described from the zod schemas the routes validate with. */
export const loader = () =>
  Response.json(openApiDocument(loadConfig().SHOPIFY_APP_URL), { headers: { "cache-control": "public, max-age=300" } });
