import type { LoaderFunctionArgs } from "@remix-run/node";
import type { z } from "zod";
import { shopPredictions } from "../models/shop-predictions.server";
import { authenticateApi, predictionsResponse } from "../services/api.server";
import { jsonResponse } from "../services/json.server";

/** GET /api/predictions: the latest run's backtest, the model it chose and whether predictions are shown. */
export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticateApi(request);
  const { report, shown, reason, run } = await shopPredictions(session.shop);
  const holdout = report?.holdout ?? null;
  const body: z.input<typeof predictionsResponse> = {
    model: report?.model ?? null,
    parameters: report?.parameters ?? null,
    logLikelihood: report?.logLikelihood ?? null,
    spend: report?.spend ?? null,
    holdout: holdout && {
      start: holdout.start,
      end: holdout.end,
      days: holdout.days,
      customers: holdout.customers,
      predictedOrders: holdout.predictedOrders,
      actualOrders: holdout.actualOrders,
      byFrequency: holdout.byFrequency,
      weekly: holdout.weekly,
    },
    relativeError: holdout?.relativeError ?? null,
    errorBound: report?.errorBound ?? null,
    shown,
    failedCondition: shown ? null : reason,
    chosenBecause: report?.chosenBecause ?? null,
    candidates: report?.candidates ?? [],
    run: run && {
      id: run.id,
      asOf: run.asOf?.toISOString() ?? null,
      finishedAt: run.finishedAt?.toISOString() ?? null,
    },
  };
  return jsonResponse(body);
};
