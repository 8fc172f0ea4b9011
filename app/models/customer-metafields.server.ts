import { Prisma, type MetafieldSync, type PrismaClient } from "@prisma/client";
import prisma from "../db.server";
import { enqueueJob, removeJob } from "./jobs.server";

/**
 * Customer metafields the app writes to Shopify: what each customer's value
 * should be (from their CustomerScore), what the app last wrote
 * (CustomerMetafieldValue), the difference between the two, and the syncs
 * that send it. Values are text as Shopify stores them: money and
 * probabilities with two decimals, dates as the shop's local day.
 */

export const METAFIELD_KEYS = [
  "predicted_value",
  "probability_active",
  "churn_risk",
  "expected_next_order_date",
  "rfm_segment",
] as const;
export type MetafieldKey = (typeof METAFIELD_KEYS)[number];

/** The keys that carry predictions, cleared when a run's predictions are not shown. */
export const PREDICTION_KEYS: readonly MetafieldKey[] = [
  "predicted_value",
  "probability_active",
  "churn_risk",
  "expected_next_order_date",
];

export type MetafieldSyncStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";

/** One difference: write `value`, or clear the metafield when it is null. */
export interface MetafieldChange {
  customerId: string;
  key: MetafieldKey;
  value: string | null;
}

type Db = PrismaClient | Prisma.TransactionClient;
const ACTIVE: MetafieldSyncStatus[] = ["queued", "running"];

/**
 * Queues a sync of the shop's metafields after a run, or returns the one
 * still waiting (it will read the newest scores anyway). Null when the app
 * cannot write to the shop: uninstalled, no offline session, or no
 * write_customers scope.
 */
export async function requestMetafieldSync(shop: string, runId: string | null, db: Db = prisma) {
  const [installed, session] = await Promise.all([
    db.shop.findUnique({ where: { domain: shop }, select: { uninstalledAt: true, grantedScopes: true } }),
    db.session.findFirst({ where: { shop, isOnline: false }, select: { id: true } }),
  ]);
  const scopes = installed?.grantedScopes?.split(",").map((scope) => scope.trim()) ?? [];
  if (!installed || installed.uninstalledAt || !session || !scopes.includes("write_customers")) return null;
  const waiting = await db.metafieldSync.findFirst({
    where: { shop, status: "queued", cancelRequestedAt: null },
    orderBy: { requestedAt: "desc" },
  });
  if (waiting) {
    return runId ? db.metafieldSync.update({ where: { id: waiting.id }, data: { runId } }) : waiting;
  }
  const sync = await db.metafieldSync.create({ data: { shop, runId } });
  await enqueueJob("metafield-sync", { syncId: sync.id }, { shop }, db);
  return sync;
}

export function getMetafieldSync(id: string) {
  return prisma.metafieldSync.findUnique({ where: { id } });
}

export function getShopMetafieldSync(shop: string, id: string) {
  return prisma.metafieldSync.findFirst({ where: { id, shop } });
}

/** The shop's latest sync, and its latest one that finished, for the Data page. */
export async function metafieldSyncStatus(shop: string) {
  const [latest, lastSucceeded] = await Promise.all([
    prisma.metafieldSync.findFirst({ where: { shop }, orderBy: { requestedAt: "desc" } }),
    prisma.metafieldSync.findFirst({ where: { shop, status: "succeeded" }, orderBy: { finishedAt: "desc" } }),
  ]);
  const stored = await prisma.customerMetafieldValue.count({ where: { shop } });
  return { latest, lastSucceeded, stored };
}

export function updateMetafieldSync(id: string, data: Prisma.MetafieldSyncUpdateManyMutationInput) {
  return prisma.metafieldSync.updateMany({ where: { id }, data });
}

/** Marks the sync as running for its worker; false when it ended or was asked to stop. */
export async function claimMetafieldSync(id: string): Promise<boolean> {
  const claimed = await prisma.metafieldSync.updateMany({
    where: { id, status: { in: ACTIVE }, cancelRequestedAt: null },
    data: { status: "running", startedAt: new Date(), error: null },
  });
  return claimed.count > 0;
}

export async function isMetafieldSyncCancelRequested(id: string) {
  const sync = await prisma.metafieldSync.findUnique({ where: { id }, select: { cancelRequestedAt: true } });
  return Boolean(sync?.cancelRequestedAt);
}

/** Asks a sync to stop: a queued one ends at once, a running one at its next batch. */
export async function requestMetafieldSyncCancel(shop: string, id: string): Promise<boolean> {
  const now = new Date();
  const asked = await prisma.metafieldSync.updateMany({
    where: { id, shop, status: { in: ACTIVE }, cancelRequestedAt: null },
    data: { cancelRequestedAt: now },
  });
  if (asked.count === 0) return false;
  await removeJob("metafield-sync", { syncId: id }, { shop });
  await prisma.metafieldSync.updateMany({
    where: { id, status: "queued" },
    data: { status: "cancelled", finishedAt: now },
  });
  return true;
}

export async function finishCancelledMetafieldSync(id: string) {
  await prisma.metafieldSync.updateMany({
    where: { id, status: { in: ACTIVE } },
    data: { status: "cancelled", finishedAt: new Date() },
  });
}

/** Whether the sync's run showed predictions (a sync without a run uses the latest run that stored segments). */
export async function predictionsShownFor(sync: Pick<MetafieldSync, "shop" | "runId">): Promise<boolean> {
  const run = sync.runId
    ? await prisma.segmentationRun.findUnique({ where: { id: sync.runId }, select: { predictionsShown: true } })
    : await prisma.segmentationRun.findFirst({
        where: { shop: sync.shop, status: "succeeded" },
        orderBy: { requestedAt: "desc" },
        select: { predictionsShown: true },
      });
  return run?.predictionsShown ?? false;
}

export async function shopTimezone(shop: string) {
  const row = await prisma.shop.findUnique({ where: { domain: shop }, select: { ianaTimezone: true } });
  return row?.ianaTimezone ?? "UTC";
}

interface ChangeScope {
  shop: string;
  predictionsShown: boolean;
  timezone: string;
}

/** Customers after `after`, up to and with `upper` (null: every one after `after`). */
const customerRange = (after: string, upper: string | null) =>
  upper === null
    ? Prisma.sql`"customerId" > ${after}`
    : Prisma.sql`"customerId" > ${after} AND "customerId" <= ${upper}`;

/** Each customer's metafield values as they should be, for the customers `range` selects. */
function desiredValues(scope: ChangeScope, range: Prisma.Sql) {
  const shown = scope.predictionsShown;
  return Prisma.sql`
    SELECT s."customerId", k.key, k.value
    FROM "CustomerScore" s
    CROSS JOIN LATERAL (VALUES
      ('predicted_value', CASE WHEN ${shown}::boolean THEN round(s."expectedSpend365", 2)::text END),
      ('probability_active', CASE WHEN ${shown}::boolean THEN round(s."probabilityAlive"::numeric, 2)::text END),
      ('churn_risk', CASE WHEN ${shown}::boolean THEN s."churnRisk" END),
      ('expected_next_order_date', CASE WHEN ${shown}::boolean
        THEN to_char((s."expectedNextOrderAt" AT TIME ZONE 'UTC') AT TIME ZONE ${scope.timezone}::text, 'YYYY-MM-DD') END),
      ('rfm_segment', s."rfmSegment")
    ) AS k(key, value)
    WHERE s.shop = ${scope.shop} AND ${range} AND k.value IS NOT NULL`;
}

/**
 * The differences between what the metafields of the next `customers` scored customers after `afterCustomer`
 * should hold and what was last written, ordered by (customer, key), and the window's last customer (null
 * for the last window, which also takes in customers no longer scored, whose values are cleared). Both sides
 * are read by primary key over the window alone, so a window costs its size, not the shop's.
 */
export async function metafieldChangesAfter(
  scope: ChangeScope,
  afterCustomer: string,
  customers: number,
): Promise<{ changes: MetafieldChange[]; lastCustomer: string | null }> {
  const [window] = await prisma.$queryRaw<{ upper: string | null; scored: number }[]>`
    SELECT max("customerId") AS upper, count(*)::int AS scored FROM (
      SELECT "customerId" FROM "CustomerScore" WHERE shop = ${scope.shop} AND "customerId" > ${afterCustomer}
      ORDER BY "customerId" LIMIT ${customers}) AS next`;
  const lastCustomer = window!.scored < customers ? null : window!.upper;
  const range = customerRange(afterCustomer, lastCustomer);
  const changes = await prisma.$queryRaw<MetafieldChange[]>`
    WITH desired AS (${desiredValues(scope, range)}),
    written AS (
      SELECT "customerId", key, value FROM "CustomerMetafieldValue" WHERE shop = ${scope.shop} AND ${range}
    )
    SELECT coalesce(d."customerId", w."customerId") AS "customerId", coalesce(d.key, w.key) AS key, d.value
    FROM desired d FULL JOIN written w ON w."customerId" = d."customerId" AND w.key = d.key
    WHERE d.value IS DISTINCT FROM w.value
    ORDER BY 1, 2`;
  return { changes, lastCustomer };
}

export async function countMetafieldChanges(scope: ChangeScope): Promise<{ toWrite: number; toClear: number }> {
  const rows = await prisma.$queryRaw<{ toWrite: bigint; toClear: bigint }[]>`
    WITH desired AS (${desiredValues(scope, customerRange("", null))}),
    written AS (SELECT "customerId", key, value FROM "CustomerMetafieldValue" WHERE shop = ${scope.shop})
    SELECT count(*) FILTER (WHERE d.value IS NOT NULL) AS "toWrite", count(*) FILTER (WHERE d.value IS NULL) AS "toClear"
    FROM desired d FULL JOIN written w ON w."customerId" = d."customerId" AND w.key = d.key
    WHERE d.value IS DISTINCT FROM w.value`;
  return { toWrite: Number(rows[0]?.toWrite ?? 0), toClear: Number(rows[0]?.toClear ?? 0) };
}

/** Records values Shopify accepted, with the sync's progress, in one transaction. */
export async function recordMetafieldsWritten(
  sync: { id: string; shop: string },
  written: { customerId: string; key: string; value: string }[],
) {
  if (written.length === 0) return;
  await prisma.$transaction([
    prisma.$executeRaw`
      INSERT INTO "CustomerMetafieldValue" (shop, "customerId", key, value, "writtenAt")
      SELECT ${sync.shop}, w."customerId", w.key, w.value, now()
      FROM unnest(${written.map((w) => w.customerId)}::text[], ${written.map((w) => w.key)}::text[],
                  ${written.map((w) => w.value)}::text[]) AS w("customerId", key, value)
      ON CONFLICT (shop, "customerId", key) DO UPDATE SET value = EXCLUDED.value, "writtenAt" = EXCLUDED."writtenAt"`,
    prisma.metafieldSync.updateMany({ where: { id: sync.id }, data: { written: { increment: written.length } } }),
  ]);
}

/** Records metafields cleared in Shopify (or already gone there). */
export async function recordMetafieldsCleared(
  sync: { id: string; shop: string },
  cleared: { customerId: string; key: string }[],
) {
  if (cleared.length === 0) return;
  await prisma.$transaction([
    prisma.$executeRaw`
      DELETE FROM "CustomerMetafieldValue" v
      USING unnest(${cleared.map((c) => c.customerId)}::text[], ${cleared.map((c) => c.key)}::text[]) AS c("customerId", key)
      WHERE v.shop = ${sync.shop} AND v."customerId" = c."customerId" AND v.key = c.key`,
    prisma.metafieldSync.updateMany({ where: { id: sync.id }, data: { cleared: { increment: cleared.length } } }),
  ]);
}
