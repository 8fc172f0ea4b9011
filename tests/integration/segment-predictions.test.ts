import { afterAll, beforeAll, describe, expect, it } from "vitest";
import prisma, { pgPool } from "../../app/db.server";
import { requestSegmentation } from "../../app/models/segmentation-runs.server";
import { getSegmentDetail, segmentCatalog } from "../../app/models/segments.server";
import { parsePredictionReport, type PredictionReport } from "../../app/models/prediction-report.server";
import {
  connectSegmentationSession,
  endSegmentationSession,
  orderAmountPages,
  orderSpan,
  stageOrders,
} from "../../app/models/segmentation-stages.server";
import { churnRiskFor, OrderHistory, orderHistoryOf, type FittedModel } from "../../app/services/predictions.server";
import { executeSegmentationRun } from "../../app/services/segmentation-run.server";
import { mulberry32, sampleGamma } from "../helpers/purchase-simulation";

/**
 * Predictions end to end: orders simulated from known BG/NBD and Gamma-Gamma
 * parameters go into Postgres as a shop's orders, and the shop's own fits in a
 * segmentation run recover those parameters, backtest the models on the last
 * 90 days and store every customer's predictions.
 */

const shop = `clv-${Date.now()}.myshopify.com`;
const AS_OF = new Date("2026-06-01T00:00:00Z");
const WEEK_MS = 7 * 86_400_000;
const TRUTH = { r: 0.5, alpha: 6, a: 0.8, b: 2.5, p: 4, q: 6, gamma: 15 };
const CUSTOMERS = 5000;

/** Orders of BG/NBD customers observed for 52–104 weeks: first order at their start, then Poisson(λ) repeats, dropping out after each with probability p. */
function simulateOrders() {
  const next = mulberry32(20261128);
  const orders: { customer: number; at: Date; amount: number }[] = [];
  for (let c = 0; c < CUSTOMERS; c++) {
    const lambda = sampleGamma(next, TRUTH.r) / TRUTH.alpha;
    const x = sampleGamma(next, TRUTH.a);
    const dropout = x / (x + sampleGamma(next, TRUTH.b));
    const nu = sampleGamma(next, TRUTH.q) / TRUTH.gamma;
    const spend = () => Math.round((sampleGamma(next, TRUTH.p) / nu) * 100) / 100 + 0.01;
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
let report: PredictionReport;
let run: Awaited<ReturnType<typeof prisma.segmentationRun.findUniqueOrThrow>>;
let orders: ReturnType<typeof simulateOrders>;

beforeAll(async () => {
  orders = simulateOrders();
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
  report = parsePredictionReport(run.predictionReport)!;
}, 180_000);

afterAll(async () => {
  await prisma.$disconnect();
  await pgPool.end();
});

describe("predictions from a shop simulated with known parameters", () => {
  it("reads the orders in pages that never split a customer and gathers the history they would give at once", async () => {
    const client = await connectSegmentationSession();
    try {
      await stageOrders(client, shop, AS_OF);
      const pages = [];
      // Three rows a fetch: most customers' orders straddle a fetch and must wait for the next.
      for await (const page of orderAmountPages(client, 3)) pages.push(page);
      const pageOf = new Map<string, number>();
      pages.forEach((page, index) =>
        page.forEach(({ customerId }) => {
          expect(pageOf.get(customerId) ?? index).toBe(index);
          pageOf.set(customerId, index);
        }),
      );
      expect(pages.flat()).toHaveLength(orders.length);
      expect(pageOf.size).toBe(CUSTOMERS);

      const paged = new OrderHistory(AS_OF, await orderSpan(client));
      for (const page of pages) paged.addOrders(page);
      const whole = orderHistoryOf(
        orders.map((order) => ({
          customerId: `gid://shopify/Customer/${order.customer + 1}`,
          date: order.at,
          amount: order.amount,
        })),
        AS_OF,
      );
      // Sorted by customer, spend to 9 decimals (the database sums a customer's days in another order).
      const byId = (rows: typeof paged.summaries) =>
        [...rows]
          .sort((x, y) => x.customerId.localeCompare(y.customerId))
          .map((row) => ({ ...row, monetaryValue: row.monetaryValue.toFixed(9) }));
      expect(paged.historyDays).toBe(whole.historyDays);
      expect(paged.spanDays).toBeCloseTo(whole.spanDays, 9);
      expect(byId(paged.summaries)).toEqual(byId(whole.summaries));
      expect(new Map([...paged.lastOrderAt].sort())).toEqual(new Map([...whole.lastOrderAt].sort()));
      expect(paged.holdout!.days).toBe(90);
      expect(byId(paged.holdout!.summaries)).toEqual(byId(whole.holdout!.summaries));
      expect(new Map([...paged.holdout!.holdoutDays].sort())).toEqual(new Map([...whole.holdout!.holdoutDays].sort()));
    } finally {
      await endSegmentationSession(client);
    }
  });

  it("opens the prediction gate and says on what history", () => {
    expect(run.status).toBe("succeeded");
    expect(run.predictionsShown).toBe(true);
    expect(run.predictionGate).toMatch(
      /^Predicted from 5000 customers \(\d+ repeat buyers\) over \d+ days of orders\.$/,
    );
  });

  it("recovers the BG/NBD parameters by maximum likelihood on the history before the holdout", () => {
    const bgNbd = report.candidates.find((candidate) => candidate.model === "bg-nbd")!.parameters;
    within(bgNbd.r!, TRUTH.r, 0.1);
    within(bgNbd.alpha!, TRUTH.alpha, 0.1);
    within(bgNbd.a!, TRUTH.a, 0.15);
    within(bgNbd.b!, TRUTH.b, 0.15);
    expect(model.penalizer).toBeGreaterThan(0);
    expect(model.timeUnitDays).toBe(7);
  });

  it("stores the backtest that chose the model, and the model refitted on all history", () => {
    expect(report).not.toBeNull();
    expect(report.shown).toBe(true);
    expect(report.failedCondition).toBeNull();
    expect(report.candidates).toHaveLength(3);
    const closest = [...report.candidates].sort((x, y) => x.holdoutError - y.holdoutError)[0]!;
    expect(report.model).toBe(closest.model);
    expect(model.model).toBe(report.model);
    expect(model.parameters).toEqual(report.parameters);
    const holdout = report.holdout!;
    expect(holdout).toMatchObject({ start: "2026-03-04", end: "2026-06-01", days: 90 });
    // Actual: distinct order days in the holdout of customers who ordered before it.
    const day = (at: Date) => at.toISOString().slice(0, 10);
    const before = new Set(orders.filter((o) => day(o.at) < holdout.start).map((o) => o.customer));
    const repeatDays = new Set(
      orders
        .filter((o) => before.has(o.customer) && day(o.at) >= holdout.start)
        .map((o) => `${o.customer} ${day(o.at)}`),
    );
    expect(holdout.customers).toBe(before.size);
    expect(holdout.actualOrders).toBe(repeatDays.size);
    expect(Math.abs(holdout.relativeError)).toBeLessThanOrEqual(report.errorBound);
    expect(holdout.relativeError).toBeCloseTo(
      (holdout.predictedOrders - holdout.actualOrders) / holdout.actualOrders,
      10,
    );
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

  it("stores churn risk in its bands, the usual gap and the expected next order for every customer", async () => {
    const scores = await prisma.customerScore.findMany({ where: { shop } });
    // Each customer's distinct order days (UTC), from the simulated orders.
    const orderDays = new Map<string, Set<number>>();
    for (const order of orders) {
      const id = `gid://shopify/Customer/${order.customer + 1}`;
      orderDays.set(id, (orderDays.get(id) ?? new Set()).add(Math.floor(order.at.getTime() / 86_400_000)));
    }
    let regulars = 0;
    for (const score of scores) {
      expect(score.churnRisk).toBe(churnRiskFor(score.probabilityAlive!));
      const days = [...orderDays.get(score.customerId)!].sort((x, y) => x - y);
      if (days.length === 1) {
        expect(score.averageDaysBetweenOrders).toBeNull();
        expect(score.expectedNextOrderAt).toBeNull();
        continue;
      }
      regulars += 1;
      expect(score.averageDaysBetweenOrders!).toBeCloseTo((days.at(-1)! - days[0]!) / (days.length - 1), 9);
      const gapMs = score.averageDaysBetweenOrders! * 86_400_000;
      expect(
        Math.abs(score.expectedNextOrderAt!.getTime() - (score.lastOrderAt.getTime() + gapMs)),
      ).toBeLessThanOrEqual(1);
    }
    expect(regulars).toBeGreaterThan(500);
    expect(new Set(scores.map((score) => score.churnRisk))).toEqual(new Set(["low", "medium", "high"]));
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

  it("keeps each customer's probability of being active from the run before", async () => {
    const first = new Map(
      (await prisma.customerScore.findMany({ where: { shop } })).map((score) => [
        score.customerId,
        score.probabilityAlive,
      ]),
    );
    const requested = await requestSegmentation({ shop, trigger: "merchant" });
    await executeSegmentationRun(requested.id, { asOf: new Date(AS_OF.getTime() + 7 * 86_400_000) });
    const scores = await prisma.customerScore.findMany({ where: { shop } });
    expect(scores).toHaveLength(CUSTOMERS);
    for (const score of scores) {
      expect(score.previousProbabilityAlive).toBe(first.get(score.customerId));
      expect(score.probabilityAlive!).toBeLessThanOrEqual(score.previousProbabilityAlive! + 0.2);
    }
  }, 180_000);
});
