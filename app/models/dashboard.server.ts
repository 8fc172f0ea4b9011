import { z } from "zod";
import { pgPool } from "../db.server";
import { latestCompletedRun } from "./segmentation-runs.server";

/**
 * What the Dashboard reads: the KPIs of a period against the period before it,
 * revenue and orders over time, customers by RFM segment, the predicted
 * revenue of the next 90 days, and the next actions those figures suggest.
 *
 * A period is whole days of the shop's calendar: the last N local days up to
 * and including today, compared with the N local days before them. Order
 * times are stored as UTC timestamps without zone, so the bounds are turned
 * into UTC in SQL (`AT TIME ZONE`, DST included) and the column is compared
 * as it is, which keeps the (shop, processedAt) index usable.
 *
 * Revenue is an order's net revenue (app/services/net-revenue.server.ts: its items after discounts, less
 * refunds, without shipping or taxes), in the shop's currency (the
 * shop-money amounts of the pull, whatever the order's presentment currency);
 * cancelled orders do not count, as in the segmentation.
 */

export const DASHBOARD_PERIODS = [30, 90, 365] as const;
export type DashboardPeriod = (typeof DASHBOARD_PERIODS)[number];
export const DEFAULT_DASHBOARD_PERIOD: DashboardPeriod = 30;

/** The `period` search parameter: anything other than a known period falls back to the default. */
export const dashboardPeriodParam = z
  .enum(DASHBOARD_PERIODS.map(String) as [string, ...string[]])
  .transform((value) => Number(value) as DashboardPeriod)
  .catch(DEFAULT_DASHBOARD_PERIOD);

/** A zone Postgres and Intl both know, else UTC (a shop whose details have not synced yet). */
export function safeTimeZone(timeZone: string | null | undefined): string {
  if (!timeZone) return "UTC";
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
    return timeZone;
  } catch {
    return "UTC";
  }
}

export interface PeriodFigures {
  /** Customers who placed at least one counted order in the period. */
  customers: number;
  /** Of those, customers whose first order ever was in the period. */
  newCustomers: number;
  /** Of those, customers with an order before the period or a second one in it. */
  returningCustomers: number;
  /** returningCustomers / customers; null without customers. */
  returningRate: number | null;
  /** Net revenue (net-revenue.server.ts), guest orders included, as an exact decimal string. */
  revenue: string;
  orders: number;
  /** revenue / orders, as a decimal string; null without orders. */
  averageOrderValue: string | null;
}

export interface DashboardKpis {
  days: DashboardPeriod;
  timeZone: string;
  /** Bounds as instants (ISO): [start, end) of the period and of the one before it. */
  current: PeriodFigures & { start: string; end: string };
  previous: PeriodFigures & { start: string; end: string };
}

interface KpiRow {
  cur_start: Date;
  cur_end: Date;
  prev_start: Date;
  prev_end: Date;
  cur_revenue: string;
  prev_revenue: string;
  cur_orders: number;
  prev_orders: number;
  cur_customers: number;
  prev_customers: number;
  cur_new: number;
  prev_new: number;
  cur_returning: number;
  prev_returning: number;
}

/** Period bounds as naive UTC timestamps, like the "processedAt" column. $2 zone, $3 days, $4 now. */
const BOUNDS_SQL = `
  SELECT ((today + interval '1 day') AT TIME ZONE $2) AT TIME ZONE 'UTC' AS cur_end,
         ((today - ($3::int - 1) * interval '1 day') AT TIME ZONE $2) AT TIME ZONE 'UTC' AS cur_start,
         ((today - (2 * $3::int - 1) * interval '1 day') AT TIME ZONE $2) AT TIME ZONE 'UTC' AS prev_start,
         today AS today_local
  FROM (SELECT date_trunc('day', $4::timestamptz AT TIME ZONE $2) AS today) t`;

function figures(row: KpiRow, prefix: "cur" | "prev"): PeriodFigures {
  const customers = row[`${prefix}_customers`];
  const orders = row[`${prefix}_orders`];
  const returning = row[`${prefix}_returning`];
  const revenue = row[`${prefix}_revenue`];
  return {
    customers,
    newCustomers: row[`${prefix}_new`],
    returningCustomers: returning,
    returningRate: customers > 0 ? returning / customers : null,
    revenue,
    orders,
    averageOrderValue: orders > 0 ? (Number(revenue) / orders).toFixed(4) : null,
  };
}

export async function dashboardKpis(
  shop: string,
  options: { days: DashboardPeriod; timeZone: string; now?: Date },
): Promise<DashboardKpis> {
  const timeZone = safeTimeZone(options.timeZone);
  const now = (options.now ?? new Date()).toISOString();
  // One pass over the orders of both periods; the customers seen there are then looked up
  // through (shop, customerId) for their first order, which may be older than both periods.
  const { rows } = await pgPool.query<KpiRow>(
    `WITH bounds AS (${BOUNDS_SQL}),
     window_orders AS (
       SELECT o."customerId" AS customer_id, o."processedAt" >= b.cur_start AS in_current,
              o."netRevenue" AS net
       FROM "Order" o, bounds b
       WHERE o.shop = $1 AND o."cancelledAt" IS NULL
         AND o."processedAt" >= b.prev_start AND o."processedAt" < b.cur_end
     ),
     totals AS (
       SELECT coalesce(sum(net) FILTER (WHERE in_current), 0)::text AS cur_revenue,
              coalesce(sum(net) FILTER (WHERE NOT in_current), 0)::text AS prev_revenue,
              count(*) FILTER (WHERE in_current)::int AS cur_orders,
              count(*) FILTER (WHERE NOT in_current)::int AS prev_orders
       FROM window_orders
     ),
     per_customer AS (
       SELECT w.customer_id,
              count(*) FILTER (WHERE w.in_current) AS cur_orders,
              count(*) FILTER (WHERE NOT w.in_current) AS prev_orders,
              (SELECT min(o."processedAt") FROM "Order" o
                WHERE o.shop = $1 AND o."customerId" = w.customer_id AND o."cancelledAt" IS NULL) AS first_at
       FROM window_orders w
       WHERE w.customer_id IS NOT NULL
       GROUP BY w.customer_id
     ),
     people AS (
       SELECT count(*) FILTER (WHERE p.cur_orders > 0)::int AS cur_customers,
              count(*) FILTER (WHERE p.prev_orders > 0)::int AS prev_customers,
              count(*) FILTER (WHERE p.cur_orders > 0 AND p.first_at >= b.cur_start)::int AS cur_new,
              count(*) FILTER (WHERE p.prev_orders > 0 AND p.first_at >= b.prev_start)::int AS prev_new,
              count(*) FILTER (WHERE p.cur_orders > 0 AND (p.first_at < b.cur_start OR p.cur_orders >= 2))::int
                AS cur_returning,
              count(*) FILTER (WHERE p.prev_orders > 0 AND (p.first_at < b.prev_start OR p.prev_orders >= 2))::int
                AS prev_returning
       FROM per_customer p, bounds b
     )
     SELECT b.cur_start AT TIME ZONE 'UTC' AS cur_start, b.cur_end AT TIME ZONE 'UTC' AS cur_end,
            b.prev_start AT TIME ZONE 'UTC' AS prev_start, b.cur_start AT TIME ZONE 'UTC' AS prev_end,
            totals.*, people.*
     FROM bounds b, totals, people`,
    [shop, timeZone, options.days, now],
  );
  const row = rows[0]!;
  return {
    days: options.days,
    timeZone,
    current: { ...figures(row, "cur"), start: row.cur_start.toISOString(), end: row.cur_end.toISOString() },
    previous: { ...figures(row, "prev"), start: row.prev_start.toISOString(), end: row.prev_end.toISOString() },
  };
}

export interface SalesBucket {
  /** The instant the bucket starts: a local midnight (day) or a local Monday midnight (week). */
  start: string;
  revenue: string;
  orders: number;
}

export interface SalesSeries {
  unit: "day" | "week";
  buckets: SalesBucket[];
}

/** Revenue and orders of the current period by the shop's local day (30 days) or week (longer). */
export async function salesOverTime(
  shop: string,
  options: { days: DashboardPeriod; timeZone: string; now?: Date },
): Promise<SalesSeries> {
  const timeZone = safeTimeZone(options.timeZone);
  const unit = options.days <= 30 ? "day" : "week";
  const now = (options.now ?? new Date()).toISOString();
  const { rows } = await pgPool.query<{ start: Date; revenue: string; orders: number }>(
    `WITH bounds AS (${BOUNDS_SQL}),
     buckets AS (
       SELECT generate_series(date_trunc($5, b.today_local - ($3::int - 1) * interval '1 day'),
                              b.today_local, ('1 ' || $5)::interval) AS local_start
       FROM bounds b
     ),
     sales AS (
       SELECT date_trunc($5, (o."processedAt" AT TIME ZONE 'UTC') AT TIME ZONE $2) AS local_start,
              sum(o."netRevenue") AS revenue, count(*)::int AS orders
       FROM "Order" o, bounds b
       WHERE o.shop = $1 AND o."cancelledAt" IS NULL
         AND o."processedAt" >= b.cur_start AND o."processedAt" < b.cur_end
       GROUP BY 1
     )
     SELECT bk.local_start AT TIME ZONE $2 AS start, coalesce(s.revenue, 0)::text AS revenue,
            coalesce(s.orders, 0) AS orders
     FROM buckets bk LEFT JOIN sales s USING (local_start)
     ORDER BY bk.local_start`,
    [shop, timeZone, options.days, now, unit],
  );
  return {
    unit,
    buckets: rows.map((row) => ({ start: row.start.toISOString(), revenue: row.revenue, orders: row.orders })),
  };
}

export interface RfmSegmentSummary {
  id: string;
  /** The RFM rule's key without the `rfm:` prefix: champions, at-risk, … */
  key: string;
  name: string;
  description: string;
  actions: string[];
  customers: number;
  revenue: string;
  revenueShare: number;
}

/** The active RFM segments of the last run, with their ids for links. */
export async function rfmSegmentSummaries(shop: string): Promise<RfmSegmentSummary[]> {
  const { rows } = await pgPool.query<{
    id: string;
    key: string;
    name: string;
    description: string;
    actions: unknown;
    size: number;
    revenue: string;
    revenueShare: number;
  }>(
    `SELECT id, key, name, description, actions, size, revenue::text AS revenue, "revenueShare"
     FROM "Segment" WHERE shop = $1 AND kind = 'rfm' AND active`,
    [shop],
  );
  return rows.map((row) => ({
    id: row.id,
    key: row.key.replace(/^rfm:/, ""),
    name: row.name,
    description: row.description,
    actions: Array.isArray(row.actions) ? row.actions.filter((action) => typeof action === "string") : [],
    customers: row.size,
    revenue: row.revenue,
    revenueShare: row.revenueShare,
  }));
}

export type PredictedRevenue =
  | { shown: true; revenue: string; customers: number; asOf: string | null }
  | { shown: false; reason: string };

/** The sum of the customers' expected spend over the next 90 days, when the last run shows predictions. */
export async function predictedRevenue90(shop: string): Promise<PredictedRevenue> {
  const run = await latestCompletedRun(shop);
  if (!run) return { shown: false, reason: "Predictions appear after the first segmentation run." };
  if (!run.predictionsShown) {
    return { shown: false, reason: run.predictionGate ?? "The last segmentation run did not make predictions." };
  }
  const { rows } = await pgPool.query<{ revenue: string; customers: number }>(
    `SELECT coalesce(sum("expectedSpend90"), 0)::text AS revenue, count("expectedSpend90")::int AS customers
     FROM "CustomerScore" WHERE shop = $1`,
    [shop],
  );
  return { shown: true, ...rows[0]!, asOf: (run.asOf ?? run.finishedAt)?.toISOString() ?? null };
}

/** Whether the shop has any order or customer stored yet (the Dashboard's empty state otherwise). */
export async function hasStoreData(shop: string): Promise<boolean> {
  const { rows } = await pgPool.query<{ has: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM "Order" WHERE shop = $1) OR EXISTS (SELECT 1 FROM "Customer" WHERE shop = $1) AS has`,
    [shop],
  );
  return rows[0]!.has;
}

export type NextActionKind = "win-back-top" | "win-back" | "reward" | "re-engage" | "second-order" | "nurture";

export interface NextAction {
  kind: NextActionKind;
  segmentId: string;
  segmentName: string;
  customers: number;
  revenue: string;
  revenueShare: number;
  /** The segment's first suggested action, or its description. */
  detail: string;
}

/** Which segment suggests which action, most urgent first: losing big spenders costs most. */
const ACTION_FOR_SEGMENT: { key: string; kind: NextActionKind }[] = [
  { key: "cant-lose-them", kind: "win-back-top" },
  { key: "at-risk", kind: "win-back" },
  { key: "champions", kind: "reward" },
  { key: "about-to-sleep", kind: "re-engage" },
  { key: "new", kind: "second-order" },
  { key: "potential-loyalists", kind: "nurture" },
  { key: "need-attention", kind: "re-engage" },
  { key: "promising", kind: "second-order" },
];

/** Up to `limit` actions from the RFM segments that have customers, in the order above. */
export function suggestNextActions(segments: RfmSegmentSummary[], limit = 4): NextAction[] {
  const byKey = new Map(segments.map((segment) => [segment.key, segment]));
  const actions: NextAction[] = [];
  for (const { key, kind } of ACTION_FOR_SEGMENT) {
    const segment = byKey.get(key);
    if (!segment || segment.customers === 0) continue;
    actions.push({
      kind,
      segmentId: segment.id,
      segmentName: segment.name,
      customers: segment.customers,
      revenue: segment.revenue,
      revenueShare: segment.revenueShare,
      detail: segment.actions[0] ?? segment.description,
    });
    if (actions.length === limit) break;
  }
  return actions;
}
