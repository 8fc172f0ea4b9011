import type { ActionFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import { requestMetafieldSyncCancel } from "../models/customer-metafields.server";
import { requestRunCancel } from "../models/segmentation-runs.server";
import { authenticateApi } from "../services/api.server";
import { noQuery, parseQuery } from "../services/request-input.server";

/** POST /api/jobs/<id>/cancel: stops a segmentation run or a metafield sync within seconds; it is recorded as cancelled. */
export const action = async ({ request, params }: ActionFunctionArgs) => {
  const { session } = await authenticateApi(request);
  parseQuery(request, noQuery, "api");
  const id = z.uuid().safeParse(params.id);
  if (!id.success) return Response.json({ error: "no such job" }, { status: 404 });
  const cancelled =
    (await requestRunCancel(session.shop, id.data)) || (await requestMetafieldSyncCancel(session.shop, id.data));
  return Response.json({ cancelled }, { status: cancelled ? 202 : 409 });
};
