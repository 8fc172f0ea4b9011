import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { createPull, recentPulls } from "../models/pulls.server";
import { badRequest, jsonResponse, readJsonBody } from "../services/json.server";
import { authenticateApi, startPullRequest } from "../services/api.server";
import { noQuery, parseQuery } from "../services/request-input.server";

/** POST /api/pulls: start a pull. Authenticated by the embedded app's session token (Authorization: Bearer). */
export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticateApi(request);
  parseQuery(request, noQuery, "api");
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
  const { session } = await authenticateApi(request);
  parseQuery(request, noQuery, "api");
  return jsonResponse({ pulls: await recentPulls(session.shop) });
};
