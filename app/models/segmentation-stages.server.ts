import type pg from "pg";
import { pgPool } from "../db.server";
import { rfmSegmentTable } from "./rfm-segments.server";
import { publishTimingSegments } from "./timing-segments.server";
import {
  aovBoundSql,
  cadenceSql,
  discountLevelSql,
  RARE_VALUES_MERGED,
  SPLIT_WITHIN_RFM,
  TRAIT_THRESHOLDS,
} from "./segment-traits.server";

/**
 * The SQL of a segmentation run. Every stage works in temporary tables on one
 * connection (the run's session), so nothing the merchant sees changes until
 * `publishSegmentation` swaps the results in with one transaction: a run that
 * fails or is cancelled before then leaves the previous results untouched.
 *
 * Customers are those with at least one order that is not cancelled; an
 * order's value is its net revenue (app/services/net-revenue.server.ts: items after discounts, less
 * refunds, without shipping or taxes).
 */

const TEMP_TABLES = [
  "seg_params",
  "seg_orders",
  "seg_customers",
  "seg_scored",
  "seg_affinity",
  "seg_traits",
  "seg_members",
  "seg_predictions",
];

const slug = (expression: string) =>
  `coalesce(nullif(left(trim(both '-' from regexp_replace(lower(${expression}), '[^a-z0-9]+', '-', 'g')), 40), ''), substr(md5(${expression}), 1, 10))`;

/** The run's own connection: every stage runs on it, since temporary tables live in one session. */
export type SegmentationSession = pg.PoolClient;

export function connectSegmentationSession(): Promise<SegmentationSession> {
  return pgPool.connect();
}

/** The server process of the session, for cancelling its running query. */
export async function sessionBackendPid(client: pg.PoolClient): Promise<number> {
  return (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
}

/** Cancels the query the session's server process is running, from another connection. */
export async function cancelSessionQuery(backendPid: number) {
  await pgPool.query("SELECT pg_cancel_backend($1)", [backendPid]);
}

/** Drops the session's temporary tables (a failure to do so is ignored) and returns the connection. */
export async function endSegmentationSession(client: pg.PoolClient) {
  await dropSegmentationTables(client).catch(() => {});
  client.release();
}

export async function dropSegmentationTables(client: pg.PoolClient) {
  await client.query(`DROP TABLE IF EXISTS ${TEMP_TABLES.join(", ")}`);
}

/** The shop's countable orders as of `asOf`, one row per order. */
export async function stageOrders(client: pg.PoolClient, shop: string, asOf: Date) {
  await dropSegmentationTables(client);
  await client.query(
    `CREATE TEMP TABLE seg_params AS SELECT $1::text AS shop, ($2::timestamptz AT TIME ZONE 'UTC') AS as_of`,
    [shop, asOf.toISOString()],
  );
  await client.query(
    `CREATE TEMP TABLE seg_orders AS
     SELECT o.id, o."customerId" AS customer_id, o."processedAt" AS processed_at,
            o."netRevenue" AS net,
            (cardinality(o."discountCodes") > 0 OR coalesce(o."totalDiscounts", 0) > 0) AS discounted
     FROM "Order" o
     WHERE o.shop = $1 AND o."customerId" IS NOT NULL AND o."cancelledAt" IS NULL
       AND o."processedAt" <= (SELECT as_of FROM seg_params)`,
    [shop],
  );
  await client.query(`CREATE INDEX ON seg_orders (customer_id)`);
  await client.query(`ANALYZE seg_orders`);
  const { rows } = await client.query<{ orders: number; customers: number }>(
    `SELECT count(*)::int AS orders, count(DISTINCT customer_id)::int AS customers FROM seg_orders`,
  );
  return rows[0]!;
}

/**
 * Recency, frequency and monetary value per customer, their scores (see
 * app/models/rfm-segments.server.ts for the rule) and the named segment.
 */
export async function scoreCustomers(client: pg.PoolClient) {
  await client.query(
    `CREATE TEMP TABLE seg_customers AS
     SELECT customer_id,
            count(*)::int AS frequency,
            sum(net) AS monetary,
            min(processed_at) AS first_at,
            max(processed_at) AS last_at,
            floor(extract(epoch FROM (SELECT as_of FROM seg_params) - max(processed_at)) / 86400)::int AS recency_days,
            avg(discounted::int)::float8 AS discount_share
     FROM seg_orders GROUP BY customer_id`,
  );
  const table = rfmSegmentTable();
  await client.query(
    `CREATE TEMP TABLE seg_scored AS
     WITH ranked AS (
       SELECT c.*, count(*) OVER () AS n,
              rank() OVER (ORDER BY recency_days DESC) - 1 AS r_worse,
              rank() OVER (ORDER BY frequency) - 1 AS f_worse,
              rank() OVER (ORDER BY monetary) - 1 AS m_worse
       FROM seg_customers c
     ), scored AS (
       SELECT ranked.*, monetary / frequency AS aov,
              least(5, 1 + floor(5.0 * r_worse / n))::int AS r_score,
              least(5, 1 + floor(5.0 * f_worse / n))::int AS f_score,
              least(5, 1 + floor(5.0 * m_worse / n))::int AS m_score
       FROM ranked
     )
     SELECT scored.customer_id, frequency, monetary, aov, first_at, last_at, recency_days, discount_share,
            r_score, f_score, m_score, map.segment
     FROM scored
     JOIN unnest($1::int[], $2::int[], $3::int[], $4::text[]) AS map(r, f, m, segment)
       ON map.r = scored.r_score AND map.f = scored.f_score AND map.m = scored.m_score`,
    [table.r, table.f, table.m, table.segment],
  );
  await client.query(`CREATE UNIQUE INDEX ON seg_scored (customer_id)`);
  await client.query(`ANALYZE seg_scored`);
}

export interface MicroOptions {
  minSize: number;
  maxMicro: number;
}

/**
 * One trait per customer and dimension, then the groups: every RFM segment,
 * every trait value across the whole base, and a few dimensions inside each
 * RFM segment. Groups below the minimum size are merged (rare product types,
 * vendors and first-order product types become one "other" group) or dropped;
 * the largest `maxMicro` micro-segments are kept.
 */
export async function buildSegmentMembers(client: pg.PoolClient, shop: string, options: MicroOptions) {
  await client.query(
    `CREATE TEMP TABLE seg_affinity AS
     WITH spend AS (
       SELECT o.customer_id,
              CASE WHEN GROUPING(p."productType") = 0 THEN 'product-type' ELSE 'vendor' END AS dimension,
              coalesce(trim(CASE WHEN GROUPING(p."productType") = 0 THEN p."productType" ELSE p.vendor END), '') AS value,
              sum(li."netRevenue") AS spend
       FROM seg_orders o
       JOIN "OrderLineItem" li ON li.shop = $1 AND li."orderId" = o.id
       LEFT JOIN "Product" p ON p.shop = $1 AND p.id = li."productId"
       GROUP BY GROUPING SETS ((o.customer_id, p."productType"), (o.customer_id, p.vendor))
     )
     SELECT DISTINCT ON (customer_id, dimension) customer_id, dimension, value,
            spend / nullif(sum(spend) OVER (PARTITION BY customer_id, dimension), 0) AS share
     FROM spend
     ORDER BY customer_id, dimension, spend DESC, value`,
    [shop],
  );
  await client.query(
    `CREATE TEMP TABLE seg_traits (customer_id text NOT NULL, dimension text NOT NULL, value text NOT NULL, label text NOT NULL)`,
  );
  // Favourite product type and vendor.
  await client.query(
    `INSERT INTO seg_traits
     SELECT customer_id, dimension, ${slug("value")}, value FROM seg_affinity
     WHERE value <> '' AND share >= $1`,
    [TRAIT_THRESHOLDS.affinityMinShare],
  );
  // Product type of the largest line of the first order.
  await client.query(
    `INSERT INTO seg_traits
     WITH firsts AS (
       SELECT DISTINCT ON (customer_id) customer_id, id FROM seg_orders ORDER BY customer_id, processed_at, id
     ), first_lines AS (
       SELECT DISTINCT ON (f.customer_id) f.customer_id, coalesce(trim(p."productType"), '') AS value
       FROM firsts f
       JOIN "OrderLineItem" li ON li.shop = $1 AND li."orderId" = f.id
       LEFT JOIN "Product" p ON p.shop = $1 AND p.id = li."productId"
       ORDER BY f.customer_id, li."netRevenue" DESC, li.id
     )
     SELECT customer_id, 'first-product-type', ${slug("value")}, value FROM first_lines WHERE value <> ''`,
    [shop],
  );
  // Discount sensitivity: share of orders with a discount.
  await client.query(
    `INSERT INTO seg_traits
     SELECT customer_id, 'discount', level, level
     FROM (SELECT customer_id, ${discountLevelSql("discount_share")} AS level FROM seg_scored) d`,
  );
  // Order cadence: the median gap between a repeat customer's orders.
  await client.query(
    `INSERT INTO seg_traits
     WITH gaps AS (
       SELECT customer_id,
              extract(epoch FROM processed_at - lag(processed_at) OVER (PARTITION BY customer_id ORDER BY processed_at, id)) / 86400 AS gap_days
       FROM seg_orders
     ), medians AS (
       SELECT customer_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY gap_days) AS gap_days
       FROM gaps WHERE gap_days IS NOT NULL GROUP BY customer_id
     )
     SELECT customer_id, 'cadence', level, level
     FROM (SELECT customer_id, ${cadenceSql("gap_days")} AS level FROM medians) m`,
  );
  // Average order value band: below or above the shop's quantile bounds of customers' order values.
  await client.query(
    `INSERT INTO seg_traits
     WITH bounds AS (
       SELECT ${aovBoundSql("low", "aov")} AS low, ${aovBoundSql("high", "aov")} AS high
       FROM seg_scored
     )
     SELECT customer_id, 'aov-band', band, band FROM (
       SELECT s.customer_id,
              CASE WHEN s.aov < b.low THEN 'low' WHEN s.aov > b.high THEN 'high' ELSE 'mid' END AS band
       FROM seg_scored s CROSS JOIN bounds b) banded`,
  );
  // Storefront behaviour from the web pixel, joined to customers by pixel identity or login.
  await client.query(
    `INSERT INTO seg_traits
     WITH events AS (
       SELECT coalesce(i."customerId", e.data->>'customerId') AS customer_id, e.name, e."occurredAt" AS at
       FROM "PixelEvent" e
       LEFT JOIN "PixelIdentity" i ON i.shop = e.shop AND i."clientId" = e."clientId"
       WHERE e.shop = $1
         AND e."occurredAt" > (SELECT as_of FROM seg_params) - make_interval(days => $2)
         AND e."occurredAt" <= (SELECT as_of FROM seg_params)
         AND e.name IN ('product_viewed', 'product_added_to_cart', 'checkout_started', 'checkout_completed')
     ), per_customer AS (
       SELECT customer_id,
              count(*) FILTER (WHERE name = 'product_viewed') AS views,
              min(at) FILTER (WHERE name = 'product_viewed') AS first_view,
              max(at) FILTER (WHERE name IN ('product_added_to_cart', 'checkout_started')) AS last_cart,
              max(at) FILTER (WHERE name = 'checkout_completed') AS last_checkout
       FROM events WHERE customer_id IS NOT NULL GROUP BY customer_id
     ), judged AS (
       SELECT b.customer_id, b.views, b.first_view, b.last_cart,
              greatest(c.last_at, b.last_checkout) AS last_purchase
       FROM per_customer b LEFT JOIN seg_customers c USING (customer_id)
     )
     SELECT customer_id, 'behaviour', level, level FROM (
       SELECT customer_id,
              CASE WHEN last_cart IS NOT NULL AND (last_purchase IS NULL OR last_purchase < last_cart) THEN 'cart-abandoner'
                   WHEN last_cart IS NULL AND views >= ${TRAIT_THRESHOLDS.browseMinViews} AND (last_purchase IS NULL OR last_purchase < first_view)
                     THEN 'browse-without-buy'
              END AS level
       FROM judged) j
     WHERE level IS NOT NULL`,
    [shop, TRAIT_THRESHOLDS.behaviourWindowDays],
  );
  // Rare values of categorical dimensions become one "other" group.
  await client.query(
    `UPDATE seg_traits t SET value = 'other', label = 'other'
     FROM (SELECT dimension, value FROM seg_traits WHERE dimension = ANY($1::text[])
           GROUP BY dimension, value HAVING count(*) < $2) rare
     WHERE t.dimension = rare.dimension AND t.value = rare.value`,
    [RARE_VALUES_MERGED, options.minSize],
  );

  await client.query(
    `CREATE TEMP TABLE seg_members AS
     SELECT 'rfm:' || segment AS key, 'rfm' AS kind, NULL::text AS parent_key, 'rfm' AS dimension,
            segment AS value, segment AS label, customer_id
     FROM seg_scored
     UNION ALL
     SELECT 'micro:' || dimension || ':' || value, 'micro', NULL, dimension, value, label, customer_id
     FROM seg_traits
     UNION ALL
     SELECT 'micro:' || s.segment || ':' || t.dimension || ':' || t.value, 'micro', 'rfm:' || s.segment,
            t.dimension, t.value, t.label, t.customer_id
     FROM seg_traits t JOIN seg_scored s USING (customer_id)
     WHERE t.dimension = ANY($1::text[]) AND t.value <> 'other'`,
    [SPLIT_WITHIN_RFM],
  );
  // Small micro groups go; of the rest, the largest maxMicro stay. RFM segments always stay.
  await client.query(
    `DELETE FROM seg_members m USING (
       SELECT key FROM (
         SELECT key, count(*) AS size, row_number() OVER (ORDER BY count(*) DESC, key) AS position
         FROM seg_members WHERE kind = 'micro' GROUP BY key
       ) sized WHERE size < $1 OR position > $2
     ) dropped WHERE m.key = dropped.key`,
    [options.minSize, options.maxMicro],
  );
  await client.query(`CREATE INDEX ON seg_members (key)`);
  await client.query(`CREATE INDEX ON seg_members (customer_id)`);
  await client.query(`ANALYZE seg_members`);
}

export interface OrderAmount {
  customerId: string;
  date: Date;
  amount: number;
}

/** The first and last order of a shop's countable history. */
export interface OrderSpan {
  first: Date;
  last: Date;
}

/** The run's first and last countable order, or null without orders. */
export async function orderSpan(client: pg.PoolClient): Promise<OrderSpan | null> {
  const { rows } = await client.query<{ first: Date | null; last: Date | null }>(
    `SELECT min(processed_at) AT TIME ZONE 'UTC' AS first, max(processed_at) AT TIME ZONE 'UTC' AS last FROM seg_orders`,
  );
  const { first, last } = rows[0]!;
  return first && last ? { first, last } : null;
}

/**
 * Every countable order's customer, time and value, for the purchase model, in
 * pages of about pageRows that never split a customer's orders, read through
 * a cursor so that memory holds one page whatever the shop's size.
 */
export async function* orderAmountPages(client: pg.PoolClient, pageRows = 20_000): AsyncGenerator<OrderAmount[]> {
  await client.query("BEGIN");
  let finished = false;
  try {
    await client.query(
      `DECLARE seg_order_amounts NO SCROLL CURSOR FOR
       SELECT customer_id, extract(epoch FROM processed_at)::float8 * 1000, net::float8
       FROM seg_orders ORDER BY customer_id, processed_at`,
    );
    let carried: OrderAmount[] = [];
    for (;;) {
      const { rows } = await client.query<[string, number, number]>({
        text: `FETCH ${pageRows} FROM seg_order_amounts`,
        rowMode: "array",
      });
      const page = carried.concat(rows.map(([customerId, ms, amount]) => ({ customerId, date: new Date(ms), amount })));
      if (rows.length < pageRows) {
        if (page.length > 0) yield page;
        break;
      }
      // The last customer's orders may go on in the next fetch: they wait for it.
      const lastCustomer = page.at(-1)!.customerId;
      let cut = page.length;
      while (cut > 0 && page[cut - 1]!.customerId === lastCustomer) cut--;
      carried = page.slice(cut);
      if (cut > 0) yield page.slice(0, cut);
    }
    await client.query("COMMIT");
    finished = true;
  } finally {
    // Also when the consumer stops early (a cancelled run): the session's transaction is not left open.
    if (!finished) await client.query("ROLLBACK").catch(() => {});
  }
}

export interface CustomerPredictionRow {
  customerId: string;
  probabilityAlive: number | null;
  expectedOrders90: number | null;
  expectedOrders365: number | null;
  expectedSpend90: number | null;
  expectedSpend365: number | null;
  churnRisk: "low" | "medium" | "high" | null;
  averageDaysBetweenOrders: number | null;
  expectedNextOrderAt: Date | null;
}

/** Predictions per customer; model fields are null when the shop does not get predictions. */
export async function stagePredictions(client: pg.PoolClient, rows: Iterable<CustomerPredictionRow>) {
  await client.query(
    `CREATE TEMP TABLE seg_predictions (customer_id text PRIMARY KEY, probability_alive float8,
       expected_orders_90 float8, expected_orders_365 float8, expected_spend_90 numeric, expected_spend_365 numeric,
       churn_risk text, average_days_between_orders float8, expected_next_order_at timestamp(3))`,
  );
  const money = (value: number | null) => (value === null ? null : value.toFixed(4));
  const insert = (part: CustomerPredictionRow[]) =>
    client.query(
      `INSERT INTO seg_predictions
       SELECT customer_id, probability_alive, orders_90, orders_365, spend_90, spend_365, churn_risk, gap,
              next_order_at AT TIME ZONE 'UTC'
       FROM unnest($1::text[], $2::float8[], $3::float8[], $4::float8[], $5::numeric[], $6::numeric[],
                   $7::text[], $8::float8[], $9::timestamptz[])
         AS p(customer_id, probability_alive, orders_90, orders_365, spend_90, spend_365, churn_risk, gap, next_order_at)`,
      [
        part.map((row) => row.customerId),
        part.map((row) => row.probabilityAlive),
        part.map((row) => row.expectedOrders90),
        part.map((row) => row.expectedOrders365),
        part.map((row) => money(row.expectedSpend90)),
        part.map((row) => money(row.expectedSpend365)),
        part.map((row) => row.churnRisk),
        part.map((row) => row.averageDaysBetweenOrders),
        part.map((row) => row.expectedNextOrderAt?.toISOString() ?? null),
      ],
    );
  let part: CustomerPredictionRow[] = [];
  for (const row of rows) {
    part.push(row);
    if (part.length === 10_000) {
      await insert(part);
      part = [];
    }
  }
  if (part.length > 0) await insert(part);
  await client.query(`ANALYZE seg_predictions`);
}

export interface SegmentStats {
  key: string;
  kind: "rfm" | "micro";
  parentKey: string | null;
  dimension: string;
  value: string;
  label: string;
  size: number;
  buyers: number;
  orders: number;
  revenue: string;
  averageOrderValue: string;
  medianOrders: number | null;
  medianRecencyDays: number | null;
  discountShare: number | null;
  oneTimeShare: number | null;
  averageProbabilityAlive: number | null;
  averageExpectedSpend365: number | null;
  sampleCustomerIds: string[];
  favouriteProductTypes: { label: string; members: number }[];
  rfmSegments: { key: string; members: number }[];
}

export interface SegmentationTotals {
  customers: number;
  revenue: string;
  currencyCode: string | null;
}

/** Size, revenue, order value, samples and the aggregate profile of every group. */
export async function segmentStats(
  client: pg.PoolClient,
  shop: string,
): Promise<{ totals: SegmentationTotals; segments: SegmentStats[] }> {
  const totals = await client.query<{ customers: number; revenue: string; currency: string | null }>(
    `SELECT (SELECT count(*)::int FROM seg_scored) AS customers,
            (SELECT coalesce(sum(monetary), 0)::text FROM seg_scored) AS revenue,
            coalesce((SELECT "currencyCode" FROM "Shop" WHERE domain = $1),
                     (SELECT "currencyCode" FROM "Order" WHERE shop = $1 GROUP BY 1 ORDER BY count(*) DESC LIMIT 1)) AS currency`,
    [shop],
  );
  const { rows } = await client.query(
    `SELECT m.key, min(m.kind) AS kind, min(m.parent_key) AS parent_key, min(m.dimension) AS dimension,
            min(m.value) AS value, min(m.label) AS label,
            count(*)::int AS size,
            count(s.customer_id)::int AS buyers,
            coalesce(sum(s.frequency), 0)::int AS orders,
            coalesce(sum(s.monetary), 0)::text AS revenue,
            coalesce(sum(s.monetary) / nullif(sum(s.frequency), 0), 0)::numeric(20, 4)::text AS aov,
            percentile_disc(0.5) WITHIN GROUP (ORDER BY s.frequency) AS median_orders,
            percentile_disc(0.5) WITHIN GROUP (ORDER BY s.recency_days) AS median_recency_days,
            avg(s.discount_share) AS discount_share,
            avg((s.frequency = 1)::int)::float8 AS one_time_share,
            avg(p.probability_alive) AS average_probability_alive,
            avg(p.expected_spend_365)::float8 AS average_expected_spend_365,
            (array_agg(m.customer_id ORDER BY s.monetary DESC NULLS LAST, m.customer_id))[1:5] AS samples
     FROM seg_members m
     LEFT JOIN seg_scored s USING (customer_id)
     LEFT JOIN seg_predictions p USING (customer_id)
     GROUP BY m.key ORDER BY m.key`,
  );
  const favourites = await client.query<{ key: string; label: string; members: number }>(
    `SELECT m.key, t.label, count(*)::int AS members
     FROM seg_members m JOIN seg_traits t ON t.customer_id = m.customer_id AND t.dimension = 'product-type'
     GROUP BY m.key, t.label`,
  );
  const rfm = await client.query<{ key: string; segment: string; members: number }>(
    `SELECT m.key, s.segment, count(*)::int AS members
     FROM seg_members m JOIN seg_scored s USING (customer_id) WHERE m.kind = 'micro'
     GROUP BY m.key, s.segment`,
  );
  const top = <T extends { members: number }>(items: T[], name: (item: T) => string) =>
    items.sort((x, y) => y.members - x.members || name(x).localeCompare(name(y))).slice(0, 3);
  const byKey = <T extends { key: string }>(list: T[]) => {
    const map = new Map<string, T[]>();
    for (const item of list) map.set(item.key, [...(map.get(item.key) ?? []), item]);
    return map;
  };
  const favouritesByKey = byKey(favourites.rows);
  const rfmByKey = byKey(rfm.rows);
  const number = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  return {
    totals: {
      customers: totals.rows[0]!.customers,
      revenue: totals.rows[0]!.revenue,
      currencyCode: totals.rows[0]!.currency,
    },
    segments: rows.map((row) => ({
      key: row.key,
      kind: row.kind,
      parentKey: row.parent_key,
      dimension: row.dimension,
      value: row.value,
      label: row.label,
      size: row.size,
      buyers: row.buyers,
      orders: row.orders,
      revenue: row.revenue,
      averageOrderValue: row.aov,
      medianOrders: number(row.median_orders),
      medianRecencyDays: number(row.median_recency_days),
      discountShare: number(row.discount_share),
      oneTimeShare: number(row.one_time_share),
      averageProbabilityAlive: number(row.average_probability_alive),
      averageExpectedSpend365: number(row.average_expected_spend_365),
      sampleCustomerIds: row.samples,
      favouriteProductTypes: top(
        (favouritesByKey.get(row.key) ?? []).map(({ label, members }) => ({ label, members })),
        (item) => item.label,
      ),
      rfmSegments: top(
        (rfmByKey.get(row.key) ?? []).map(({ segment, members }) => ({ key: segment, members })),
        (item) => item.key,
      ),
    })),
  };
}

/** The shop's data was erased while the run was computing. */
export class ShopGoneError extends Error {
  constructor() {
    super("the shop's data was erased during the run");
  }
}

export interface SegmentToPublish {
  key: string;
  kind: "rfm" | "micro";
  parentKey: string | null;
  size: number;
  revenue: string;
  revenueShare: number;
  averageOrderValue: string;
  definition: unknown;
  profile: unknown;
  sampleCustomerIds: string[];
  /** Used for a segment seen for the first time, and always for RFM segments. */
  naming: { name: string; description: string; actions: string[] };
}

/**
 * Swaps the run's results in, in one transaction: scores and predictions,
 * segments (upserted by their stable key; those not found this time stay,
 * inactive and empty, so their tag and Shopify segment can still be cleaned
 * up), memberships, and the timing segments built on the new scores (only
 * when `timing.shown`, the run showing predictions).
 */
export async function publishSegmentation(
  client: pg.PoolClient,
  shop: string,
  runId: string,
  segments: SegmentToPublish[],
  timing: { asOf: Date; shown: boolean },
) {
  await client.query("BEGIN");
  try {
    // The run's row is gone when shop/redact came first; then nothing may be written for the shop.
    const { rowCount } = await client.query(`SELECT 1 FROM "SegmentationRun" WHERE id = $1::uuid FOR UPDATE`, [runId]);
    if (!rowCount) throw new ShopGoneError();
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('segments:' || $1))`, [shop]);
    // Movement between segments: every new score row keeps the segment, run and probability of being
    // active of the row it replaces.
    await client.query(
      `CREATE TEMP TABLE seg_previous ON COMMIT DROP AS
       SELECT "customerId" AS customer_id, "rfmSegment" AS segment, "runId" AS run_id,
              "probabilityAlive" AS probability_alive
       FROM "CustomerScore" WHERE shop = $1`,
      [shop],
    );
    await client.query(`ALTER TABLE seg_previous ADD PRIMARY KEY (customer_id)`);
    await client.query(`DELETE FROM "CustomerScore" WHERE shop = $1`, [shop]);
    await client.query(
      `INSERT INTO "CustomerScore" (shop, "customerId", "recencyDays", frequency, monetary, "averageOrderValue",
         "firstOrderAt", "lastOrderAt", "rScore", "fScore", "mScore", "rfmSegment", "probabilityAlive",
         "expectedOrders90", "expectedOrders365", "expectedSpend90", "expectedSpend365", "churnRisk",
         "averageDaysBetweenOrders", "expectedNextOrderAt", "runId", "computedAt",
         "previousRfmSegment", "previousRunId", "previousProbabilityAlive")
       SELECT $1, s.customer_id, s.recency_days, s.frequency, s.monetary, s.aov, s.first_at, s.last_at,
              s.r_score, s.f_score, s.m_score, s.segment, p.probability_alive, p.expected_orders_90,
              p.expected_orders_365, p.expected_spend_90, p.expected_spend_365, p.churn_risk,
              p.average_days_between_orders, p.expected_next_order_at, $2::uuid, now() AT TIME ZONE 'UTC',
              previous.segment, previous.run_id, previous.probability_alive
       FROM seg_scored s LEFT JOIN seg_predictions p USING (customer_id)
       LEFT JOIN seg_previous previous USING (customer_id)`,
      [shop, runId],
    );
    for (const segment of segments) {
      await client.query(
        `INSERT INTO "Segment" (id, shop, key, kind, "parentKey", name, description, actions, "namedBy", active, size,
           "previousSize", revenue, "revenueShare", "averageOrderValue", definition, profile, "sampleCustomerIds",
           "runId", "createdAt", "updatedAt")
         VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7::jsonb, 'local', true, $8, NULL, $9, $10, $11, $12::jsonb,
           $13::jsonb, $14::text[], $15::uuid, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
         ON CONFLICT (shop, key) DO UPDATE SET
           kind = EXCLUDED.kind, "parentKey" = EXCLUDED."parentKey", active = true,
           "previousSize" = "Segment".size, size = EXCLUDED.size, revenue = EXCLUDED.revenue,
           "revenueShare" = EXCLUDED."revenueShare", "averageOrderValue" = EXCLUDED."averageOrderValue",
           definition = EXCLUDED.definition, profile = EXCLUDED.profile,
           "sampleCustomerIds" = EXCLUDED."sampleCustomerIds", "runId" = EXCLUDED."runId",
           name = CASE WHEN EXCLUDED.kind = 'rfm' THEN EXCLUDED.name ELSE "Segment".name END,
           description = CASE WHEN EXCLUDED.kind = 'rfm' THEN EXCLUDED.description ELSE "Segment".description END,
           actions = CASE WHEN EXCLUDED.kind = 'rfm' THEN EXCLUDED.actions ELSE "Segment".actions END,
           "updatedAt" = EXCLUDED."updatedAt"`,
        [
          shop,
          segment.key,
          segment.kind,
          segment.parentKey,
          segment.naming.name,
          segment.naming.description,
          JSON.stringify(segment.naming.actions),
          segment.size,
          segment.revenue,
          segment.revenueShare,
          segment.averageOrderValue,
          JSON.stringify(segment.definition),
          JSON.stringify(segment.profile),
          segment.sampleCustomerIds,
          runId,
        ],
      );
    }
    await client.query(
      `UPDATE "Segment" SET active = false, "previousSize" = size, size = 0, revenue = 0, "revenueShare" = 0,
         "averageOrderValue" = 0, "sampleCustomerIds" = '{}', "runId" = $2::uuid, "updatedAt" = now() AT TIME ZONE 'UTC'
       WHERE shop = $1 AND "runId" IS DISTINCT FROM $2::uuid`,
      [shop, runId],
    );
    await client.query(`DELETE FROM "SegmentMember" WHERE shop = $1`, [shop]);
    await client.query(
      `INSERT INTO "SegmentMember" ("segmentId", shop, "customerId")
       SELECT s.id, $1, m.customer_id FROM seg_members m JOIN "Segment" s ON s.shop = $1 AND s.key = m.key`,
      [shop],
    );
    await publishTimingSegments(client, shop, runId, timing);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  }
}
