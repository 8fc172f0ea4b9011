import type { ActionFunctionArgs } from "@remix-run/node";
import { badRequest, jsonResponse, readJsonBody } from "../services/json.server";
import { enqueueProductEnrichment } from "../services/product-enrichment.server";
import { authenticateApi, enrichProductsRequest } from "../services/api.server";
import { noQuery, parseQuery } from "../services/request-input.server";

/**
 * POST /api/ai/products/enrich: enrich the shop's products (or the listed
 * ones) in a job. Authenticated by the embedded app's session token.
 */
export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticateApi(request);
  parseQuery(request, noQuery, "api");
  if (request.method !== "POST") return Response.json({ error: "method not allowed" }, { status: 405 });
  const body = await readJsonBody(request);
  if (!body.ok) return body.response;
  const parsed = enrichProductsRequest.safeParse(body.value);
  if (!parsed.success) return badRequest(parsed.error);
  const productIds = parsed.data.productIds ? [...new Set(parsed.data.productIds)] : undefined;
  const job = await enqueueProductEnrichment(session.shop, productIds);
  return jsonResponse({ jobId: job.id }, { status: 202 });
};
