import type { LoaderFunctionArgs } from "@remix-run/node";
import { latestRunProgress, listSegments, predictionStatus, rfmGrid } from "../models/segments.server";
import { jsonResponse } from "../services/json.server";
import { authenticateApi } from "../services/api.server";
import { noQuery, parseQuery } from "../services/request-input.server";

/** GET /api/segments: the shop's segments, the RFM grid, prediction status and the latest run's progress. */
export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticateApi(request);
  parseQuery(request, noQuery, "api");
  const [segments, grid, predictions, latestRun] = await Promise.all([
    listSegments(session.shop),
    rfmGrid(session.shop),
    predictionStatus(session.shop),
    latestRunProgress(session.shop),
  ]);
  return jsonResponse({ segments, rfmGrid: grid, predictions, latestRun });
};
