import type { LoaderFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import { getShopMetafieldSync } from "../models/customer-metafields.server";
import { getShopRun } from "../models/segmentation-runs.server";
import { getShopSync } from "../models/segment-syncs.server";
import { toRunProgress } from "../models/segments.server";
import { jsonResponse } from "../services/json.server";
import { authenticateApi } from "../services/api.server";
import { noQuery, parseQuery } from "../services/request-input.server";

/** A job's percent done from its count of items done; 100 only once it succeeded. */
function percentDone(status: string, done: number, total: number | null) {
  if (status === "succeeded") return 100;
  return total ? Math.min(99, Math.floor((100 * done) / total)) : 0;
}

/** GET /api/jobs/<id>: status and progress of a segmentation run, a segment push or a customer metafield sync. */
export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticateApi(request);
  parseQuery(request, noQuery, "api");
  const id = z.uuid().safeParse(params.id);
  if (!id.success) return Response.json({ error: "no such job" }, { status: 404 });
  const run = await getShopRun(session.shop, id.data);
  if (run) return jsonResponse({ kind: "segmentation", ...toRunProgress(run) });
  const metafields = await getShopMetafieldSync(session.shop, id.data);
  if (metafields) {
    const done = metafields.written + metafields.cleared;
    return jsonResponse({
      kind: "metafield-sync",
      id: metafields.id,
      runId: metafields.runId,
      status: metafields.status,
      stage: metafields.stage,
      mode: metafields.mode,
      progress: percentDone(metafields.status, done, metafields.total),
      total: metafields.total,
      written: metafields.written,
      cleared: metafields.cleared,
      throttled: metafields.throttled,
      error: metafields.error,
      requestedAt: metafields.requestedAt,
      startedAt: metafields.startedAt,
      finishedAt: metafields.finishedAt,
    });
  }
  const sync = await getShopSync(session.shop, id.data);
  if (!sync) return Response.json({ error: "no such job" }, { status: 404 });
  const done = sync.tagged + sync.untagged;
  return jsonResponse({
    kind: "segment-sync",
    id: sync.id,
    segmentId: sync.segmentId,
    status: sync.status,
    stage: sync.stage,
    progress: percentDone(sync.status, done, sync.total),
    total: sync.total,
    tagged: sync.tagged,
    untagged: sync.untagged,
    skipped: sync.skipped,
    throttled: sync.throttled,
    error: sync.error,
    requestedAt: sync.requestedAt,
    startedAt: sync.startedAt,
    finishedAt: sync.finishedAt,
  });
};
