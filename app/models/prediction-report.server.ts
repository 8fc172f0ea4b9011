import { z } from "zod";

/**
 * What a segmentation run learned about its purchase model, stored on the run
 * (SegmentationRun.predictionReport): the candidates fitted on the history
 * before the holdout, how each predicted the holdout, the model chosen and
 * refitted on all history, and whether its backtest error lets the app show
 * predictions. The Predictions page and GET /api/predictions read it.
 */

export const PurchaseModelName = z.enum(["bg-nbd", "mbg-nbd", "pareto-nbd"]);
export type PurchaseModelName = z.infer<typeof PurchaseModelName>;

/** r, alpha, a, b for the BG family; r, alpha, s, beta for Pareto/NBD. Time in weeks. */
export const ModelParameters = z.record(z.string(), z.number());

export const CandidateModel = z.object({
  model: PurchaseModelName,
  parameters: ModelParameters,
  logLikelihood: z.number(),
  /** Repeat orders the calibration fit predicted for the holdout. */
  holdoutPredicted: z.number(),
  /** |predicted − actual| / actual over the holdout. */
  holdoutError: z.number(),
});

export const HoldoutBacktest = z.object({
  /** First and last day of the holdout (inclusive), YYYY-MM-DD in UTC, the days the purchase models count orders by. */
  start: z.string(),
  end: z.string(),
  days: z.number().int(),
  /** Customers with a first order before the holdout: the ones predicted. */
  customers: z.number().int(),
  /** Repeat orders (distinct order days) in the holdout, actual and predicted by the chosen model. */
  actualOrders: z.number(),
  predictedOrders: z.number(),
  /** (predicted − actual) / actual; negative when the model predicted too few. */
  relativeError: z.number(),
  /** Predicted against actual by number of repeat orders before the holdout (the last group is "n or more"). */
  byFrequency: z.array(
    z.object({
      frequency: z.number().int(),
      orMore: z.boolean(),
      customers: z.number().int(),
      predicted: z.number(),
      actual: z.number(),
    }),
  ),
  /** Repeat orders a week across the holdout, actual and predicted; the last week may be shorter than 7 days. */
  weekly: z.array(z.object({ weekStart: z.string(), predicted: z.number(), actual: z.number() })),
});

export const PredictionReport = z.object({
  model: PurchaseModelName,
  /** The chosen model refitted on all history ({} when that refit failed; shown is then false). */
  parameters: ModelParameters,
  logLikelihood: z.number(),
  spend: z.object({ p: z.number(), q: z.number(), gamma: z.number() }),
  /** Why this model, in words for the merchant. */
  chosenBecause: z.string(),
  candidates: z.array(CandidateModel),
  /** Null when the shop's history is too short for a holdout. */
  holdout: HoldoutBacktest.nullable(),
  /** The largest |relativeError| at which predictions are shown. */
  errorBound: z.number(),
  /** Whether predictions are shown; when not, failedCondition says which condition failed. */
  shown: z.boolean(),
  failedCondition: z.string().nullable(),
});
export type PredictionReport = z.infer<typeof PredictionReport>;

export const ChurnRisk = z.enum(["low", "medium", "high"]);
export type ChurnRisk = z.infer<typeof ChurnRisk>;

/** A stored report, or null when the run has none or it no longer parses. */
export function parsePredictionReport(value: unknown): PredictionReport | null {
  const parsed = PredictionReport.safeParse(value);
  return parsed.success ? parsed.data : null;
}
