import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import { createPull, recentPulls } from "../models/pulls.server";
import { RESOURCES } from "../models/store-data.server";
import { badRequest, jsonResponse, readJsonBody } from "../services/json.server";
import { authenticate } from "../shopify.server";

const startPullRequest = z.object({
  resources: z
    .array(z.enum(RESOURCES as [string, ...string[]]))
    .min(1)
    .optional(),
  mode: z.enum(["bulk", "paginated"]).optional(),
  kind: z.enum(["full", "incremental"]).default("full"),
});

/** POST /api/pulls: start a pull. Authenticated by the embedded app's session token (Authorization: Bearer). */
export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  if (request.method !== "POST") return Response.json({ error: "method not allowed" }, { status: 405 });
  const body = await readJsonBody(request);
  if (!body.ok) return body.response;
  const parsed = startPullRequest.safeParse(body.value);
  if (!parsed.success) return badRequest(parsed.error);
  const pull = await createPull({
    shop: session.shop,
    kind: parsed.data.kind,
    mode: parsed.data.mode,
    resources: parsed.data.resources as ("customers" | "products" | "orders")[] | undefined,
    trigger: "api",
  });
  return jsonResponse({ id: pull.id, status: pull.status, mode: pull.mode, kind: pull.kind }, { status: 202 });
};

/** GET /api/pulls: the shop's recent pulls. */
export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  return jsonResponse({ pulls: await recentPulls(session.shop) });
};
