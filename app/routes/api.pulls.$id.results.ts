import type { LoaderFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import { getPull } from "../models/pulls.server";
import { listRecords } from "../models/store-data.server";
import { RESOURCES } from "../models/store-tables.server";
import { jsonResponse } from "../services/json.server";
import { parseQuery } from "../services/request-input.server";
import { authenticateApi, pullResultsQuery } from "../services/api.server";

/** GET /api/pulls/<id>/results?resource=orders&cursor=…: the shop's pulled records, a page at a time. */
export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticateApi(request);
  const id = z.uuid().safeParse(params.id);
  const pull = id.success ? await getPull(session.shop, id.data) : null;
  if (!pull) return Response.json({ error: "no such pull" }, { status: 404 });
  const query = parseQuery(request, pullResultsQuery, "api");
  const resource = query.resource as (typeof RESOURCES)[number];
  const page = await listRecords(session.shop, resource, query.cursor ?? null, query.limit);
  return jsonResponse({ resource, records: page.records, nextCursor: page.nextCursor });
};
