import type { ActionFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import { badRequest, jsonResponse, readJsonBody } from "../services/json.server";
import { enqueueProductEnrichment } from "../services/product-enrichment.server";
import { authenticate } from "../shopify.server";

const enrichRequest = z.object({
  productIds: z
    .array(z.string().regex(/^gid:\/\/shopify\/Product\/\d+$/, "expected a product GID"))
    .min(1)
    .max(1000)
    .optional(),
});

/**
 * POST /api/ai/products/enrich: enrich the shop's products (or the listed
 * ones) in a job. Authenticated by the embedded app's session token.
 */
export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  if (request.method !== "POST") return Response.json({ error: "method not allowed" }, { status: 405 });
  const body = await readJsonBody(request);
  if (!body.ok) return body.response;
  const parsed = enrichRequest.safeParse(body.value);
  if (!parsed.success) return badRequest(parsed.error);
  const productIds = parsed.data.productIds ? [...new Set(parsed.data.productIds)] : undefined;
  const job = await enqueueProductEnrichment(session.shop, productIds);
  return jsonResponse({ jobId: job.id }, { status: 202 });
};
