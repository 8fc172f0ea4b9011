/**
 * Customer lifetime value: the BG/NBD model of repeat purchases (Fader, Hardie & Lee 2005,
 * "Counting your customers the easy way") and the Gamma-Gamma model of spend per purchase
 * (Fader & Hardie 2013), both fitted by maximum likelihood. Pure TypeScript, no dependencies.
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

/**
 * Nelder–Mead from each start, restarted from its own best point with a fresh simplex until a
 * restart no longer improves: a collapsed simplex can otherwise stall short of the minimum.
 */
function minimize(f: (x: number[]) => number, starts: readonly number[][]): Minimum {
  let overall: Minimum | undefined;
  for (const start of starts) {
    let current = nelderMead(f, start, NELDER_MEAD_DEFAULTS);
    for (let restart = 0; restart < 20; restart++) {
      const next = nelderMead(f, current.x, NELDER_MEAD_DEFAULTS);
      const improvement = current.value - next.value;
      if (next.value < current.value) current = next;
      if (!(improvement > 1e-12 * (1 + Math.abs(current.value)))) break;
    }
    if (!overall || current.value < overall.value) overall = current;
  }
  if (!overall || !Number.isFinite(overall.value)) throw new Error("likelihood could not be evaluated at any start");
  return overall;
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
 * of both likelihoods depend on the frequency alone, so each is evaluated once per distinct value.
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

function bgNbdTotalLogLikelihood(params: BgNbdParams, groups: readonly FrequencyGroup<History>[]): number {
  const { r, alpha, a, b } = params;
  const populationTerm = r * Math.log(alpha) - logGamma(r) + logGamma(a + b) - logGamma(b);
  let total = 0;
  for (const { frequency: x, rows } of groups) {
    const frequencyTerm = populationTerm + logGamma(r + x) + logGamma(b + x) - logGamma(a + b + x);
    const dropoutTerm = x > 0 ? Math.log(a) - Math.log(b + x - 1) : -Infinity;
    for (const { row, weight } of rows) {
      const aliveTerm = -(r + x) * Math.log(alpha + row.T);
      const droppedTerm = dropoutTerm - (r + x) * Math.log(alpha + row.recency);
      total += weight * (frequencyTerm + logAddExp(aliveTerm, droppedTerm));
    }
  }
  return total;
}

export function fitBgNbd(summaries: readonly History[], options: FitOptions = {}): BgNbdFit {
  if (summaries.length === 0) throw new RangeError("BG/NBD needs at least one customer");
  summaries.forEach(checkHistory);
  const penalizer = checkPenalizer(options.penalizer ?? 0);
  const groups = groupByFrequency(summaries, (s) => `${s.recency}|${s.T}`);
  const toParams = ([r, alpha, a, b]: number[]): BgNbdParams => ({ r: r!, alpha: alpha!, a: a!, b: b! });
  const meanT = mean(summaries.map((s) => s.T));
  // α carries the time unit, so one start is scaled by the observation length.
  const starts = [
    [0, 0, 0, 0],
    [0, Math.log(Math.max(meanT, 1e-6)), 0, 0],
  ];
  const best = minimize(
    penalizedObjective((params) => bgNbdTotalLogLikelihood(toParams(params), groups) / summaries.length, penalizer),
    starts,
  );
  const params = toParams(best.x.map(Math.exp));
  return { ...params, logLikelihood: bgNbdTotalLogLikelihood(params, groups) };
}

/** Probability that a customer is still active; 1 without repeat purchases (no dropout chance yet). */
export function probabilityAlive(params: BgNbdParams, frequency: number, recency: number, T: number): number {
  if (frequency === 0) return 1;
  return 1 / (1 + Math.exp(logDropoutOdds(params, frequency, recency, T)));
}

/**
 * Expected number of transactions in the next t time units given (x, t_x, T); equation (10) of
 * the paper. Its term ((α+T)/(α+T+t))^(r+x) ₂F₁(r+x, b+x; a+b+x−1; z) is rewritten by Euler's
 * transformation as (1−z)^(a−1) ₂F₁(a+b−1−r, a−1; a+b+x−1; z): that series has small terms even
 * for large x, and splitting off its leading 1 removes the 0/0 at a = 1.
 */
export function expectedTransactions(
  params: BgNbdParams,
  t: number,
  frequency: number,
  recency: number,
  T: number,
): number {
  if (!(t > 0)) return 0;
  const { r, alpha, a, b } = params;
  const x = frequency;
  const z = t / (alpha + T + t);
  const logOneMinusZ = Math.log(alpha + T) - Math.log(alpha + T + t);
  const aMinusOne = a - 1;
  const u = aMinusOne * logOneMinusZ;
  const leading = aMinusOne === 0 ? -logOneMinusZ : -Math.expm1(u) / aMinusOne;
  const excess = hyp2f1Excess(a + b - 1 - r, aMinusOne, a + b + x - 1, z);
  const unconditional = (a + b + x - 1) * (leading - Math.exp(u) * excess);
  return unconditional * probabilityAlive(params, frequency, recency, T);
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
  bgNbd: BgNbdParams,
  gammaGamma: GammaGammaParams,
  history: PurchaseHistory,
  horizons: readonly number[],
): CustomerPrediction {
  const { frequency, recency, T, monetaryValue } = history;
  checkHistory(history);
  const averageSpend = expectedAverageSpend(gammaGamma, frequency, monetaryValue);
  return {
    probabilityAlive: probabilityAlive(bgNbd, frequency, recency, T),
    expectedAverageSpend: averageSpend,
    horizons: horizons.map((t) => {
      const transactions = expectedTransactions(bgNbd, t, frequency, recency, T);
      return {
        t,
        expectedTransactions: transactions,
        expectedSpend: transactions === 0 ? 0 : transactions * averageSpend,
      };
    }),
  };
}
