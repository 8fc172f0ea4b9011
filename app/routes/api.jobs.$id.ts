import type { LoaderFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import { getShopRun } from "../models/segmentation-runs.server";
import { getShopSync } from "../models/segment-syncs.server";
import { toRunProgress } from "../models/segments.server";
import { jsonResponse } from "../services/json.server";
import { authenticateApi } from "../services/api.server";
import { noQuery, parseQuery } from "../services/request-input.server";

/** GET /api/jobs/<id>: status and progress of a segmentation run or a segment push. */
export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticateApi(request);
  parseQuery(request, noQuery, "api");
  const id = z.uuid().safeParse(params.id);
  if (!id.success) return Response.json({ error: "no such job" }, { status: 404 });
  const run = await getShopRun(session.shop, id.data);
  if (run) return jsonResponse({ kind: "segmentation", ...toRunProgress(run) });
  const sync = await getShopSync(session.shop, id.data);
  if (!sync) return Response.json({ error: "no such job" }, { status: 404 });
  const done = sync.tagged + sync.untagged;
  return jsonResponse({
    kind: "segment-sync",
    id: sync.id,
    segmentId: sync.segmentId,
    status: sync.status,
    stage: sync.stage,
    progress: sync.status === "succeeded" ? 100 : sync.total ? Math.min(99, Math.floor((100 * done) / sync.total)) : 0,
    total: sync.total,
    tagged: sync.tagged,
    untagged: sync.untagged,
    throttled: sync.throttled,
    error: sync.error,
    requestedAt: sync.requestedAt,
    startedAt: sync.startedAt,
    finishedAt: sync.finishedAt,
  });
};
