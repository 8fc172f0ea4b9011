import type { ActionFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import { requestSegmentSync } from "../models/segment-syncs.server";
import { jsonResponse } from "../services/json.server";
import { authenticateApi } from "../services/api.server";
import { noQuery, parseQuery } from "../services/request-input.server";

/**
 * POST /api/segments/<id>/sync: pushes the segment to Shopify (customer tags
 * and a Shopify segment on the tag). Its id is the job id for GET /api/jobs/<id>.
 */
export const action = async ({ request, params }: ActionFunctionArgs) => {
  const { session } = await authenticateApi(request);
  parseQuery(request, noQuery, "api");
  if (request.method !== "POST") return Response.json({ error: "method not allowed" }, { status: 405 });
  const id = z.uuid().safeParse(params.id);
  const sync = id.success ? await requestSegmentSync(session.shop, id.data) : null;
  if (!sync) return Response.json({ error: "no such segment" }, { status: 404 });
  return jsonResponse({ id: sync.id, kind: "segment-sync", status: sync.status }, { status: 202 });
};
