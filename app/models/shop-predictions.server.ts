import type { SegmentationRun } from "@prisma/client";
import { parsePredictionReport, type PredictionReport } from "./prediction-report.server";
import { latestCompletedRun } from "./segmentation-runs.server";

/**
 * Whether a shop's predictions are shown, and the backtest behind that, as
 * every page and the API read it: from the last run that stored segments.
 * Predictions are shown only when the run's history gate let them through
 * and, once the run stored a backtest, its error stayed within the bound.
 */

export interface PredictionVerdict {
  shown: boolean;
  /** Why predictions are shown, or which condition failed. */
  reason: string;
  /** The run's backtest; null before a run stored one (or when it no longer parses). */
  report: PredictionReport | null;
}

export const NO_RUN_YET = "No segmentation has run yet.";

type RunVerdictFields = Pick<SegmentationRun, "predictionsShown" | "predictionGate" | "predictionReport">;

export function predictionVerdict(run: RunVerdictFields | null): PredictionVerdict {
  if (!run) return { shown: false, reason: NO_RUN_YET, report: null };
  const report = parsePredictionReport(run.predictionReport);
  const gateReason =
    run.predictionGate ?? (run.predictionsShown ? "Predictions are shown." : "Predictions are not shown.");
  if (!run.predictionsShown) return { shown: false, reason: gateReason, report };
  if (report && !report.shown) {
    return {
      shown: false,
      reason: report.failedCondition ?? "The backtest error is outside the bound at which predictions are shown.",
      report,
    };
  }
  return { shown: true, reason: gateReason, report };
}

export interface ShopPredictions extends PredictionVerdict {
  run: { id: string; asOf: Date | null; finishedAt: Date | null } | null;
}

/** The shop's latest backtest and whether its predictions are shown. */
export async function shopPredictions(shop: string): Promise<ShopPredictions> {
  const run = await latestCompletedRun(shop);
  return {
    ...predictionVerdict(run),
    run: run && { id: run.id, asOf: run.asOf, finishedAt: run.finishedAt },
  };
}
