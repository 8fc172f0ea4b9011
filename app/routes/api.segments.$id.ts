import type { LoaderFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import { getSegmentDetail } from "../models/segments.server";
import { jsonResponse } from "../services/json.server";
import { parseQuery } from "../services/request-input.server";
import { authenticateApi, segmentPageQuery } from "../services/api.server";

/** GET /api/segments/<id>?offset=0&limit=50: one segment and a page of its members with scores and predictions. */
export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticateApi(request);
  const query = parseQuery(request, segmentPageQuery, "api");
  const id = z.uuid().safeParse(params.id);
  const detail = id.success ? await getSegmentDetail(session.shop, id.data, query) : null;
  if (!detail) return Response.json({ error: "no such segment" }, { status: 404 });
  return jsonResponse(detail);
};
