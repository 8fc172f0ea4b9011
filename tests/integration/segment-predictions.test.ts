import { afterAll, beforeAll, describe, expect, it } from "vitest";
import prisma, { pgPool } from "../../app/db.server";
import { requestSegmentation } from "../../app/models/segmentation-runs.server";
import { getSegmentDetail, segmentCatalog } from "../../app/models/segments.server";
import type { FittedModel } from "../../app/services/predictions.server";
import { executeSegmentationRun } from "../../app/services/segmentation-run.server";

/**
 * Predictions end to end: orders simulated from known BG/NBD and Gamma-Gamma
 * parameters go into Postgres as a shop's orders, and the shop's own fit in a
 * segmentation run recovers those parameters.
 */

const shop = `clv-${Date.now()}.myshopify.com`;
const AS_OF = new Date("2026-06-01T00:00:00Z");
const WEEK_MS = 7 * 86_400_000;
const TRUTH = { r: 0.5, alpha: 6, a: 0.8, b: 2.5, p: 4, q: 6, gamma: 15 };
const CUSTOMERS = 5000;

/** mulberry32: small, well-mixed and seeded, so the simulated shop is the same on every run. */
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 1) / 4294967297;
  };
}

/** Gamma(shape, 1) by Marsaglia and Tsang. */
function gamma(next: () => number, shape: number): number {
  if (shape < 1) return gamma(next, shape + 1) * Math.pow(next(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const z = Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
    const v = (1 + c * z) ** 3;
    if (v > 0 && Math.log(next()) < 0.5 * z * z + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** Orders of BG/NBD customers observed for 52–104 weeks: first order at their start, then Poisson(λ) repeats, dropping out after each with probability p. */
function simulateOrders() {
  const next = random(20261128);
  const orders: { customer: number; at: Date; amount: number }[] = [];
  for (let c = 0; c < CUSTOMERS; c++) {
    const lambda = gamma(next, TRUTH.r) / TRUTH.alpha;
    const x = gamma(next, TRUTH.a);
    const dropout = x / (x + gamma(next, TRUTH.b));
    const nu = gamma(next, TRUTH.q) / TRUTH.gamma;
    const spend = () => Math.round((gamma(next, TRUTH.p) / nu) * 100) / 100 + 0.01;
    const T = 52 + 52 * next();
    const start = AS_OF.getTime() - T * WEEK_MS;
    orders.push({ customer: c, at: new Date(start), amount: spend() });
    let time = 0;
    for (;;) {
      time += -Math.log(next()) / lambda;
      if (time > T) break;
      orders.push({ customer: c, at: new Date(start + time * WEEK_MS), amount: spend() });
      if (next() < dropout) break;
    }
  }
  return orders;
}

const within = (actual: number, expected: number, tolerance: number) =>
  expect(Math.abs(actual / expected - 1), `${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance);

let model: FittedModel;
let run: Awaited<ReturnType<typeof prisma.segmentationRun.findUniqueOrThrow>>;

beforeAll(async () => {
  const orders = simulateOrders();
  await prisma.order.createMany({
    data: orders.map((order, i) => ({
      shop,
      id: `gid://shopify/Order/${i + 1}`,
      legacyId: i + 1,
      name: `#${i + 1}`,
      customerId: `gid://shopify/Customer/${order.customer + 1}`,
      currencyCode: "USD",
      totalPrice: order.amount.toFixed(2),
      totalRefunded: 0,
      netRevenue: order.amount.toFixed(2),
      processedAt: order.at,
      shopifyCreatedAt: order.at,
      shopifyUpdatedAt: order.at,
    })),
  });
  const requested = await requestSegmentation({ shop, trigger: "merchant" });
  await executeSegmentationRun(requested.id, { asOf: AS_OF });
  run = await prisma.segmentationRun.findUniqueOrThrow({ where: { id: requested.id } });
  model = run.model as unknown as FittedModel;
}, 120_000);

afterAll(async () => {
  await prisma.$disconnect();
  await pgPool.end();
});

describe("predictions from a shop simulated with known parameters", () => {
  it("opens the prediction gate and says on what history", () => {
    expect(run.status).toBe("succeeded");
    expect(run.predictionsShown).toBe(true);
    expect(run.predictionGate).toMatch(
      /^Predicted from 5000 customers \(\d+ repeat buyers\) over \d+ days of orders\.$/,
    );
  });

  it("recovers the BG/NBD parameters by maximum likelihood", () => {
    within(model.bgNbd.r, TRUTH.r, 0.1);
    within(model.bgNbd.alpha, TRUTH.alpha, 0.1);
    within(model.bgNbd.a, TRUTH.a, 0.15);
    within(model.bgNbd.b, TRUTH.b, 0.15);
    expect(model.penalizer).toBeGreaterThan(0);
    expect(model.timeUnitDays).toBe(7);
  });

  it("recovers the Gamma-Gamma mean spend", () => {
    const { p, q, gamma: scale } = model.gammaGamma;
    within((p * scale) / (q - 1), (TRUTH.p * TRUTH.gamma) / (TRUTH.q - 1), 0.15);
  });

  it("stores P(active) and expected orders and spend over 90 and 365 days for every customer", async () => {
    const scores = await prisma.customerScore.findMany({ where: { shop } });
    expect(scores).toHaveLength(CUSTOMERS);
    for (const score of scores) {
      expect(score.probabilityAlive).toBeGreaterThan(0);
      expect(score.probabilityAlive).toBeLessThanOrEqual(1);
      expect(score.expectedOrders365!).toBeGreaterThanOrEqual(score.expectedOrders90!);
      expect(Number(score.expectedSpend365)).toBeGreaterThanOrEqual(Number(score.expectedSpend90));
    }
    // Customers who bought recently and often are expected to buy more than those long silent.
    const mean = (rows: typeof scores) => rows.reduce((sum, row) => sum + row.expectedOrders365!, 0) / rows.length;
    const champions = scores.filter((score) => score.rfmSegment === "champions");
    const lost = scores.filter((score) => score.rfmSegment === "lost");
    expect(mean(champions)).toBeGreaterThan(3 * mean(lost));
    // The simulated population's expected purchases over a year, against the model's average.
    const yearly = mean(scores);
    expect(yearly).toBeGreaterThan(0.1);
    expect(yearly).toBeLessThan(5);
  });

  it("shows members' predictions on the segment page", async () => {
    const champions = await prisma.segment.findUniqueOrThrow({ where: { shop_key: { shop, key: "rfm:champions" } } });
    const detail = await getSegmentDetail(shop, champions.id, { limit: 5 });
    expect(detail!.predictions.shown).toBe(true);
    expect(detail!.members[0]!.probabilityAlive).toBeGreaterThan(0);
    expect(Number(detail!.members[0]!.expectedSpend365)).toBeGreaterThan(0);
  });

  it("sums members' predicted 365-day spend per segment, with its share of the shop's", async () => {
    const scores = await prisma.customerScore.findMany({ where: { shop } });
    const shopTotal = scores.reduce((sum, score) => sum + Number(score.expectedSpend365), 0);
    const catalog = await segmentCatalog(shop, { family: "rfm", sort: "predicted", pageSize: 100 });
    expect(Number(catalog.totals.expectedSpend365)).toBeCloseTo(shopTotal, 2);
    for (const segment of catalog.segments) {
      const key = segment.key.replace(/^rfm:/, "");
      const members = scores.filter((score) => score.rfmSegment === key);
      const expected = members.reduce((sum, score) => sum + Number(score.expectedSpend365), 0);
      expect(Number(segment.expectedSpend365), segment.key).toBeCloseTo(expected, 2);
      expect(segment.expectedSpendShare!, segment.key).toBeCloseTo(expected / shopTotal, 6);
    }
    // RFM segments do not overlap: their predicted shares add to the whole.
    expect(catalog.segments.reduce((sum, segment) => sum + segment.expectedSpendShare!, 0)).toBeCloseTo(1, 6);
    const predicted = catalog.segments.map((segment) => Number(segment.expectedSpend365));
    expect(predicted).toEqual([...predicted].sort((x, y) => y - x));
  });
});
