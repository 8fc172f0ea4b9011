import { afterAll, beforeAll, describe, expect, it } from "vitest";
import prisma, { pgPool } from "../../app/db.server";
import {
  dashboardKpis,
  dashboardPeriodParam,
  hasStoreData,
  predictedRevenue90,
  rfmSegmentSummaries,
  salesOverTime,
  suggestNextActions,
} from "../../app/models/dashboard.server";

/**
 * The Dashboard's SQL on real Postgres against a small shop whose every
 * figure is worked out by hand below. The shop is in America/New_York and
 * "now" is 2026-03-10 12:00 UTC (08:00 EDT; DST began on March 8), so the
 * last 30 local days are Feb 9 – Mar 10, from 2026-02-09T05:00Z (midnight
 * EST) to 2026-03-11T04:00Z (midnight EDT), and the 30 before them Jan 10 –
 * Feb 8, from 2026-01-10T05:00Z.
 */

const shop = `dashboard-${Date.now()}.myshopify.com`;
const emptyShop = `dashboard-empty-${Date.now()}.myshopify.com`;
const timeZone = "America/New_York";
const now = new Date("2026-03-10T12:00:00Z");
const customer = (letter: string) => `gid://shopify/Customer/${letter.charCodeAt(0)}`;

interface FixtureOrder {
  customer: string | null;
  at: string;
  total: number;
  refunded?: number;
  cancelled?: boolean;
  currencyCode?: string;
}

/**
 *   A  an order in December (before both periods), one in the current period, and a cancelled one
 *   B  first order in the previous period, two in the current one
 *   C  23:30 EST on Feb 8 (04:30 UTC on Feb 9: previous period by the shop's clock), then 00:30 EST on Feb 9
 *   D  new in the current period with two orders
 *   E  new in the current period, one order of 100 less a 25 refund, placed by a visitor paying in euros
 *      (the stored totals are the shop-currency amounts)
 *   F  only an order at 00:30 EDT on Mar 11: after the period
 *   G  only an order at 23:59 EST on Jan 9: before the previous period
 *   a guest order in the current period
 *
 * Current period: orders A 50, B 80, B 20, C 40, D 60, D 40, E 75, guest 10 = 8 orders, 375.00;
 *   customers A B C D E = 5; new D E = 2; returning A (earlier order), B, C (earlier), D (second) = 4, rate 0.8;
 *   average order value 375 / 8 = 46.875.
 * Previous period: B 200, C 30 = 2 orders, 230.00; customers B C = 2, both new, none returning (rate 0);
 *   average order value 115.
 */
const ORDERS: FixtureOrder[] = [
  { customer: "A", at: "2025-12-01T15:00:00Z", total: 100 },
  { customer: "A", at: "2026-02-20T15:00:00Z", total: 50 },
  { customer: "A", at: "2026-02-25T15:00:00Z", total: 999, cancelled: true },
  { customer: "B", at: "2026-01-15T12:00:00Z", total: 200 },
  { customer: "B", at: "2026-03-01T12:00:00Z", total: 80 },
  { customer: "B", at: "2026-03-02T12:00:00Z", total: 20 },
  { customer: "C", at: "2026-02-09T04:30:00Z", total: 30 },
  { customer: "C", at: "2026-02-09T05:30:00Z", total: 40 },
  { customer: "D", at: "2026-03-05T12:00:00Z", total: 60 },
  { customer: "D", at: "2026-03-06T12:00:00Z", total: 40 },
  { customer: "E", at: "2026-03-10T23:00:00Z", total: 100, refunded: 25, currencyCode: "EUR" },
  { customer: "F", at: "2026-03-11T04:30:00Z", total: 500 },
  { customer: "G", at: "2026-01-10T04:59:00Z", total: 700 },
  { customer: null, at: "2026-02-15T12:00:00Z", total: 10 },
];

beforeAll(async () => {
  await prisma.order.createMany({
    data: ORDERS.map((order, i) => ({
      shop,
      id: `gid://shopify/Order/${i + 1}`,
      legacyId: BigInt(i + 1),
      name: `#${i + 1}`,
      customerId: order.customer && customer(order.customer),
      currencyCode: order.currencyCode ?? "CAD",
      totalPrice: order.total,
      totalRefunded: order.refunded ?? 0,
      netRevenue: order.total - (order.refunded ?? 0),
      processedAt: new Date(order.at),
      cancelledAt: order.cancelled ? new Date(order.at) : null,
      shopifyCreatedAt: new Date(order.at),
      shopifyUpdatedAt: new Date(order.at),
    })),
  });
});

afterAll(async () => {
  await prisma.$disconnect();
  await pgPool.end();
});

describe("period", () => {
  it("accepts 30, 90 and 365 days and falls back to 30 for anything else", () => {
    expect(dashboardPeriodParam.parse("90")).toBe(90);
    expect(dashboardPeriodParam.parse("365")).toBe(365);
    for (const bad of [undefined, "", "7", "abc", "90.0", "-30"]) expect(dashboardPeriodParam.parse(bad)).toBe(30);
  });
});

describe("KPIs", () => {
  it("counts the last 30 local days against the 30 before, by the shop's clock", async () => {
    const kpis = await dashboardKpis(shop, { days: 30, timeZone, now });
    expect(kpis.current).toEqual({
      start: "2026-02-09T05:00:00.000Z",
      end: "2026-03-11T04:00:00.000Z",
      customers: 5,
      newCustomers: 2,
      returningCustomers: 4,
      returningRate: 0.8,
      revenue: "375.0000",
      orders: 8,
      averageOrderValue: "46.8750",
    });
    expect(kpis.previous).toEqual({
      start: "2026-01-10T05:00:00.000Z",
      end: "2026-02-09T05:00:00.000Z",
      customers: 2,
      newCustomers: 2,
      returningCustomers: 0,
      returningRate: 0,
      revenue: "230.0000",
      orders: 2,
      averageOrderValue: "115.0000",
    });
  });

  it("moves the boundary with the zone: in UTC, C's first order falls in the current period", async () => {
    const kpis = await dashboardKpis(shop, { days: 30, timeZone: "UTC", now });
    // Current: Feb 9 00:00Z – Mar 11 00:00Z: E (23:00Z Mar 10) is in, C has both orders in it (new, returning).
    expect(kpis.current.start).toBe("2026-02-09T00:00:00.000Z");
    expect(kpis.current.orders).toBe(9);
    expect(kpis.current.revenue).toBe("405.0000");
    expect(kpis.current.newCustomers).toBe(3);
    expect(kpis.current.returningCustomers).toBe(4);
    // Previous: Jan 10 – Feb 8 UTC: B 200 and G (04:59Z Jan 10) 700.
    expect(kpis.previous).toMatchObject({ orders: 2, revenue: "900.0000", customers: 2, newCustomers: 2 });
  });

  it("answers zeros, not errors, for a shop without orders, and an unknown zone is read as UTC", async () => {
    const kpis = await dashboardKpis(emptyShop, { days: 365, timeZone: "Not/AZone", now });
    expect(kpis.timeZone).toBe("UTC");
    expect(kpis.current).toMatchObject({ customers: 0, orders: 0, revenue: "0", returningRate: null, averageOrderValue: null });
    expect(await hasStoreData(emptyShop)).toBe(false);
    expect(await hasStoreData(shop)).toBe(true);
  });
});

describe("sales over time", () => {
  it("buckets the 30 days by local day, DST day included", async () => {
    const series = await salesOverTime(shop, { days: 30, timeZone, now });
    expect(series.unit).toBe("day");
    expect(series.buckets).toHaveLength(30);
    expect(series.buckets[0]).toEqual({ start: "2026-02-09T05:00:00.000Z", revenue: "40.0000", orders: 1 });
    expect(series.buckets.at(-1)).toEqual({ start: "2026-03-10T04:00:00.000Z", revenue: "75.0000", orders: 1 });
    expect(series.buckets.find((bucket) => bucket.start === "2026-03-08T05:00:00.000Z")).toMatchObject({ orders: 0 });
    expect(series.buckets.reduce((sum, bucket) => sum + bucket.orders, 0)).toBe(8);
    expect(series.buckets.reduce((sum, bucket) => sum + Number(bucket.revenue), 0)).toBe(375);
  });

  it("buckets 90 days by local week starting on Monday", async () => {
    const series = await salesOverTime(shop, { days: 90, timeZone, now });
    expect(series.unit).toBe("week");
    // The period starts on Thursday Dec 11, 2025; its week on Monday Dec 8 (midnight EST).
    expect(series.buckets[0]!.start).toBe("2025-12-08T05:00:00.000Z");
    expect(series.buckets.at(-1)!.start).toBe("2026-03-09T04:00:00.000Z");
    // Dec 11 – Mar 10: the 8 current orders, B 200, C 30 and G 700 (A's December order is before).
    expect(series.buckets.reduce((sum, bucket) => sum + bucket.orders, 0)).toBe(11);
    const kpis = await dashboardKpis(shop, { days: 90, timeZone, now });
    expect(kpis.current.orders).toBe(11);
    expect(kpis.current.revenue).toBe("1305.0000");
  });
});

describe("segments, predictions and next actions", () => {
  it("says why predictions are missing, then sums the expected spend of the last run", async () => {
    expect(await predictedRevenue90(shop)).toEqual({
      shown: false,
      reason: "Predictions appear after the first segmentation run.",
    });
    const gated = await prisma.segmentationRun.create({
      data: {
        shop,
        trigger: "api",
        status: "succeeded",
        stage: "done",
        predictionsShown: false,
        predictionGate: "Only 4 customers ordered twice; predictions need at least 200.",
        requestedAt: new Date("2026-03-01T00:00:00Z"),
      },
    });
    expect(await predictedRevenue90(shop)).toEqual({
      shown: false,
      reason: "Only 4 customers ordered twice; predictions need at least 200.",
    });
    const run = await prisma.segmentationRun.create({
      data: {
        shop,
        trigger: "api",
        status: "succeeded",
        stage: "done",
        predictionsShown: true,
        asOf: new Date("2026-03-10T00:00:00Z"),
        requestedAt: new Date("2026-03-10T00:00:00Z"),
      },
    });
    const score = (letter: string, expectedSpend90: number | null) => ({
      shop,
      customerId: customer(letter),
      recencyDays: 1,
      frequency: 1,
      monetary: 10,
      averageOrderValue: 10,
      firstOrderAt: now,
      lastOrderAt: now,
      rScore: 5,
      fScore: 1,
      mScore: 1,
      rfmSegment: "new",
      expectedSpend90,
      runId: run.id,
    });
    await prisma.customerScore.createMany({ data: [score("A", 12.5), score("B", 100.25), score("C", null)] });
    expect(await predictedRevenue90(shop)).toEqual({
      shown: true,
      revenue: "112.7500",
      customers: 2,
      asOf: "2026-03-10T00:00:00.000Z",
    });
    expect(gated.id).not.toBe(run.id);
  });

  it("suggests actions from segments with customers, most urgent first, each with its segment", async () => {
    const segment = (key: string, name: string, size: number, revenue: number, actions: string[]) => ({
      shop,
      key: `rfm:${key}`,
      kind: "rfm",
      name,
      description: `${name} description`,
      actions,
      namedBy: "local",
      size,
      revenue,
      revenueShare: revenue / 1000,
      averageOrderValue: 10,
      definition: {},
    });
    await prisma.segment.createMany({
      data: [
        segment("champions", "Champions", 2, 600, ["Reward them"]),
        segment("cant-lose-them", "Can't lose them", 0, 0, ["Call them"]),
        segment("at-risk", "At risk", 3, 300, []),
        segment("lost", "Lost", 5, 100, ["Let go"]),
        segment("new", "New", 1, 0, ["Welcome them"]),
      ],
    });
    await prisma.segment.create({ data: { ...segment("loyal", "Loyal", 4, 50, []), active: false } });
    await prisma.segment.create({ data: { ...segment("about-to-sleep", "About to sleep", 1, 5, []), kind: "micro" } });

    const summaries = await rfmSegmentSummaries(shop);
    expect(summaries.map((summary) => summary.key).sort()).toEqual(
      ["at-risk", "cant-lose-them", "champions", "lost", "new"].sort(),
    );
    const ids = new Map(summaries.map((summary) => [summary.key, summary.id]));
    const actions = suggestNextActions(summaries);
    expect(actions).toEqual([
      {
        kind: "win-back",
        segmentId: ids.get("at-risk"),
        segmentName: "At risk",
        customers: 3,
        revenue: "300.0000",
        revenueShare: 0.3,
        detail: "At risk description",
      },
      {
        kind: "reward",
        segmentId: ids.get("champions"),
        segmentName: "Champions",
        customers: 2,
        revenue: "600.0000",
        revenueShare: 0.6,
        detail: "Reward them",
      },
      {
        kind: "second-order",
        segmentId: ids.get("new"),
        segmentName: "New",
        customers: 1,
        revenue: "0.0000",
        revenueShare: 0,
        detail: "Welcome them",
      },
    ]);
    expect(suggestNextActions(summaries, 2)).toHaveLength(2);
  });
});
