import type { ChurnRisk, PredictionReport } from "../models/prediction-report.server";
import type { CustomerPredictionRow, OrderSpan } from "../models/segmentation-stages.server";
import {
  fitGammaGamma,
  fitPurchaseModel,
  predictCustomer,
  PURCHASE_MODEL_NAMES,
  purchaseModel,
  splitAtCalibrationEnd,
  summarizeTransactions,
  type CustomerSummary,
  type GammaGammaFit,
  type PurchaseModelFit,
  type PurchaseModelName,
  type Transaction,
} from "./clv.server";

/**
 * Predicted value per customer: whether the shop has the history for it, the
 * choice of purchase model by a backtest on the shop's own recent orders,
 * the per-shop fit of that model and Gamma-Gamma (app/services/clv.server.ts)
 * and the predictions over 90 and 365 days. Pure computation (no database),
 * so `npm run clv:fit` shares it; the run's prediction step calls it.
 */

const TIME_UNIT_DAYS = 7;
const HORIZONS_DAYS = [90, 365] as const;
const DAY_MS = 86_400_000;

/**
 * The holdout: the last 90 days of history, or the last quarter of it when the
 * history is shorter than 360 days, so the calibration period keeps at least
 * three quarters; none when that quarter would be under 28 days (no weekly
 * pattern to check).
 */
export const HOLDOUT_MAX_DAYS = 90;
export const HOLDOUT_MIN_DAYS = 28;
export function holdoutDaysFor(historyDays: number): number | null {
  const days = Math.min(HOLDOUT_MAX_DAYS, Math.floor(historyDays / 4));
  return days >= HOLDOUT_MIN_DAYS ? days : null;
}

/**
 * Churn risk from the probability of being active: high below 0.3, medium
 * below 0.7, low from 0.7.
 */
export const CHURN_RISK_BANDS = { high: 0.3, medium: 0.7 } as const;
export function churnRiskFor(probabilityAlive: number): ChurnRisk {
  if (probabilityAlive < CHURN_RISK_BANDS.high) return "high";
  if (probabilityAlive < CHURN_RISK_BANDS.medium) return "medium";
  return "low";
}

/** The last group of the backtest by frequency holds this many earlier repeat orders or more. */
const BY_FREQUENCY_LAST = 7;

const MODEL_LABELS: Record<PurchaseModelName, string> = {
  "bg-nbd": "BG/NBD",
  "mbg-nbd": "MBG/NBD",
  "pareto-nbd": "Pareto/NBD",
};
const DEFAULT_MODEL: PurchaseModelName = "bg-nbd";

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
 * L2 penalty on the purchase model's parameters: 0.001 up to 500 customers,
 * then falling with the square of the customer count, so it steadies the fit
 * of small shops and all but vanishes for large ones (α is in weeks and would
 * otherwise be pulled down noticeably). Gamma-Gamma is fitted without one:
 * its scale γ is in the shop's currency, so any L2 penalty on it would depend
 * on the currency, and on real order values it collapses the fit to q < 1.
 */
export function penalizerFor(customers: number): number {
  return 0.001 * Math.min(1, (500 / Math.max(1, customers)) ** 2);
}

/** What the run stores as its model (SegmentationRun.model). */
export interface FittedModel extends PurchaseModelFit {
  gammaGamma: GammaGammaFit;
  penalizer: number;
  timeUnitDays: number;
}

/** A model's fit, or why there is none, in words. */
function tryFit(
  name: PurchaseModelName,
  summaries: readonly CustomerSummary[],
  penalizer = penalizerFor(summaries.length),
): PurchaseModelFit | { error: string } {
  try {
    const fit = fitPurchaseModel(name, summaries, { penalizer });
    const values = Object.values(fit.parameters);
    if (!values.every((value) => Number.isFinite(value) && value > 0) || !Number.isFinite(fit.logLikelihood)) {
      return { error: "the fit did not converge" };
    }
    return fit;
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** A summary's conditional expectations, computed once per distinct (x, t_x, T). */
function expectationsByHistory(
  fit: PurchaseModelFit,
  summaries: readonly CustomerSummary[],
  horizons: readonly number[],
): (summary: CustomerSummary) => number[] {
  const model = purchaseModel(fit.model);
  const cache = new Map<string, number[]>();
  return (summary) => {
    const key = `${summary.frequency}|${summary.recency}|${summary.T}`;
    let values = cache.get(key);
    if (!values) {
      values = horizons.map((t) =>
        model.expectedTransactions(fit.parameters, t, summary.frequency, summary.recency, summary.T),
      );
      cache.set(key, values);
    }
    return values;
  };
}

export interface HoldoutData {
  /** Calibration-period summaries. */
  summaries: CustomerSummary[];
  /** Holdout purchase days per customer (1 = first day of the holdout). */
  holdoutDays: Map<string, number[]>;
  days: number;
}

export interface HoldoutFigures {
  predicted: number;
  actual: number;
  /** (predicted − actual) / actual. */
  relativeError: number;
}

/** Repeat purchases in the holdout: distinct purchase days of calibration customers. */
export function holdoutActual(data: HoldoutData): number {
  let actual = 0;
  for (const days of data.holdoutDays.values()) actual += days.length;
  return actual;
}

/** The sum over customers of each one's conditional expectation for the holdout, against what happened. */
export function holdoutFigures(fit: PurchaseModelFit, data: HoldoutData): HoldoutFigures {
  const expected = expectationsByHistory(fit, data.summaries, [data.days / TIME_UNIT_DAYS]);
  let predicted = 0;
  for (const summary of data.summaries) predicted += expected(summary)[0]!;
  const actual = holdoutActual(data);
  return { predicted, actual, relativeError: (predicted - actual) / actual };
}

/**
 * What the purchase models need of a shop's orders, gathered one customer at a
 * time so that a shop of any size costs memory per customer, never per order:
 * each customer's summary as of asOf and last order, and, when the history is
 * long enough to hold a period out (the span decides, so it is known first),
 * the calibration summaries and the holdout's purchase days.
 */
export class OrderHistory {
  readonly summaries: CustomerSummary[] = [];
  readonly lastOrderAt = new Map<string, Date>();
  /** Days from the first order to asOf (how much history there is to hold out from). */
  readonly historyDays: number;
  /** Days from the first order to the last (what the gate asks for). */
  readonly spanDays: number;
  readonly holdout: (HoldoutData & { calibrationEnd: Date }) | null;

  constructor(
    readonly asOf: Date,
    span: OrderSpan | null,
  ) {
    this.historyDays = span ? Math.floor((asOf.getTime() - span.first.getTime()) / DAY_MS) : 0;
    this.spanDays = span ? (span.last.getTime() - span.first.getTime()) / DAY_MS : 0;
    const holdoutDays = holdoutDaysFor(this.historyDays);
    this.holdout =
      holdoutDays === null
        ? null
        : {
            calibrationEnd: new Date(asOf.getTime() - holdoutDays * DAY_MS),
            summaries: [],
            holdoutDays: new Map(),
            days: holdoutDays,
          };
  }

  /** Adds orders that hold every order of the customers they name (any order, any number of customers). */
  addOrders(orders: readonly Transaction[]): this {
    const byCustomer = new Map<string, Transaction[]>();
    for (const order of orders) {
      const list = byCustomer.get(order.customerId);
      if (list) list.push(order);
      else byCustomer.set(order.customerId, [order]);
    }
    for (const customerOrders of byCustomer.values()) this.addCustomer(customerOrders);
    return this;
  }

  private addCustomer(orders: readonly Transaction[]) {
    const [summary] = summarizeTransactions(orders, this.asOf, { timeUnitDays: TIME_UNIT_DAYS });
    if (!summary) return;
    this.summaries.push(summary);
    let last = orders[0]!.date;
    for (const { date } of orders) if (date > last) last = date;
    this.lastOrderAt.set(summary.customerId, last);
    if (!this.holdout) return;
    const split = splitAtCalibrationEnd(orders, this.holdout.calibrationEnd, this.asOf, {
      timeUnitDays: TIME_UNIT_DAYS,
    });
    const [calibration] = split.summaries;
    if (!calibration) return;
    this.holdout.summaries.push(calibration);
    for (const [customerId, days] of split.holdoutDays) this.holdout.holdoutDays.set(customerId, days);
  }
}

/** The history of orders held in memory (tests, `npm run clv:fit`). */
export function orderHistoryOf(orders: readonly Transaction[], asOf: Date): OrderHistory {
  let first = Infinity;
  let last = -Infinity;
  for (const { date } of orders) {
    first = Math.min(first, date.getTime());
    last = Math.max(last, date.getTime());
  }
  const span = orders.length > 0 ? { first: new Date(first), last: new Date(last) } : null;
  return new OrderHistory(asOf, span).addOrders(orders);
}

export interface ModelBacktest {
  fit: PurchaseModelFit;
  figures: HoldoutFigures;
}

/**
 * Fits each model on the calibration period and checks it on the holdout;
 * the backtests come sorted by |relative error|, the best first, with the
 * models that could not be fitted or checked named in failures.
 */
export function backtestModels(
  data: HoldoutData,
  names: readonly PurchaseModelName[] = PURCHASE_MODEL_NAMES,
  penalizer = penalizerFor(data.summaries.length),
): { backtests: ModelBacktest[]; failures: string[] } {
  const backtests: ModelBacktest[] = [];
  const failures: string[] = [];
  if (!data.summaries.some((s) => s.frequency > 0)) {
    return { backtests, failures: ["no customer ordered twice before the holdout"] };
  }
  for (const name of names) {
    const fit = tryFit(name, data.summaries, penalizer);
    if ("error" in fit) {
      failures.push(`${MODEL_LABELS[name]}: ${fit.error}`);
      continue;
    }
    const figures = holdoutFigures(fit, data);
    if (!Number.isFinite(figures.predicted)) failures.push(`${MODEL_LABELS[name]}: its predictions are not finite`);
    else backtests.push({ fit, figures });
  }
  backtests.sort((x, y) => Math.abs(x.figures.relativeError) - Math.abs(y.figures.relativeError));
  return { backtests, failures };
}

const isoDay = (date: Date) => date.toISOString().slice(0, 10);

/** Predicted against actual by earlier repeat orders and by week of the holdout, for the chosen model. */
function holdoutDetail(fit: PurchaseModelFit, data: HoldoutData, holdoutStart: Date) {
  const weekEnds: number[] = [];
  for (let end = 7; end < data.days + 7; end += 7) weekEnds.push(Math.min(end, data.days));
  const expected = expectationsByHistory(
    fit,
    data.summaries,
    weekEnds.map((end) => end / TIME_UNIT_DAYS),
  );
  const weekly = weekEnds.map((_, i) => ({
    weekStart: isoDay(new Date(holdoutStart.getTime() + i * 7 * DAY_MS)),
    predicted: 0,
    actual: 0,
  }));
  const byFrequency = Array.from({ length: BY_FREQUENCY_LAST + 1 }, (_, frequency) => ({
    frequency,
    orMore: frequency === BY_FREQUENCY_LAST,
    customers: 0,
    predicted: 0,
    actual: 0,
  }));
  for (const summary of data.summaries) {
    const cumulative = expected(summary);
    const days = data.holdoutDays.get(summary.customerId) ?? [];
    const group = byFrequency[Math.min(summary.frequency, BY_FREQUENCY_LAST)]!;
    group.customers += 1;
    group.predicted += cumulative.at(-1)!;
    group.actual += days.length;
    cumulative.forEach((value, i) => (weekly[i]!.predicted += value - (i > 0 ? cumulative[i - 1]! : 0)));
    for (const day of days) weekly[Math.floor((day - 1) / 7)]!.actual += 1;
  }
  return { weekly, byFrequency };
}

/** As the pages write a share: an error with one decimal ("4.5%"), a bound whole ("20%"). */
const percent = (value: number, digits = 1) => `${(Math.abs(value) * 100).toFixed(digits)}%`;
const count = (value: number) => Math.round(value).toLocaleString("en-US");

export interface ModelChoice {
  report: PredictionReport;
  /** The chosen model refitted on all history, with Gamma-Gamma; absent when no model could be fitted. */
  model?: FittedModel;
}

/**
 * Chooses the purchase model for a shop: each model is fitted on the history
 * before the holdout and predicts each customer's repeat orders in it; the
 * smallest |relative error| wins and is refitted on all history. Without a
 * holdout (short history) BG/NBD is used. Predictions are shown when the
 * winner's |relative error| is at most errorBound (and, as the caller checks,
 * the gate is open).
 */
export function chooseAndFitModel(history: OrderHistory, errorBound: number): ModelChoice {
  const { summaries, historyDays, asOf } = history;

  let chosen: PurchaseModelName = DEFAULT_MODEL;
  let chosenBecause: string;
  let failedCondition: string | null = null;
  let holdout: PredictionReport["holdout"] = null;
  const candidates: PredictionReport["candidates"] = [];

  if (!history.holdout) {
    chosenBecause = `The order history (${historyDays} days) is too short to hold out a period for checking, so ${MODEL_LABELS[DEFAULT_MODEL]}, the default, is used.`;
  } else {
    const data = history.holdout;
    const { calibrationEnd, days: holdoutDays } = data;
    const actual = holdoutActual(data);
    const { backtests, failures } = actual > 0 ? backtestModels(data) : { backtests: [], failures: [] as string[] };
    for (const { fit, figures } of backtests) {
      candidates.push({
        model: fit.model,
        parameters: fit.parameters,
        logLikelihood: fit.logLikelihood,
        holdoutPredicted: figures.predicted,
        holdoutError: Math.abs(figures.relativeError),
      });
    }
    const best = backtests[0];
    if (actual === 0) {
      chosenBecause = `No customer ordered again in the last ${holdoutDays} days, so the models could not be checked; ${MODEL_LABELS[DEFAULT_MODEL]}, the default, is used.`;
      failedCondition = `No customer ordered again in the last ${holdoutDays} days, so the predictions could not be checked against what happened.`;
    } else if (!best) {
      chosenBecause = `No model could be fitted to the orders before the last ${holdoutDays} days (${failures.join("; ")}).`;
      failedCondition = `The purchase models could not be checked on the last ${holdoutDays} days: ${failures.join("; ")}.`;
    } else {
      const { fit, figures } = best;
      chosen = fit.model;
      const holdoutStart = new Date(calibrationEnd.getTime() + DAY_MS);
      holdout = {
        start: isoDay(holdoutStart),
        end: isoDay(asOf),
        days: data.days,
        customers: data.summaries.length,
        actualOrders: figures.actual,
        predictedOrders: figures.predicted,
        relativeError: figures.relativeError,
        ...holdoutDetail(fit, data, holdoutStart),
      };
      const others = backtests
        .slice(1)
        .map((other) => `${MODEL_LABELS[other.fit.model]} ${percent(other.figures.relativeError)}`);
      chosenBecause =
        `Fitted on the orders before the last ${data.days} days, ${MODEL_LABELS[fit.model]} predicted ` +
        `${count(figures.predicted)} repeat orders for them and ${count(figures.actual)} happened, off by ` +
        `${percent(figures.relativeError)}: the closest of the models` +
        (others.length > 0 ? ` (${others.join(", ")})` : "") +
        ".";
      if (Math.abs(figures.relativeError) > errorBound) {
        failedCondition =
          `Checked on the last ${data.days} days, the predictions were off by ${percent(figures.relativeError)} ` +
          `(${count(figures.predicted)} repeat orders predicted, ${count(figures.actual)} happened); ` +
          `they are shown when within ${percent(errorBound, 0)}.`;
      }
    }
  }

  const refit = summaries.some((s) => s.frequency > 0) ? tryFit(chosen, summaries) : { error: "no repeat orders" };
  let gammaGamma: GammaGammaFit | undefined;
  let fitError = "error" in refit ? refit.error : undefined;
  if (!fitError) {
    try {
      gammaGamma = fitGammaGamma(summaries);
      if (![gammaGamma.p, gammaGamma.q, gammaGamma.gamma].every((v) => Number.isFinite(v) && v > 0)) {
        fitError = "the spend model did not converge";
      } else if (!(gammaGamma.q > 1)) {
        fitError = "the spend model has no finite mean (q ≤ 1)";
      }
    } catch (error) {
      fitError = error instanceof Error ? error.message : String(error);
    }
  }
  if (fitError || "error" in refit || !gammaGamma) {
    failedCondition ??= `The purchase model could not be fitted to this shop's orders: ${fitError}.`;
    return {
      report: {
        model: chosen,
        parameters: {},
        logLikelihood: 0,
        spend: { p: 0, q: 0, gamma: 0 },
        chosenBecause,
        candidates,
        holdout,
        errorBound,
        shown: false,
        failedCondition,
      },
    };
  }
  const penalizer = penalizerFor(summaries.length);
  return {
    report: {
      model: refit.model,
      parameters: refit.parameters,
      logLikelihood: refit.logLikelihood,
      spend: { p: gammaGamma.p, q: gammaGamma.q, gamma: gammaGamma.gamma },
      chosenBecause,
      candidates,
      holdout,
      errorBound,
      shown: failedCondition === null,
      failedCondition,
    },
    model: { ...refit, gammaGamma, penalizer, timeUnitDays: TIME_UNIT_DAYS },
  };
}

/**
 * Every customer's predictions under the fitted models; null model fields
 * when predictions are not shown. The usual gap (mean days between distinct
 * order days) is a fact of the history and always kept for repeat buyers.
 * The expected next order is the last order plus that usual gap: a merchant
 * can check it against the order list, and a date in the past means overdue.
 */
export function customerPredictions(
  summaries: readonly CustomerSummary[],
  lastOrderAt: ReadonlyMap<string, Date>,
  model: FittedModel | undefined,
): CustomerPredictionRow[] {
  return [...lazyPredictions(summaries, lastOrderAt, model)];
}

/** customerPredictions, computed as they are read (a large shop's rows go to the database without all being held). */
function lazyPredictions(
  summaries: readonly CustomerSummary[],
  lastOrderAt: ReadonlyMap<string, Date>,
  model: FittedModel | undefined,
): Iterable<CustomerPredictionRow> {
  return {
    *[Symbol.iterator]() {
      for (const summary of summaries) yield customerPrediction(summary, lastOrderAt.get(summary.customerId), model);
    },
  };
}

const HORIZONS = HORIZONS_DAYS.map((days) => days / TIME_UNIT_DAYS);

function customerPrediction(
  summary: CustomerSummary,
  last: Date | undefined,
  model: FittedModel | undefined,
): CustomerPredictionRow {
  const averageDaysBetweenOrders =
    summary.frequency > 0 ? (summary.recency * TIME_UNIT_DAYS) / summary.frequency : null;
  if (!model) {
    return {
      customerId: summary.customerId,
      probabilityAlive: null,
      expectedOrders90: null,
      expectedOrders365: null,
      expectedSpend90: null,
      expectedSpend365: null,
      churnRisk: null,
      averageDaysBetweenOrders,
      expectedNextOrderAt: null,
    };
  }
  const prediction = predictCustomer(model, model.gammaGamma, summary, HORIZONS);
  const [next90, next365] = prediction.horizons;
  return {
    customerId: summary.customerId,
    probabilityAlive: prediction.probabilityAlive,
    expectedOrders90: next90!.expectedTransactions,
    expectedOrders365: next365!.expectedTransactions,
    expectedSpend90: next90!.expectedSpend,
    expectedSpend365: next365!.expectedSpend,
    churnRisk: churnRiskFor(prediction.probabilityAlive),
    averageDaysBetweenOrders,
    expectedNextOrderAt:
      averageDaysBetweenOrders !== null && last
        ? new Date(last.getTime() + Math.round(averageDaysBetweenOrders * DAY_MS))
        : null,
  };
}

export interface ShopPredictions {
  gate: PredictionGate;
  model?: FittedModel;
  report: PredictionReport | null;
  /** Every customer's row, computed as it is read (each reading computes them again). */
  rows: Iterable<CustomerPredictionRow>;
}

/**
 * A shop's predictions from its order history: the gate, the model chosen by
 * the backtest and every customer's row (model fields null unless predictions
 * are shown; the gate's reason then says why).
 */
export function predictFromHistory(
  history: OrderHistory,
  settings: PredictionSettings & { maxHoldoutError: number },
): ShopPredictions {
  const { summaries, lastOrderAt } = history;
  const gate = predictionGate(summaries, history.spanDays, settings);
  if (!gate.open) return { gate, report: null, rows: lazyPredictions(summaries, lastOrderAt, undefined) };
  const { report, model } = chooseAndFitModel(history, settings.maxHoldoutError);
  let rows = lazyPredictions(summaries, lastOrderAt, report.shown ? model : undefined);
  const allFinite = () => {
    for (const row of rows)
      if (!Number.isFinite(row.expectedSpend365) || !Number.isFinite(row.probabilityAlive)) return false;
    return true;
  };
  if (report.shown && !allFinite()) {
    rows = lazyPredictions(summaries, lastOrderAt, undefined);
    report.shown = false;
    report.failedCondition = "The purchase model's predictions are not finite for some customers.";
  }
  return {
    gate: report.shown ? gate : { open: false, reason: report.failedCondition! },
    model,
    report,
    rows,
  };
}
