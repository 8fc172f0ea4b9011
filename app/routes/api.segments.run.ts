import type { ActionFunctionArgs } from "@remix-run/node";
import { requestSegmentation } from "../models/segmentation-runs.server";
import { jsonResponse } from "../services/json.server";
import { authenticateApi } from "../services/api.server";
import { noQuery, parseQuery } from "../services/request-input.server";

/**
 * POST /api/segments/run: starts a segmentation (or returns the one already
 * waiting). Its id is the job id for GET /api/jobs/<id>.
 */
export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticateApi(request);
  parseQuery(request, noQuery, "api");
  if (request.method !== "POST") return Response.json({ error: "method not allowed" }, { status: 405 });
  const run = await requestSegmentation({ shop: session.shop, trigger: "api" });
  return jsonResponse({ id: run.id, kind: "segmentation", status: run.status }, { status: 202 });
};
