import type pg from "pg";
import type { Config } from "../config.server";
import { loadOrderAmounts, stagePredictions, type CustomerPredictionRow } from "../models/segmentation-stages.server";
import {
  fitBgNbd,
  fitGammaGamma,
  predictCustomer,
  summarizeTransactions,
  type BgNbdFit,
  type CustomerSummary,
  type GammaGammaFit,
} from "./clv.server";

/**
 * Predicted value per customer: whether the shop has the history for it, the
 * per-shop fit of BG/NBD and Gamma-Gamma (app/services/clv.server.ts) and the
 * predictions over 90 and 365 days.
 */

const TIME_UNIT_DAYS = 7;
const HORIZONS_DAYS = [90, 365] as const;

export interface PredictionSettings {
  minCustomers: number;
  minRepeatCustomers: number;
  minHistoryDays: number;
}

export interface PredictionGate {
  open: boolean;
  reason: string;
}

/**
 * Predictions need history: enough customers, enough of them buying again,
 * and enough time between the shop's first and last order for the model to
 * see people stop buying. Below that the fit is noise and nothing is shown.
 */
export function predictionGate(
  summaries: readonly CustomerSummary[],
  historyDays: number,
  settings: PredictionSettings,
): PredictionGate {
  const customers = summaries.length;
  const repeat = summaries.filter((s) => s.frequency > 0).length;
  const days = Math.floor(historyDays);
  if (customers < settings.minCustomers) {
    return {
      open: false,
      reason: `Predictions need at least ${settings.minCustomers} customers with orders; this shop has ${customers}.`,
    };
  }
  if (repeat < settings.minRepeatCustomers) {
    return {
      open: false,
      reason: `Predictions need at least ${settings.minRepeatCustomers} customers who ordered on two different days; this shop has ${repeat}.`,
    };
  }
  if (days < settings.minHistoryDays) {
    return {
      open: false,
      reason: `Predictions need at least ${settings.minHistoryDays} days of order history; this shop has ${days}.`,
    };
  }
  return {
    open: true,
    reason: `Predicted from ${customers} customers (${repeat} repeat buyers) over ${days} days of orders.`,
  };
}

/**
 * L2 penalty on the BG/NBD parameters: 0.001 up to 500 customers, then
 * falling with the square of the customer count, so it steadies the fit of
 * small shops and all but vanishes for large ones (α is in weeks and would
 * otherwise be pulled down noticeably). Gamma-Gamma is fitted without one:
 * its scale γ is in the shop's currency, so any L2 penalty on it would depend
 * on the currency, and on real order values it collapses the fit to q < 1.
 */
export function penalizerFor(customers: number): number {
  return 0.001 * Math.min(1, (500 / Math.max(1, customers)) ** 2);
}

export interface FittedModel {
  bgNbd: BgNbdFit;
  gammaGamma: GammaGammaFit;
  penalizer: number;
  timeUnitDays: number;
}

/** Fits both models per shop and predicts every customer; an error when the fit is unusable. */
export function fitAndPredict(
  summaries: readonly CustomerSummary[],
): { model: FittedModel; predictions: CustomerPredictionRow[] } | { error: string } {
  const penalizer = penalizerFor(summaries.length);
  let bgNbd: BgNbdFit;
  let gammaGamma: GammaGammaFit;
  try {
    bgNbd = fitBgNbd(summaries, { penalizer });
    gammaGamma = fitGammaGamma(summaries);
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
  const parameters = [bgNbd.r, bgNbd.alpha, bgNbd.a, bgNbd.b, gammaGamma.p, gammaGamma.q, gammaGamma.gamma];
  if (!parameters.every((value) => Number.isFinite(value) && value > 0)) return { error: "the fit did not converge" };
  if (!(gammaGamma.q > 1)) return { error: "the spend model has no finite mean (q ≤ 1)" };
  const horizons = HORIZONS_DAYS.map((days) => days / TIME_UNIT_DAYS);
  const predictions = summaries.map((summary) => {
    const prediction = predictCustomer(bgNbd, gammaGamma, summary, horizons);
    const [next90, next365] = prediction.horizons;
    return {
      customerId: summary.customerId,
      probabilityAlive: prediction.probabilityAlive,
      expectedOrders90: next90!.expectedTransactions,
      expectedOrders365: next365!.expectedTransactions,
      expectedSpend90: next90!.expectedSpend,
      expectedSpend365: next365!.expectedSpend,
    };
  });
  if (!predictions.every((p) => Number.isFinite(p.expectedSpend365) && Number.isFinite(p.probabilityAlive))) {
    return { error: "predictions are not finite" };
  }
  return { model: { bgNbd, gammaGamma, penalizer, timeUnitDays: TIME_UNIT_DAYS }, predictions };
}

/**
 * The prediction step of a run: every customer's orders from the run's
 * session, the gate, the fit and the predictions staged for publishing (none
 * when the gate stays closed or the fit fails, which the gate's reason says).
 */
export async function predictCustomers(client: pg.PoolClient, asOf: Date, config: Config) {
  const amounts = await loadOrderAmounts(client);
  const summaries = summarizeTransactions(amounts, asOf, { timeUnitDays: TIME_UNIT_DAYS });
  let first = Infinity;
  let last = -Infinity;
  for (const { date } of amounts) {
    first = Math.min(first, date.getTime());
    last = Math.max(last, date.getTime());
  }
  const historyDays = amounts.length > 0 ? (last - first) / 86_400_000 : 0;
  let gate = predictionGate(summaries, historyDays, {
    minCustomers: config.PREDICTION_MIN_CUSTOMERS,
    minRepeatCustomers: config.PREDICTION_MIN_REPEAT_CUSTOMERS,
    minHistoryDays: config.PREDICTION_MIN_HISTORY_DAYS,
  });
  let model: FittedModel | undefined;
  let rows: CustomerPredictionRow[] = [];
  if (gate.open) {
    const fitted = fitAndPredict(summaries);
    if ("error" in fitted) {
      gate = { open: false, reason: `The purchase model could not be fitted to this shop's orders: ${fitted.error}.` };
    } else {
      model = fitted.model;
      rows = fitted.predictions;
    }
  }
  await stagePredictions(client, rows);
  return { gate, model };
}
