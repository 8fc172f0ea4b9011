import type { LoaderFunctionArgs } from "@remix-run/node";
import { loadConfig } from "../config.server";
import { openApiDocument } from "../services/api.server";
import { noQuery, parseQuery } from "../services/request-input.server";

/** GET /api/openapi.json: the JSON API, described from the zod schemas the routes validate with. */
export const loader = ({ request }: LoaderFunctionArgs) => {
  parseQuery(request, noQuery, "api");
  return Response.json(openApiDocument(loadConfig().SHOPIFY_APP_URL), {
    headers: { "cache-control": "public, max-age=300" },
  });
};
