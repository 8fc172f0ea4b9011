/**
 * Customer lifetime value: three models of repeat purchases, BG/NBD (Fader, Hardie & Lee 2005,
 * "Counting your customers the easy way"), MBG/NBD (Batislam, Denizel & Filiztekin 2007: a
 * customer may also leave right after the first purchase) and Pareto/NBD (Schmittlein, Morrison
 * & Colombo 1987, likelihood as in Fader, Hardie & Lee's note on implementing it), and the
 * Gamma-Gamma model of spend per purchase (Fader & Hardie 2013), all fitted by maximum
 * likelihood. `purchaseModel(name)` gives one interface over the three. Pure TypeScript, no
 * dependencies.
 */

export interface Transaction {
  customerId: string;
  date: Date;
  amount: number;
}

export interface CustomerSummary {
  customerId: string;
  /** Repeat purchase days after the first purchase day, within the calibration period. */
  frequency: number;
  /** Time units from the first purchase to the last one within the calibration period. */
  recency: number;
  /** Time units from the first purchase to the end of the calibration period. */
  T: number;
  /** Mean amount of the repeat purchase days (each day's amounts summed); 0 without repeats. */
  monetaryValue: number;
}

export interface SummarizeOptions {
  /** Length of one time unit in days; 7 (weeks) unless told. */
  timeUnitDays?: number;
}

export interface FitOptions {
  /** Weight of the L2 penalty on the parameters, as in the Python `lifetimes` library. */
  penalizer?: number;
}

export interface BgNbdParams {
  r: number;
  alpha: number;
  a: number;
  b: number;
}

export interface BgNbdFit extends BgNbdParams {
  /** Total (summed over customers) unpenalised log-likelihood at the optimum. */
  logLikelihood: number;
}

export interface GammaGammaParams {
  p: number;
  q: number;
  /** The scale parameter Fader & Hardie call v. */
  gamma: number;
}

export interface GammaGammaFit extends GammaGammaParams {
  /** Total unpenalised log-likelihood over the customers used (frequency > 0, positive spend). */
  logLikelihood: number;
}

export type PurchaseHistory = Pick<CustomerSummary, "frequency" | "recency" | "T" | "monetaryValue">;

export interface HorizonPrediction {
  /** Horizon in time units. */
  t: number;
  expectedTransactions: number;
  /** Expected transactions times the expected spend per transaction. */
  expectedSpend: number;
}

export interface CustomerPrediction {
  probabilityAlive: number;
  expectedAverageSpend: number;
  horizons: HorizonPrediction[];
}

// ---------------------------------------------------------------------------------------------
// Summaries

const MS_PER_DAY = 86_400_000;

/** Calendar day of a date, counted in UTC, so that a date-only string lands on its own day. */
function utcDayNumber(date: Date): number {
  return Math.floor(date.getTime() / MS_PER_DAY);
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}

/**
 * Per-customer frequency, recency, T and repeat-purchase mean, following `lifetimes`'
 * summary_data_from_transaction_data: purchases on the same calendar day are one purchase
 * (amounts summed) and purchases after calibrationEnd are ignored.
 */
export function summarizeTransactions(
  transactions: readonly Transaction[],
  calibrationEnd: Date,
  options: SummarizeOptions = {},
): CustomerSummary[] {
  const timeUnitDays = options.timeUnitDays ?? 7;
  if (!(timeUnitDays > 0) || !Number.isFinite(timeUnitDays)) throw new RangeError("timeUnitDays must be positive");
  const endDay = utcDayNumber(calibrationEnd);
  if (!Number.isFinite(endDay)) throw new RangeError("calibrationEnd is not a valid date");

  const amountsByDayByCustomer = new Map<string, Map<number, number>>();
  for (const { customerId, date, amount } of transactions) {
    const day = utcDayNumber(date);
    if (!Number.isFinite(day)) throw new RangeError(`invalid date for customer ${customerId}`);
    if (!Number.isFinite(amount)) throw new RangeError(`invalid amount for customer ${customerId}`);
    if (day > endDay) continue;
    let amountsByDay = amountsByDayByCustomer.get(customerId);
    if (!amountsByDay) amountsByDayByCustomer.set(customerId, (amountsByDay = new Map()));
    amountsByDay.set(day, (amountsByDay.get(day) ?? 0) + amount);
  }

  return [...amountsByDayByCustomer].map(([customerId, amountsByDay]) => {
    const days = [...amountsByDay.keys()].sort((x, y) => x - y);
    const firstDay = days[0]!;
    const lastDay = days[days.length - 1]!;
    const repeatAmounts = days.slice(1).map((day) => amountsByDay.get(day)!);
    return {
      customerId,
      frequency: repeatAmounts.length,
      recency: (lastDay - firstDay) / timeUnitDays,
      T: (endDay - firstDay) / timeUnitDays,
      monetaryValue: mean(repeatAmounts),
    };
  });
}

export interface HoldoutSplit {
  /** Summaries over the calibration period: customers whose first purchase is on or before its end. */
  summaries: CustomerSummary[];
  /** Per calibration customer with holdout purchases, the holdout days they bought on (1 = the day after calibrationEnd). */
  holdoutDays: Map<string, number[]>;
  /** Days in the holdout: from the day after calibrationEnd through holdoutEnd. */
  days: number;
}

/**
 * Splits the history at calibrationEnd: summaries of the calibration period, and each of its
 * customers' purchase days in the holdout up to holdoutEnd (several purchases on one day count
 * once, as in the summaries). Customers first seen in the holdout are not in it.
 */
export function splitAtCalibrationEnd(
  transactions: readonly Transaction[],
  calibrationEnd: Date,
  holdoutEnd: Date,
  options: SummarizeOptions = {},
): HoldoutSplit {
  const endDay = utcDayNumber(calibrationEnd);
  const holdoutEndDay = utcDayNumber(holdoutEnd);
  if (!(holdoutEndDay > endDay)) throw new RangeError("the holdout must end after the calibration period");
  const summaries = summarizeTransactions(transactions, calibrationEnd, options);
  const known = new Set(summaries.map((s) => s.customerId));
  const daySets = new Map<string, Set<number>>();
  for (const { customerId, date } of transactions) {
    const day = utcDayNumber(date) - endDay;
    if (day < 1 || day > holdoutEndDay - endDay || !known.has(customerId)) continue;
    let days = daySets.get(customerId);
    if (!days) daySets.set(customerId, (days = new Set()));
    days.add(day);
  }
  const holdoutDays = new Map([...daySets].map(([id, days]) => [id, [...days].sort((x, y) => x - y)]));
  return { summaries, holdoutDays, days: holdoutEndDay - endDay };
}

// ---------------------------------------------------------------------------------------------
// Special functions

const LANCZOS_G = 7;
const LANCZOS_COEFFICIENTS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/** log |Γ(x)| by the Lanczos approximation (g = 7, 9 terms; about 15 significant digits). */
export function logGamma(x: number): number {
  // Reflection keeps the approximation in the half-plane where it is accurate.
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const y = x - 1;
  let series = LANCZOS_COEFFICIENTS[0]!;
  for (let i = 1; i < LANCZOS_COEFFICIENTS.length; i++) series += LANCZOS_COEFFICIENTS[i]! / (y + i);
  const t = y + LANCZOS_G + 0.5;
  return HALF_LOG_TWO_PI + (y + 0.5) * Math.log(t) - t + Math.log(series);
}

function logAddExp(u: number, v: number): number {
  const high = Math.max(u, v);
  if (high === -Infinity) return -Infinity;
  return high + Math.log1p(Math.exp(-Math.abs(u - v)));
}

const HYPERGEOMETRIC_MAX_TERMS = 10_000_000;

/**
 * (₂F₁(a, b; c; z) − 1) / b for 0 ≤ z < 1, summed as its own power series so that the result
 * stays accurate when b is close to 0 (subtracting 1 from ₂F₁ would cancel).
 */
export function hyp2f1Excess(a: number, b: number, c: number, z: number): number {
  if (!(z >= 0 && z < 1)) throw new RangeError(`hypergeometric series needs 0 <= z < 1, got ${z}`);
  let term = (a * z) / c;
  let sum = term;
  for (let n = 1; n < HYPERGEOMETRIC_MAX_TERMS; n++) {
    const ratio = ((a + n) * (b + n) * z) / ((c + n) * (n + 1));
    term *= ratio;
    sum += term;
    // Only stop once the terms shrink geometrically; early terms may grow before they decay.
    if (Math.abs(term) <= 1e-17 * Math.abs(sum) && Math.abs(ratio) < 1) return sum;
    if (term === 0) return sum;
  }
  throw new RangeError(`hypergeometric series did not converge (a=${a}, b=${b}, c=${c}, z=${z})`);
}

/** Gaussian hypergeometric function ₂F₁(a, b; c; z) for 0 ≤ z < 1. */
export function hyp2f1(a: number, b: number, c: number, z: number): number {
  return 1 + b * hyp2f1Excess(a, b, c, z);
}

// ---------------------------------------------------------------------------------------------
// Optimisation

interface Minimum {
  x: number[];
  value: number;
}

interface NelderMeadOptions {
  step: number;
  maxIterations: number;
  xTolerance: number;
  fTolerance: number;
}

const NELDER_MEAD_DEFAULTS: NelderMeadOptions = {
  step: 0.5,
  maxIterations: 20_000,
  xTolerance: 1e-9,
  fTolerance: 1e-13,
};

function affine(from: readonly number[], to: readonly number[], weight: number): number[] {
  return from.map((value, i) => value + weight * (to[i]! - value));
}

function safeValue(f: (x: number[]) => number, x: number[]): number {
  const value = f(x);
  return Number.isNaN(value) ? Infinity : value;
}

function hasConverged(simplex: readonly Minimum[], options: NelderMeadOptions): boolean {
  const best = simplex[0]!;
  return simplex.every(
    (vertex) =>
      Math.abs(vertex.value - best.value) <= options.fTolerance * (1 + Math.abs(best.value)) &&
      vertex.x.every((coordinate, i) => Math.abs(coordinate - best.x[i]!) <= options.xTolerance),
  );
}

/** Standard Nelder–Mead (reflect 1, expand 2, contract ½, shrink ½). */
function nelderMead(f: (x: number[]) => number, start: readonly number[], options: NelderMeadOptions): Minimum {
  const vertexAt = (x: number[]): Minimum => ({ x, value: safeValue(f, x) });
  const simplex: Minimum[] = [vertexAt([...start])];
  for (let i = 0; i < start.length; i++) {
    simplex.push(vertexAt(start.map((value, j) => (i === j ? value + options.step : value))));
  }
  const n = start.length;
  for (let iteration = 0; iteration < options.maxIterations; iteration++) {
    simplex.sort((u, v) => u.value - v.value);
    if (hasConverged(simplex, options)) break;
    const best = simplex[0]!;
    const worst = simplex[n]!;
    const centroid = start.map((_, j) => simplex.slice(0, n).reduce((sum, vertex) => sum + vertex.x[j]!, 0) / n);
    const reflected = vertexAt(affine(centroid, worst.x, -1));
    if (reflected.value < best.value) {
      const expanded = vertexAt(affine(centroid, worst.x, -2));
      simplex[n] = expanded.value < reflected.value ? expanded : reflected;
    } else if (reflected.value < simplex[n - 1]!.value) {
      simplex[n] = reflected;
    } else {
      const outside = reflected.value < worst.value;
      const contracted = vertexAt(affine(centroid, outside ? reflected.x : worst.x, 0.5));
      if (contracted.value < (outside ? reflected.value : worst.value)) {
        simplex[n] = contracted;
      } else {
        for (let i = 1; i <= n; i++) simplex[i] = vertexAt(affine(best.x, simplex[i]!.x, 0.5));
      }
    }
  }
  simplex.sort((u, v) => u.value - v.value);
  return simplex[0]!;
}

const COARSE_NELDER_MEAD: NelderMeadOptions = { ...NELDER_MEAD_DEFAULTS, xTolerance: 1e-3, fTolerance: 1e-7 };

/** Central differences; the objective is smooth in the log-parameters. */
function numericGradient(f: (x: number[]) => number, x: readonly number[]): number[] {
  return x.map((_, i) => {
    const h = 1e-5 * Math.max(1, Math.abs(x[i]!));
    const up = [...x];
    const down = [...x];
    up[i]! += h;
    down[i]! -= h;
    return (safeValue(f, up) - safeValue(f, down)) / (2 * h);
  });
}

const dot = (u: readonly number[], v: readonly number[]) => u.reduce((sum, value, i) => sum + value * v[i]!, 0);

/**
 * BFGS with a backtracking line search, from a point already near the minimum: a handful of
 * quasi-Newton steps reach the optimum far more cheaply than a tightly converged simplex.
 */
function quasiNewton(f: (x: number[]) => number, start: Minimum, maxIterations = 200): Minimum {
  const n = start.x.length;
  const identity = (): number[][] =>
    Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  let inverseHessian = identity();
  let current = start;
  let gradient = numericGradient(f, current.x);
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    if (!gradient.every(Number.isFinite)) break;
    let direction = inverseHessian.map((row) => -dot(row, gradient));
    let slope = dot(gradient, direction);
    if (!(slope < 0)) {
      inverseHessian = identity();
      direction = gradient.map((g) => -g);
      slope = dot(gradient, direction);
      if (!(slope < 0)) break;
    }
    let step = 1;
    let next: Minimum | undefined;
    for (let halving = 0; halving < 50; halving++) {
      const x = current.x.map((value, i) => value + step * direction[i]!);
      const value = safeValue(f, x);
      if (value <= current.value + 1e-4 * step * slope) {
        next = { x, value };
        break;
      }
      step /= 2;
    }
    if (!next) break;
    const nextGradient = numericGradient(f, next.x);
    const moved = next.x.map((value, i) => value - current.x[i]!);
    const change = nextGradient.map((value, i) => value - gradient[i]!);
    const curvature = dot(moved, change);
    if (curvature > 1e-14 && iteration === 0) {
      // Scale the first guess of the inverse Hessian to the curvature just seen (Nocedal & Wright 6.20).
      const scale = curvature / dot(change, change);
      inverseHessian = inverseHessian.map((row) => row.map((value) => value * scale));
    }
    if (curvature > 1e-14) {
      const hy = inverseHessian.map((row) => dot(row, change));
      const yhy = dot(change, hy);
      inverseHessian = inverseHessian.map((row, i) =>
        row.map(
          (value, j) =>
            value +
            ((curvature + yhy) * moved[i]! * moved[j]!) / curvature ** 2 -
            (hy[i]! * moved[j]! + moved[i]! * hy[j]!) / curvature,
        ),
      );
    }
    const improvement = current.value - next.value;
    current = next;
    gradient = nextGradient;
    if (improvement <= 1e-15 * (1 + Math.abs(current.value)) && Math.max(...moved.map(Math.abs)) < 1e-9) break;
    if (Math.max(...gradient.map(Math.abs)) < 1e-10) break;
  }
  return current;
}

/**
 * A coarse Nelder–Mead from the better of the starts finds the basin of the minimum (it copes
 * with the flat and infinite regions far from it), then BFGS converges there, restarted with a
 * fresh curvature estimate until a restart no longer improves.
 */
function minimize(f: (x: number[]) => number, starts: readonly number[][]): Minimum {
  const start = starts.map((x) => ({ x: [...x], value: safeValue(f, [...x]) })).sort((u, v) => u.value - v.value)[0];
  if (!start || !Number.isFinite(start.value)) throw new Error("likelihood could not be evaluated at any start");
  let current = quasiNewton(f, nelderMead(f, start.x, COARSE_NELDER_MEAD));
  for (let restart = 0; restart < 5; restart++) {
    const next = quasiNewton(f, current);
    const improvement = current.value - next.value;
    if (next.value < current.value) current = next;
    if (!(improvement > 1e-13 * (1 + Math.abs(current.value)))) break;
  }
  return current;
}

// Beyond e^±30 a parameter has run off to a boundary of the model; stop there, not at overflow.
const LOG_PARAMETER_LIMIT = 30;

function penalizedObjective(
  meanLogLikelihood: (params: number[]) => number,
  penalizer: number,
): (logParams: number[]) => number {
  return (logParams) => {
    if (logParams.some((value) => Math.abs(value) > LOG_PARAMETER_LIMIT)) return Infinity;
    const params = logParams.map(Math.exp);
    return -meanLogLikelihood(params) + penalizer * params.reduce((sum, value) => sum + value * value, 0);
  };
}

function checkPenalizer(penalizer: number): number {
  if (!(penalizer >= 0) || !Number.isFinite(penalizer)) throw new RangeError("penalizer must be a non-negative number");
  return penalizer;
}

/**
 * Rows grouped by frequency, identical rows counted once with a weight: the gamma-function terms
 * of the spend likelihood depend on the frequency alone, so each is evaluated once per distinct value.
 */
interface FrequencyGroup<Row> {
  frequency: number;
  rows: { row: Row; weight: number }[];
}

function groupByFrequency<Row extends { frequency: number }>(
  rows: readonly Row[],
  key: (row: Row) => string,
): FrequencyGroup<Row>[] {
  const groups = new Map<number, Map<string, { row: Row; weight: number }>>();
  for (const row of rows) {
    let byKey = groups.get(row.frequency);
    if (!byKey) groups.set(row.frequency, (byKey = new Map()));
    const k = key(row);
    const entry = byKey.get(k);
    if (entry) entry.weight += 1;
    else byKey.set(k, { row, weight: 1 });
  }
  return [...groups].map(([frequency, byKey]) => ({ frequency, rows: [...byKey.values()] }));
}

/**
 * Purchase histories indexed for the likelihoods: identical (x, t_x, T) rows counted once, and
 * the distinct frequencies, observation ends (t_x and T values) and (x, end) pairs listed once,
 * so each evaluation computes the gamma functions once per frequency, the logarithms once per end
 * and Pareto/NBD's series once per pair. A shop's times are whole days, so the distinct ends stay
 * few however many customers there are, and the cost of an evaluation grows at most linearly.
 */
interface HistoryTable {
  frequencies: Float64Array;
  ends: Float64Array;
  pairFrequency: Int32Array;
  pairEnd: Int32Array;
  rowFrequency: Int32Array;
  rowRecencyEnd: Int32Array;
  rowTEnd: Int32Array;
  rowRecencyPair: Int32Array;
  rowTPair: Int32Array;
  rowWeight: Float64Array;
}

function historyTable(summaries: readonly History[]): HistoryTable {
  const index = <K>(map: Map<K, number>, key: K) => {
    let position = map.get(key);
    if (position === undefined) map.set(key, (position = map.size));
    return position;
  };
  const frequencies = new Map<number, number>();
  const ends = new Map<number, number>();
  const pairs = new Map<string, number>();
  const pairList: [number, number][] = [];
  const rows = new Map<string, number>();
  const rowList: number[][] = [];
  const weights: number[] = [];
  const pairOf = (f: number, e: number) => {
    const key = `${f}|${e}`;
    const before = pairs.size;
    const position = index(pairs, key);
    if (pairs.size > before) pairList.push([f, e]);
    return position;
  };
  for (const { frequency, recency, T } of summaries) {
    const key = `${frequency}|${recency}|${T}`;
    const existing = rows.get(key);
    if (existing !== undefined) {
      weights[existing]! += 1;
      continue;
    }
    const f = index(frequencies, frequency);
    const recencyEnd = index(ends, recency);
    const tEnd = index(ends, T);
    rows.set(key, rowList.length);
    rowList.push([f, recencyEnd, tEnd, pairOf(f, recencyEnd), pairOf(f, tEnd)]);
    weights.push(1);
  }
  const column = (i: number) => Int32Array.from(rowList, (row) => row[i]!);
  return {
    frequencies: Float64Array.from(frequencies.keys()),
    ends: Float64Array.from(ends.keys()),
    pairFrequency: Int32Array.from(pairList, ([f]) => f),
    pairEnd: Int32Array.from(pairList, ([, e]) => e),
    rowFrequency: column(0),
    rowRecencyEnd: column(1),
    rowTEnd: column(2),
    rowRecencyPair: column(3),
    rowTPair: column(4),
    rowWeight: Float64Array.from(weights),
  };
}

/** log(shift + end) for every distinct end. */
function logShiftedEnds(table: HistoryTable, shift: number): Float64Array {
  return table.ends.map((end) => Math.log(shift + end));
}

// ---------------------------------------------------------------------------------------------
// BG/NBD

type History = Pick<CustomerSummary, "frequency" | "recency" | "T">;

function checkHistory({ frequency, recency, T }: History): void {
  const valid =
    Number.isFinite(frequency) &&
    Number.isFinite(recency) &&
    Number.isFinite(T) &&
    frequency >= 0 &&
    recency >= 0 &&
    recency <= T &&
    (frequency > 0 || recency === 0);
  if (!valid) throw new RangeError(`invalid purchase history (frequency ${frequency}, recency ${recency}, T ${T})`);
}

/** log of the odds that a customer with this history has dropped out (only meaningful for x > 0). */
function logDropoutOdds({ r, alpha, a, b }: BgNbdParams, x: number, tx: number, T: number): number {
  return Math.log(a) - Math.log(b + x - 1) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + tx));
}

/** Log-likelihood of one customer's (x, t_x, T) under BG/NBD; equation (6) of the paper. */
export function bgNbdLogLikelihood(params: BgNbdParams, frequency: number, recency: number, T: number): number {
  const { r, alpha, a, b } = params;
  const x = frequency;
  const countTerm = logGamma(r + x) - logGamma(r) + r * Math.log(alpha);
  const betaTerm = logGamma(a + b) + logGamma(b + x) - logGamma(b) - logGamma(a + b + x);
  const aliveTerm = -(r + x) * Math.log(alpha + T);
  if (x === 0) return countTerm + betaTerm + aliveTerm;
  const droppedTerm = Math.log(a) - Math.log(b + x - 1) - (r + x) * Math.log(alpha + recency);
  return countTerm + betaTerm + logAddExp(aliveTerm, droppedTerm);
}

/**
 * Σ weight · (term of x + log(e^alive + e^dropped)) over the table, with alive = −(r+x) log(α+T)
 * and dropped = dropout term of x − (r+x) log(α+t_x): BG/NBD and MBG/NBD differ only in the
 * terms of x.
 */
function bgFamilyTotal(
  r: number,
  alpha: number,
  table: HistoryTable,
  frequencyTerm: Float64Array,
  dropoutTerm: Float64Array,
): number {
  const logAlphaEnd = logShiftedEnds(table, alpha);
  let total = 0;
  for (let i = 0; i < table.rowWeight.length; i++) {
    const f = table.rowFrequency[i]!;
    const power = r + table.frequencies[f]!;
    const aliveTerm = -power * logAlphaEnd[table.rowTEnd[i]!]!;
    const droppedTerm = dropoutTerm[f]! - power * logAlphaEnd[table.rowRecencyEnd[i]!]!;
    total += table.rowWeight[i]! * (frequencyTerm[f]! + logAddExp(aliveTerm, droppedTerm));
  }
  return total;
}

function bgNbdTotalLogLikelihood(params: BgNbdParams, table: HistoryTable): number {
  const { r, alpha, a, b } = params;
  const populationTerm = r * Math.log(alpha) - logGamma(r) + logGamma(a + b) - logGamma(b);
  const frequencyTerm = table.frequencies.map(
    (x) => populationTerm + logGamma(r + x) + logGamma(b + x) - logGamma(a + b + x),
  );
  const dropoutTerm = table.frequencies.map((x) => (x > 0 ? Math.log(a) - Math.log(b + x - 1) : -Infinity));
  return bgFamilyTotal(r, alpha, table, frequencyTerm, dropoutTerm);
}

export function fitBgNbd(summaries: readonly History[], options: FitOptions = {}): BgNbdFit {
  const { parameters, logLikelihood } = fitPurchaseModel("bg-nbd", summaries, options);
  return { ...bgParams(parameters), logLikelihood };
}

/** Probability that a customer is still active; 1 without repeat purchases (no dropout chance yet). */
export function probabilityAlive(params: BgNbdParams, frequency: number, recency: number, T: number): number {
  if (frequency === 0) return 1;
  return 1 / (1 + Math.exp(logDropoutOdds(params, frequency, recency, T)));
}

/**
 * (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; z)], z = t/(α+T+t): the
 * expected purchases in the next t of a BG/NBD customer known to be alive (equation (10) of the
 * paper without its P(alive) factor; with x = T = 0 it is the expectation of a new customer).
 * The ₂F₁ term is rewritten by Euler's transformation as (1−z)^(a−1) ₂F₁(a+b−1−r, a−1; a+b+x−1; z):
 * that series has small terms even for large x, and splitting off its leading 1 removes the 0/0
 * at a = 1.
 */
function bgFamilyExpectationIfAlive({ r, alpha, a, b }: BgNbdParams, t: number, x: number, T: number): number {
  if (!(t > 0)) return 0;
  const z = t / (alpha + T + t);
  const logOneMinusZ = Math.log(alpha + T) - Math.log(alpha + T + t);
  const aMinusOne = a - 1;
  const u = aMinusOne * logOneMinusZ;
  const leading = aMinusOne === 0 ? -logOneMinusZ : -Math.expm1(u) / aMinusOne;
  const excess = hyp2f1Excess(a + b - 1 - r, aMinusOne, a + b + x - 1, z);
  return (a + b + x - 1) * (leading - Math.exp(u) * excess);
}

/** Expected number of transactions in the next t time units given (x, t_x, T); equation (10) of the paper. */
export function expectedTransactions(
  params: BgNbdParams,
  t: number,
  frequency: number,
  recency: number,
  T: number,
): number {
  if (!(t > 0)) return 0;
  return bgFamilyExpectationIfAlive(params, t, frequency, T) * probabilityAlive(params, frequency, recency, T);
}

// ---------------------------------------------------------------------------------------------
// MBG/NBD

/** Same parameters as BG/NBD; the dropout chance p ~ Beta(a, b) also applies right after the first purchase. */
export type MbgNbdParams = BgNbdParams;

/**
 * Log-likelihood of one customer under MBG/NBD: BG/NBD's, except that the customer may have left
 * after each of the x + 1 purchases (the first included), so even x = 0 carries a dropout term.
 */
export function mbgNbdLogLikelihood(params: MbgNbdParams, frequency: number, recency: number, T: number): number {
  const { r, alpha, a, b } = params;
  const x = frequency;
  const countTerm = logGamma(r + x) - logGamma(r) + r * Math.log(alpha);
  const betaTerm = logGamma(a + b) + logGamma(b + x + 1) - logGamma(b) - logGamma(a + b + x + 1);
  const aliveTerm = -(r + x) * Math.log(alpha + T);
  const droppedTerm = Math.log(a) - Math.log(b + x) - (r + x) * Math.log(alpha + recency);
  return countTerm + betaTerm + logAddExp(aliveTerm, droppedTerm);
}

function mbgNbdTotalLogLikelihood(params: MbgNbdParams, table: HistoryTable): number {
  const { r, alpha, a, b } = params;
  const populationTerm = r * Math.log(alpha) - logGamma(r) + logGamma(a + b) - logGamma(b);
  const frequencyTerm = table.frequencies.map(
    (x) => populationTerm + logGamma(r + x) + logGamma(b + x + 1) - logGamma(a + b + x + 1),
  );
  const dropoutTerm = table.frequencies.map((x) => Math.log(a) - Math.log(b + x));
  return bgFamilyTotal(r, alpha, table, frequencyTerm, dropoutTerm);
}

/** P(alive) under MBG/NBD: below 1 even without repeat purchases, falling as the silence grows. */
export function mbgNbdProbabilityAlive(params: MbgNbdParams, frequency: number, recency: number, T: number): number {
  const { r, alpha, a, b } = params;
  const x = frequency;
  const logOdds = Math.log(a) - Math.log(b + x) + (r + x) * (Math.log(alpha + T) - Math.log(alpha + recency));
  return 1 / (1 + Math.exp(logOdds));
}

/**
 * Expected transactions in the next t under MBG/NBD: (a+b+x)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x)
 * ₂F₁(r+x, b+x+1; a+b+x; z)] · P(alive), which is BG/NBD's expectation if alive with b + 1 for b.
 */
export function mbgNbdExpectedTransactions(
  params: MbgNbdParams,
  t: number,
  frequency: number,
  recency: number,
  T: number,
): number {
  if (!(t > 0)) return 0;
  const shifted = { ...params, b: params.b + 1 };
  return bgFamilyExpectationIfAlive(shifted, t, frequency, T) * mbgNbdProbabilityAlive(params, frequency, recency, T);
}

// ---------------------------------------------------------------------------------------------
// Pareto/NBD

export interface ParetoNbdParams {
  /** Purchase rate λ ~ Gamma(r, α). */
  r: number;
  alpha: number;
  /** Dropout rate μ ~ Gamma(s, β). */
  s: number;
  beta: number;
}

const SERIES_MAX_TERMS = 1_000_000;

/**
 * ₂F₁(1, b; c; z) for 0 ≤ z < 1 and b < c: every term is the one before times (b+n)/(c+n)·z < z,
 * so the terms fall at least geometrically, never overflow, and the remainder after a term is
 * below term·z/(1−z).
 */
function hyp2f1UnitA(b: number, c: number, z: number): number {
  let term = 1;
  let sum = 1;
  for (let n = 0; n < SERIES_MAX_TERMS; n++) {
    term *= ((b + n) / (c + n)) * z;
    sum += term;
    if (term * z <= 1e-17 * sum * (1 - z)) return sum;
  }
  return NaN;
}

/**
 * log of Fader, Hardie & Lee's A₀ term at one end y (t_x or T), so that A₀ = term(t_x) − term(T).
 * The note's ₂F₁(r+s+x, ·; r+s+x+1; z) / (max(α,β)+y)^(r+s+x) is taken on the side where its
 * argument z = |α−β| / (max(α,β)+y) lies in [0, 1), and by Euler's transformation becomes a
 * ₂F₁(1, ·; r+s+x+1; z) series with falling terms times powers of (α+y) and (β+y), all in logs:
 * nothing overflows for large x or T.
 */
function paretoLogA0Term(params: ParetoNbdParams, x: number, y: number): number {
  return paretoLogA0TermFromLogs(params, x, y, Math.log(params.alpha + y), Math.log(params.beta + y));
}

function paretoLogA0TermFromLogs(
  { r, alpha, s, beta }: ParetoNbdParams,
  x: number,
  y: number,
  logAlphaY: number,
  logBetaY: number,
): number {
  const c = r + s + x + 1;
  if (alpha >= beta) {
    const z = (alpha - beta) / (alpha + y);
    return Math.log(hyp2f1UnitA(r + x, c, z)) - (r + x) * logAlphaY - s * logBetaY;
  }
  const z = (beta - alpha) / (beta + y);
  return Math.log(hyp2f1UnitA(s + 1, c, z)) - (r + x - 1) * logAlphaY - (s + 1) * logBetaY;
}

/** log(A₀) from its two ends' terms: −∞ when they meet (t_x = T, or T barely past t_x after rounding). */
function logDifference(atRecency: number, atEnd: number): number {
  const ratio = Math.exp(atEnd - atRecency);
  return ratio < 1 ? atRecency + Math.log1p(-ratio) : -Infinity;
}

/** log(s/(r+s+x) · A₀): the likelihood's part for a customer who left between t_x and T (−∞ when t_x = T). */
function paretoLogDroppedTerm(params: ParetoNbdParams, x: number, recency: number, T: number): number {
  if (!(T > recency)) return -Infinity;
  const difference = logDifference(paretoLogA0Term(params, x, recency), paretoLogA0Term(params, x, T));
  return Math.log(params.s) - Math.log(params.r + params.s + x) + difference;
}

/** Log-likelihood of one customer's (x, t_x, T) under Pareto/NBD (equation (3) of the note). */
export function paretoNbdLogLikelihood(params: ParetoNbdParams, frequency: number, recency: number, T: number): number {
  const { r, alpha, s, beta } = params;
  const x = frequency;
  const countTerm = logGamma(r + x) - logGamma(r) + r * Math.log(alpha) + s * Math.log(beta);
  const aliveTerm = -(r + x) * Math.log(alpha + T) - s * Math.log(beta + T);
  return countTerm + logAddExp(aliveTerm, paretoLogDroppedTerm(params, x, recency, T));
}

function paretoNbdTotalLogLikelihood(params: ParetoNbdParams, table: HistoryTable): number {
  const { r, alpha, s, beta } = params;
  const populationTerm = r * Math.log(alpha) + s * Math.log(beta) - logGamma(r);
  const frequencyTerm = table.frequencies.map((x) => populationTerm + logGamma(r + x));
  const shareTerm = table.frequencies.map((x) => Math.log(s) - Math.log(r + s + x));
  const logAlphaEnd = logShiftedEnds(table, alpha);
  const logBetaEnd = logShiftedEnds(table, beta);
  const pairTerm = new Float64Array(table.pairEnd.length);
  for (let j = 0; j < pairTerm.length; j++) {
    const e = table.pairEnd[j]!;
    const x = table.frequencies[table.pairFrequency[j]!]!;
    pairTerm[j] = paretoLogA0TermFromLogs(params, x, table.ends[e]!, logAlphaEnd[e]!, logBetaEnd[e]!);
  }
  let total = 0;
  for (let i = 0; i < table.rowWeight.length; i++) {
    const f = table.rowFrequency[i]!;
    const tEnd = table.rowTEnd[i]!;
    const aliveTerm = -(r + table.frequencies[f]!) * logAlphaEnd[tEnd]! - s * logBetaEnd[tEnd]!;
    const droppedTerm =
      table.ends[tEnd]! > table.ends[table.rowRecencyEnd[i]!]!
        ? shareTerm[f]! + logDifference(pairTerm[table.rowRecencyPair[i]!]!, pairTerm[table.rowTPair[i]!]!)
        : -Infinity;
    total += table.rowWeight[i]! * (frequencyTerm[f]! + logAddExp(aliveTerm, droppedTerm));
  }
  return total;
}

/** P(alive) under Pareto/NBD: 1 / (1 + s/(r+s+x) · (α+T)^(r+x) (β+T)^s · A₀). */
export function paretoNbdProbabilityAlive(
  params: ParetoNbdParams,
  frequency: number,
  recency: number,
  T: number,
): number {
  const { r, alpha, s, beta } = params;
  const x = frequency;
  const logOdds = paretoLogDroppedTerm(params, x, recency, T) + (r + x) * Math.log(alpha + T) + s * Math.log(beta + T);
  return 1 / (1 + Math.exp(logOdds));
}

/** (1 − q^(s−1)) / (s − 1) for 0 < q ≤ 1, including its limit −log q at s = 1. */
function powerDifference(logQ: number, s: number): number {
  const sMinusOne = s - 1;
  return sMinusOne === 0 ? -logQ : -Math.expm1(sMinusOne * logQ) / sMinusOne;
}

/** (r+x)(β+T) / (α+T) · (1 − ((β+T)/(β+T+t))^(s−1)) / (s−1): expected purchases in t if alive now. */
function paretoExpectationIfAlive({ r, alpha, s, beta }: ParetoNbdParams, t: number, x: number, T: number): number {
  if (!(t > 0)) return 0;
  const logQ = Math.log(beta + T) - Math.log(beta + T + t);
  return (((r + x) * (beta + T)) / (alpha + T)) * powerDifference(logQ, s);
}

/** Expected transactions in the next t under Pareto/NBD (Schmittlein et al. 1987, equation (22)). */
export function paretoNbdExpectedTransactions(
  params: ParetoNbdParams,
  t: number,
  frequency: number,
  recency: number,
  T: number,
): number {
  if (!(t > 0)) return 0;
  return paretoExpectationIfAlive(params, t, frequency, T) * paretoNbdProbabilityAlive(params, frequency, recency, T);
}

// ---------------------------------------------------------------------------------------------
// One interface over the three purchase models

export type PurchaseModelName = "bg-nbd" | "mbg-nbd" | "pareto-nbd";
export const PURCHASE_MODEL_NAMES: readonly PurchaseModelName[] = ["bg-nbd", "mbg-nbd", "pareto-nbd"];

/** r, alpha, a, b for the BG family; r, alpha, s, beta for Pareto/NBD. */
export type PurchaseParameters = Readonly<Record<string, number>>;

export interface PurchaseModelFit {
  model: PurchaseModelName;
  parameters: PurchaseParameters;
  /** Total (summed over customers) unpenalised log-likelihood at the optimum. */
  logLikelihood: number;
}

export interface PurchaseModel {
  name: PurchaseModelName;
  parameterNames: readonly string[];
  logLikelihood(parameters: PurchaseParameters, frequency: number, recency: number, T: number): number;
  probabilityAlive(parameters: PurchaseParameters, frequency: number, recency: number, T: number): number;
  /** Conditional expectation: purchases in the next t time units of a customer with this history. */
  expectedTransactions(
    parameters: PurchaseParameters,
    t: number,
    frequency: number,
    recency: number,
    T: number,
  ): number;
  /** Unconditional expectation: repeat purchases in the first t time units after a customer's first purchase. */
  expectedTransactionsOfNewCustomer(parameters: PurchaseParameters, t: number): number;
  fit(summaries: readonly History[], options?: FitOptions): PurchaseModelFit;
}

const bgParams = (p: PurchaseParameters): BgNbdParams => ({ r: p.r!, alpha: p.alpha!, a: p.a!, b: p.b! });
const paretoParams = (p: PurchaseParameters): ParetoNbdParams => ({ r: p.r!, alpha: p.alpha!, s: p.s!, beta: p.beta! });

/**
 * Maximum likelihood over positive parameters (searched in logs), from a start of 1 for every
 * parameter and one with α (and β) scaled to the mean observation length, since they carry the
 * time unit.
 */
function fitPositive(
  name: PurchaseModelName,
  parameterNames: readonly string[],
  total: (parameters: PurchaseParameters, table: HistoryTable) => number,
  summaries: readonly History[],
  options: FitOptions,
): PurchaseModelFit {
  if (summaries.length === 0) throw new RangeError(`${name} needs at least one customer`);
  summaries.forEach(checkHistory);
  const penalizer = checkPenalizer(options.penalizer ?? 0);
  const table = historyTable(summaries);
  const toParams = (values: number[]) => Object.fromEntries(parameterNames.map((key, i) => [key, values[i]!]));
  const logMeanT = Math.log(Math.max(mean(summaries.map((s) => s.T)), 1e-6));
  const starts = [
    parameterNames.map(() => 0),
    parameterNames.map((key) => (key === "alpha" || key === "beta" ? logMeanT : 0)),
  ];
  const best = minimize(
    penalizedObjective((values) => total(toParams(values), table) / summaries.length, penalizer),
    starts,
  );
  const parameters = toParams(best.x.map(Math.exp));
  return { model: name, parameters, logLikelihood: total(parameters, table) };
}

const BG_NAMES = ["r", "alpha", "a", "b"] as const;
const PARETO_NAMES = ["r", "alpha", "s", "beta"] as const;

const PURCHASE_MODELS: Record<PurchaseModelName, PurchaseModel> = {
  "bg-nbd": {
    name: "bg-nbd",
    parameterNames: BG_NAMES,
    logLikelihood: (p, x, tx, T) => bgNbdLogLikelihood(bgParams(p), x, tx, T),
    probabilityAlive: (p, x, tx, T) => probabilityAlive(bgParams(p), x, tx, T),
    expectedTransactions: (p, t, x, tx, T) => expectedTransactions(bgParams(p), t, x, tx, T),
    expectedTransactionsOfNewCustomer: (p, t) => bgFamilyExpectationIfAlive(bgParams(p), t, 0, 0),
    fit: (summaries, options = {}) =>
      fitPositive("bg-nbd", BG_NAMES, (p, table) => bgNbdTotalLogLikelihood(bgParams(p), table), summaries, options),
  },
  "mbg-nbd": {
    name: "mbg-nbd",
    parameterNames: BG_NAMES,
    logLikelihood: (p, x, tx, T) => mbgNbdLogLikelihood(bgParams(p), x, tx, T),
    probabilityAlive: (p, x, tx, T) => mbgNbdProbabilityAlive(bgParams(p), x, tx, T),
    expectedTransactions: (p, t, x, tx, T) => mbgNbdExpectedTransactions(bgParams(p), t, x, tx, T),
    // b/(a−1) · [1 − (α/(α+t))^r ₂F₁(r, b+1; a+b; t/(α+t))]: the BG form with b + 1, times the
    // chance b/(a+b) of not leaving right after the first purchase.
    expectedTransactionsOfNewCustomer: (p, t) => {
      const params = bgParams(p);
      const shifted = { ...params, b: params.b + 1 };
      return (params.b / (params.a + params.b)) * bgFamilyExpectationIfAlive(shifted, t, 0, 0);
    },
    fit: (summaries, options = {}) =>
      fitPositive("mbg-nbd", BG_NAMES, (p, table) => mbgNbdTotalLogLikelihood(bgParams(p), table), summaries, options),
  },
  "pareto-nbd": {
    name: "pareto-nbd",
    parameterNames: PARETO_NAMES,
    logLikelihood: (p, x, tx, T) => paretoNbdLogLikelihood(paretoParams(p), x, tx, T),
    probabilityAlive: (p, x, tx, T) => paretoNbdProbabilityAlive(paretoParams(p), x, tx, T),
    expectedTransactions: (p, t, x, tx, T) => paretoNbdExpectedTransactions(paretoParams(p), t, x, tx, T),
    // rβ/(α(s−1)) · [1 − (β/(β+t))^(s−1)].
    expectedTransactionsOfNewCustomer: (p, t) => paretoExpectationIfAlive(paretoParams(p), t, 0, 0),
    fit: (summaries, options = {}) =>
      fitPositive(
        "pareto-nbd",
        PARETO_NAMES,
        (p, table) => paretoNbdTotalLogLikelihood(paretoParams(p), table),
        summaries,
        options,
      ),
  },
};

export function purchaseModel(name: PurchaseModelName): PurchaseModel {
  return PURCHASE_MODELS[name];
}

export function fitPurchaseModel(
  name: PurchaseModelName,
  summaries: readonly History[],
  options: FitOptions = {},
): PurchaseModelFit {
  return PURCHASE_MODELS[name].fit(summaries, options);
}

// ---------------------------------------------------------------------------------------------
// Gamma-Gamma

type SpendHistory = Pick<CustomerSummary, "frequency" | "monetaryValue">;

/** Log-density of a customer's mean spend over x transactions under Gamma-Gamma. */
export function gammaGammaLogLikelihood(params: GammaGammaParams, frequency: number, monetaryValue: number): number {
  const { p, q, gamma } = params;
  const x = frequency;
  const m = monetaryValue;
  return (
    logGamma(p * x + q) -
    logGamma(p * x) -
    logGamma(q) +
    q * Math.log(gamma) +
    (p * x - 1) * Math.log(m) +
    p * x * Math.log(x) -
    (p * x + q) * Math.log(x * m + gamma)
  );
}

/** Customers the spend model can use: repeat buyers with a positive mean (its support is m > 0). */
function spendRows(summaries: readonly SpendHistory[]): SpendHistory[] {
  return summaries.filter(
    (s) => s.frequency > 0 && Number.isFinite(s.frequency) && s.monetaryValue > 0 && Number.isFinite(s.monetaryValue),
  );
}

function gammaGammaTotalLogLikelihood(
  params: GammaGammaParams,
  groups: readonly FrequencyGroup<SpendHistory>[],
): number {
  const { p, q, gamma } = params;
  const populationTerm = q * Math.log(gamma) - logGamma(q);
  let total = 0;
  for (const { frequency: x, rows } of groups) {
    const frequencyTerm = populationTerm + logGamma(p * x + q) - logGamma(p * x) + p * x * Math.log(x);
    for (const { row, weight } of rows) {
      const m = row.monetaryValue;
      total += weight * (frequencyTerm + (p * x - 1) * Math.log(m) - (p * x + q) * Math.log(x * m + gamma));
    }
  }
  return total;
}

export function fitGammaGamma(summaries: readonly SpendHistory[], options: FitOptions = {}): GammaGammaFit {
  const rows = spendRows(summaries);
  if (rows.length === 0) throw new RangeError("Gamma-Gamma needs at least one customer with a repeat purchase");
  const penalizer = checkPenalizer(options.penalizer ?? 0);
  const groups = groupByFrequency(rows, (s) => `${s.monetaryValue}`);
  const toParams = ([p, q, gamma]: number[]): GammaGammaParams => ({ p: p!, q: q!, gamma: gamma! });
  // γ carries the currency unit: p = 1, q = 2, γ = mean spend matches the observed mean.
  const starts = [
    [0, 0, 0],
    [0, Math.log(2), Math.log(mean(rows.map((s) => s.monetaryValue)))],
  ];
  const best = minimize(
    penalizedObjective((params) => gammaGammaTotalLogLikelihood(toParams(params), groups) / rows.length, penalizer),
    starts,
  );
  const params = toParams(best.x.map(Math.exp));
  return { ...params, logLikelihood: gammaGammaTotalLogLikelihood(params, groups) };
}

/**
 * Expected spend per transaction given x repeat purchases with mean m: a weighted mean of the
 * population mean pγ/(q−1) and m. Infinite when p·x + q ≤ 1, where that expectation diverges.
 */
export function expectedAverageSpend(params: GammaGammaParams, frequency: number, monetaryValue: number): number {
  const { p, q, gamma } = params;
  const denominator = p * frequency + q - 1;
  if (!(denominator > 0)) return Infinity;
  const observed = frequency > 0 ? monetaryValue : 0;
  return (p * (gamma + frequency * observed)) / denominator;
}

// ---------------------------------------------------------------------------------------------
// Predictions

/** P(alive), expected orders and expected spend over each horizon (in the summaries' time unit). */
export function predictCustomer(
  purchases: Pick<PurchaseModelFit, "model" | "parameters">,
  gammaGamma: GammaGammaParams,
  history: PurchaseHistory,
  horizons: readonly number[],
): CustomerPrediction {
  const { frequency, recency, T, monetaryValue } = history;
  checkHistory(history);
  const model = purchaseModel(purchases.model);
  const averageSpend = expectedAverageSpend(gammaGamma, frequency, monetaryValue);
  return {
    probabilityAlive: model.probabilityAlive(purchases.parameters, frequency, recency, T),
    expectedAverageSpend: averageSpend,
    horizons: horizons.map((t) => {
      const transactions = model.expectedTransactions(purchases.parameters, t, frequency, recency, T);
      return {
        t,
        expectedTransactions: transactions,
        expectedSpend: transactions === 0 ? 0 : transactions * averageSpend,
      };
    }),
  };
}
