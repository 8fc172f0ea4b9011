/**
 * Customers simulated from the purchase models' own stories, with a seeded
 * generator, so tests can check that a fit recovers the parameters that made
 * the data.
 */

export type Random = () => number;

/** mulberry32: a small, well-mixed 32-bit generator, enough for reproducible simulations; never 0. */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967297;
  };
}

function standardNormal(random: Random): number {
  return Math.sqrt(-2 * Math.log(random())) * Math.cos(2 * Math.PI * random());
}

/** Gamma(shape, 1) by Marsaglia & Tsang; shapes below 1 are boosted by U^(1/shape). */
export function sampleGamma(random: Random, shape: number): number {
  if (shape < 1) return sampleGamma(random, shape + 1) * Math.pow(random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const z = standardNormal(random);
    const v = (1 + c * z) ** 3;
    if (v <= 0) continue;
    if (Math.log(random()) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v;
  }
}

export function sampleBeta(random: Random, a: number, b: number): number {
  const x = sampleGamma(random, a);
  return x / (x + sampleGamma(random, b));
}

export type SimulatedModel =
  | { model: "bg-nbd" | "mbg-nbd"; r: number; alpha: number; a: number; b: number }
  | { model: "pareto-nbd"; r: number; alpha: number; s: number; beta: number };

/**
 * One customer's repeat purchase times in (0, T] after a first purchase at 0:
 * Poisson purchases at rate λ ~ Gamma(r, α) while active. BG/NBD: after each
 * repeat purchase the customer leaves with p ~ Beta(a, b); MBG/NBD: also
 * right after the first; Pareto/NBD: the customer leaves at an exponential
 * time with rate μ ~ Gamma(s, β).
 */
export function simulateRepeatTimes(random: Random, truth: SimulatedModel, T: number): number[] {
  const lambda = sampleGamma(random, truth.r) / truth.alpha;
  const times: number[] = [];
  if (truth.model === "pareto-nbd") {
    const mu = sampleGamma(random, truth.s) / truth.beta;
    const end = Math.min(T, -Math.log(random()) / mu);
    for (let time = -Math.log(random()) / lambda; time <= end; time += -Math.log(random()) / lambda) times.push(time);
    return times;
  }
  const dropout = sampleBeta(random, truth.a, truth.b);
  if (truth.model === "mbg-nbd" && random() < dropout) return times;
  for (let time = -Math.log(random()) / lambda; time <= T; time += -Math.log(random()) / lambda) {
    times.push(time);
    if (random() < dropout) break;
  }
  return times;
}

/** To whole sevenths of a week, as a shop's order days give them. */
const toDays = (weeks: number) => Math.round(weeks * 7) / 7;

/** (x, t_x, T) of customers observed for 52 to 104 weeks, times in whole days. */
export function simulateHistories(random: Random, customers: number, truth: SimulatedModel) {
  return Array.from({ length: customers }, () => {
    const T = 52 + 52 * random();
    const times = simulateRepeatTimes(random, truth, T);
    return { frequency: times.length, recency: toDays(times.at(-1) ?? 0), T: toDays(T) };
  });
}

const WEEK_MS = 7 * 86_400_000;

/**
 * Dated orders of customers whose first orders fall evenly over the weeks
 * from `start` to `end` (time unit: weeks), up to `end`.
 */
export function simulateOrders(
  random: Random,
  customers: number,
  truth: SimulatedModel,
  range: { start: Date; end: Date },
): { customerId: string; date: Date; amount: number }[] {
  const weeks = (range.end.getTime() - range.start.getTime()) / WEEK_MS;
  const orders: { customerId: string; date: Date; amount: number }[] = [];
  for (let c = 0; c < customers; c++) {
    const first = range.start.getTime() + random() * weeks * WEEK_MS;
    const T = (range.end.getTime() - first) / WEEK_MS;
    const customerId = `c${c + 1}`;
    orders.push({ customerId, date: new Date(first), amount: 20 + Math.round(random() * 8000) / 100 });
    for (const time of simulateRepeatTimes(random, truth, T)) {
      orders.push({
        customerId,
        date: new Date(first + time * WEEK_MS),
        amount: 20 + Math.round(random() * 8000) / 100,
      });
    }
  }
  return orders;
}
