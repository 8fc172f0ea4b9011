import type pg from "pg";

/**
 * Timing segments: groups built on when a customer is expected to order
 * rather than on what they did. Their names are fixed and said plainly, so
 * they are named here rather than by the LLM. They exist only while the
 * shop's predictions are shown; when a run withholds predictions they empty
 * out (inactive, like any segment that emptied) so their tag can still be
 * cleaned up in Shopify.
 *
 * Membership reads the run's fresh CustomerScore rows inside the run's
 * publishing transaction, so segments, scores and memberships change together.
 */

/** "Due to reorder": the expected next order falls within this many days after the run. */
export const DUE_WINDOW_DAYS = 14;
/** …or it is overdue by less than this share of the customer's usual gap between orders. */
export const OVERDUE_SHARE_OF_GAP = 0.5;
/** "Slipping away": probability of being active at or above this in the run before, below it now. */
export const SLIPPING_THRESHOLD = 0.5;

export interface TimingSegment {
  key: string;
  value: string;
  name: string;
  description: string;
  actions: string[];
  rule: string;
  /** SQL condition over a "CustomerScore" row `s`, given the SQL of the run's moment (timestamp without zone, UTC). */
  condition: (asOf: string) => string;
}

export const TIMING_SEGMENTS: readonly TimingSegment[] = [
  {
    key: "timing:due-to-reorder",
    value: "due-to-reorder",
    name: "Due to reorder",
    description:
      "Customers whose next order is expected within the next two weeks, or who are a little overdue: less than half " +
      "their usual gap between orders. The moment a reminder helps most.",
    actions: [
      "Send a reminder with the products they usually buy",
      "Show a “buy again” block in your next email to them",
      "Hold back discounts: most of them are about to order anyway",
    ],
    rule: `expected next order within ${DUE_WINDOW_DAYS} days of the run, or overdue by less than half their average days between orders`,
    condition: (asOf) =>
      `(s."expectedNextOrderAt" >= ${asOf} AND s."expectedNextOrderAt" <= ${asOf} + make_interval(days => ${DUE_WINDOW_DAYS}))
       OR (s."expectedNextOrderAt" < ${asOf} AND s."averageDaysBetweenOrders" IS NOT NULL
           AND ${asOf} - s."expectedNextOrderAt" < make_interval(secs => s."averageDaysBetweenOrders" * 86400 * ${OVERDUE_SHARE_OF_GAP}))`,
  },
  {
    key: "timing:slipping-away",
    value: "slipping-away",
    name: "Slipping away",
    description:
      "Customers who were probably still active at the last run and probably are not any more: their probability of " +
      "being active fell below one half since then. Reach them before they are gone.",
    actions: [
      "Send a personal check-in rather than a promotion",
      "Offer a time-limited incentive on the category they bought most",
      "Ask what would bring them back, and listen",
    ],
    rule: `probability of being active was at least ${SLIPPING_THRESHOLD * 100}% at the last run and is below ${SLIPPING_THRESHOLD * 100}% now`,
    condition: () =>
      `s."previousProbabilityAlive" >= ${SLIPPING_THRESHOLD} AND s."probabilityAlive" < ${SLIPPING_THRESHOLD}`,
  },
];

const TIMING_KEYS = TIMING_SEGMENTS.map((segment) => segment.key);

/**
 * Stores the timing segments of a run and their members, on the run's connection inside its publishing
 * transaction (after the run's scores are written). With `shown` false they empty out and go inactive.
 * A segment's previousSize is its size before this run, whether or not this run already touched the row.
 */
export async function publishTimingSegments(
  client: pg.PoolClient,
  shop: string,
  runId: string,
  options: { asOf: Date; shown: boolean },
) {
  const previousSize = `CASE WHEN "Segment"."runId" = $3::uuid THEN "Segment"."previousSize" ELSE "Segment".size END`;
  await client.query(`DROP TABLE IF EXISTS seg_timing`);
  await client.query(
    `DELETE FROM "SegmentMember" m USING "Segment" s
     WHERE m."segmentId" = s.id AND s.shop = $1 AND s.key = ANY($2::text[])`,
    [shop, TIMING_KEYS],
  );
  if (!options.shown) {
    await client.query(
      `UPDATE "Segment" SET active = false, "previousSize" = ${previousSize}, size = 0, revenue = 0,
         "revenueShare" = 0, "averageOrderValue" = 0, "sampleCustomerIds" = '{}', "runId" = $3::uuid,
         "updatedAt" = now() AT TIME ZONE 'UTC'
       WHERE shop = $1 AND key = ANY($2::text[])`,
      [shop, TIMING_KEYS, runId],
    );
    return;
  }
  const asOf = `($2::timestamptz AT TIME ZONE 'UTC')`;
  const members = TIMING_SEGMENTS.map(
    (segment, index) =>
      `SELECT ${index + 1} AS position, s."customerId" AS customer_id FROM "CustomerScore" s
       WHERE s.shop = $1 AND (${segment.condition(asOf)})`,
  ).join(" UNION ALL ");
  await client.query(
    `CREATE TEMP TABLE seg_timing AS
     SELECT d.key, m.customer_id
     FROM (${members}) m
     JOIN unnest($3::text[]) WITH ORDINALITY AS d(key, position) ON d.position = m.position`,
    [shop, options.asOf.toISOString(), TIMING_KEYS],
  );
  for (const segment of TIMING_SEGMENTS) {
    await client.query(
      `WITH figures AS (
         SELECT count(t.customer_id)::int AS size,
                coalesce(sum(s.monetary), 0) AS revenue,
                coalesce(sum(s.monetary) / nullif(sum(s.frequency), 0), 0)::numeric(20, 4) AS aov,
                coalesce((array_agg(t.customer_id ORDER BY s.monetary DESC NULLS LAST, t.customer_id))[1:5], '{}') AS samples
         FROM seg_timing t
         LEFT JOIN "CustomerScore" s ON s.shop = $1 AND s."customerId" = t.customer_id
         WHERE t.key = $2
       ), shop_revenue AS (
         SELECT sum(monetary) AS revenue FROM "CustomerScore" WHERE shop = $1
       )
       INSERT INTO "Segment" (id, shop, key, kind, "parentKey", name, description, actions, "namedBy", active, size,
         "previousSize", revenue, "revenueShare", "averageOrderValue", definition, profile, "sampleCustomerIds",
         "runId", "createdAt", "updatedAt")
       SELECT gen_random_uuid(), $1, $2, 'timing', NULL, $4, $5, $6::jsonb, 'local', true, f.size, NULL, f.revenue,
              coalesce(f.revenue / nullif(r.revenue, 0), 0)::float8, f.aov, $7::jsonb, NULL, f.samples, $3::uuid,
              now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
       FROM figures f CROSS JOIN shop_revenue r
       ON CONFLICT (shop, key) DO UPDATE SET
         kind = EXCLUDED.kind, "parentKey" = NULL, name = EXCLUDED.name, description = EXCLUDED.description,
         actions = EXCLUDED.actions, "namedBy" = 'local', active = true, "previousSize" = ${previousSize},
         size = EXCLUDED.size, revenue = EXCLUDED.revenue, "revenueShare" = EXCLUDED."revenueShare",
         "averageOrderValue" = EXCLUDED."averageOrderValue", definition = EXCLUDED.definition,
         "sampleCustomerIds" = EXCLUDED."sampleCustomerIds", "runId" = EXCLUDED."runId",
         "updatedAt" = EXCLUDED."updatedAt"`,
      [
        shop,
        segment.key,
        runId,
        segment.name,
        segment.description,
        JSON.stringify(segment.actions),
        JSON.stringify({ dimension: "timing", value: segment.value, rule: segment.rule }),
      ],
    );
  }
  await client.query(
    `INSERT INTO "SegmentMember" ("segmentId", shop, "customerId")
     SELECT s.id, $1, t.customer_id FROM seg_timing t JOIN "Segment" s ON s.shop = $1 AND s.key = t.key`,
    [shop],
  );
  await client.query(`DROP TABLE seg_timing`);
}
