import type { LoaderFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import { getPull } from "../models/pulls.server";
import { jsonResponse } from "../services/json.server";
import { authenticateApi } from "../services/api.server";
import { noQuery, parseQuery } from "../services/request-input.server";

/** GET /api/pulls/<id>: status, per-resource counts and error. */
export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticateApi(request);
  parseQuery(request, noQuery, "api");
  const id = z.uuid().safeParse(params.id);
  const pull = id.success ? await getPull(session.shop, id.data) : null;
  if (!pull) return Response.json({ error: "no such pull" }, { status: 404 });
  return jsonResponse({
    id: pull.id,
    kind: pull.kind,
    mode: pull.mode,
    status: pull.status,
    error: pull.error,
    requestedAt: pull.requestedAt,
    startedAt: pull.startedAt,
    finishedAt: pull.finishedAt,
    resources: pull.steps.map((step) => ({
      resource: step.resource,
      status: step.status,
      processed: step.processed,
      total: step.total,
      totalAtLeast: step.totalAtLeast,
      error: step.error,
    })),
  });
};
