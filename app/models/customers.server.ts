import { Prisma } from "@prisma/client";
import { z } from "zod";
import prisma from "../db.server";
import type { SegmentKind } from "./segments.server";
import { latestCompletedRun } from "./segmentation-runs.server";
import { ChurnRisk } from "./prediction-report.server";
import { predictionVerdict } from "./shop-predictions.server";

/**
 * One customer as the customer page shows them, and customer search. Every
 * read is scoped to the shop: a customer id of another shop is not found.
 *
 * RFM thresholds are not stored by the scoring; they are derived here from
 * the latest run's stored scores (CustomerScore): for each score, the lowest
 * and highest value among the shop's customers who got it. Scores only rise
 * with a better value (see app/models/rfm-segments.server.ts), so these ranges
 * are exactly the quintile boundaries that run applied, and they never overlap.
 */

const CUSTOMER_GID = /^gid:\/\/shopify\/Customer\/(\d{1,19})$/;

/** A customer's GID from a URL segment: a numeric legacy id or the GID itself; anything else is null. */
export function customerGidFromParam(param: string | undefined): string | null {
  if (!param) return null;
  const value = param.trim();
  if (/^\d{1,19}$/.test(value)) return BigInt(value) > 0n ? `gid://shopify/Customer/${BigInt(value)}` : null;
  const match = CUSTOMER_GID.exec(value);
  return match && BigInt(match[1]!) > 0n ? `gid://shopify/Customer/${BigInt(match[1]!)}` : null;
}

export interface ScoreBand<T> {
  score: number;
  min: T;
  max: T;
  customers: number;
}

export interface RfmThresholds {
  /** Days since the last order; a higher score is fewer days. */
  recency: ScoreBand<number>[];
  /** Countable orders. */
  frequency: ScoreBand<number>[];
  /** Net spend (the orders' net revenue: items after discounts, less refunds) in the shop's currency, exact. */
  monetary: ScoreBand<string>[];
}

/**
 * A run replaces all of a shop's scores at once, and after it only an erasure (customers/redact) removes
 * one, so thresholds are kept per shop, run and number of scores: on a large shop the scan of every score
 * costs far more than counting them on an index.
 */
const thresholdCache = new Map<string, RfmThresholds>();
const THRESHOLD_CACHE_SIZE = 200;

/**
 * The value range of each score the shop's customers hold, per measure; scores nobody earned are absent.
 * `runId`, the run the shop's stored scores come from, lets a later call reuse the result.
 */
export async function rfmThresholds(shop: string, runId?: string): Promise<RfmThresholds> {
  if (!runId) return computeRfmThresholds(shop);
  const scores = await prisma.customerScore.count({ where: { shop } });
  const key = `${shop}\n${runId}\n${scores}`;
  const cached = thresholdCache.get(key);
  if (cached) return cached;
  const thresholds = await computeRfmThresholds(shop);
  if (thresholdCache.size >= THRESHOLD_CACHE_SIZE) thresholdCache.delete(thresholdCache.keys().next().value!);
  thresholdCache.set(key, thresholds);
  return thresholds;
}

async function computeRfmThresholds(shop: string): Promise<RfmThresholds> {
  const rows = await prisma.$queryRaw<
    {
      measure: "r" | "f" | "m";
      score: number;
      minRecency: number;
      maxRecency: number;
      minFrequency: number;
      maxFrequency: number;
      minMonetary: string;
      maxMonetary: string;
      customers: number;
    }[]
  >`
    SELECT CASE WHEN GROUPING("rScore") = 0 THEN 'r' WHEN GROUPING("fScore") = 0 THEN 'f' ELSE 'm' END AS measure,
           coalesce("rScore", "fScore", "mScore") AS score,
           min("recencyDays") AS "minRecency", max("recencyDays") AS "maxRecency",
           min(frequency) AS "minFrequency", max(frequency) AS "maxFrequency",
           min(monetary)::text AS "minMonetary", max(monetary)::text AS "maxMonetary",
           count(*)::int AS customers
    FROM "CustomerScore"
    WHERE shop = ${shop}
    GROUP BY GROUPING SETS (("rScore"), ("fScore"), ("mScore"))
    ORDER BY 1, 2 DESC`;
  const thresholds: RfmThresholds = { recency: [], frequency: [], monetary: [] };
  for (const row of rows) {
    const base = { score: row.score, customers: row.customers };
    if (row.measure === "r") thresholds.recency.push({ ...base, min: row.minRecency, max: row.maxRecency });
    else if (row.measure === "f") thresholds.frequency.push({ ...base, min: row.minFrequency, max: row.maxFrequency });
    else thresholds.monetary.push({ ...base, min: row.minMonetary, max: row.maxMonetary });
  }
  return thresholds;
}

export interface CustomerScoreView {
  recencyDays: number;
  frequency: number;
  monetary: string;
  averageOrderValue: string;
  firstOrderAt: Date;
  lastOrderAt: Date;
  /** Mean days between order days: the run's figure, else from first and last order; null with a single order. */
  averageDaysBetweenOrders: number | null;
  rScore: number;
  fScore: number;
  mScore: number;
  rfmSegment: string;
  probabilityAlive: number | null;
  expectedOrders90: number | null;
  expectedOrders365: number | null;
  expectedSpend90: string | null;
  expectedSpend365: string | null;
  churnRisk: ChurnRisk | null;
  expectedNextOrderAt: Date | null;
  computedAt: Date;
  /** The run that stored the shop's scores. */
  runId: string;
}

export interface CustomerSegmentMembership {
  id: string;
  key: string;
  kind: SegmentKind;
  parentKey: string | null;
  name: string;
  /** Who is in the segment, in the words segment-traits.server.ts gave its definition. */
  rule: string | null;
}

export interface CustomerProfile {
  customer: {
    id: string;
    legacyId: string;
    firstName: string | null;
    lastName: string | null;
    email: string | null;
    phone: string | null;
    city: string | null;
    province: string | null;
    countryCode: string | null;
    tags: string[];
    shopifyCreatedAt: Date;
  };
  /** Null when the last run did not score them (no countable order then). */
  score: CustomerScoreView | null;
  /** The last run that stored segments: what the scores and segments are as of, and the prediction gate. */
  run: { asOf: Date | null; finishedAt: Date | null; predictionsShown: boolean; predictionGate: string | null } | null;
  thresholds: RfmThresholds | null;
  segments: CustomerSegmentMembership[];
}

const definitionRule = z.object({ rule: z.string() });

/** The customer, their scores with the shop's thresholds, and their segments; null if the shop has no such customer. */
export async function getCustomerProfile(shop: string, customerId: string): Promise<CustomerProfile | null> {
  const customer = await prisma.customer.findUnique({ where: { shop_id: { shop, id: customerId } } });
  if (!customer) return null;
  const [scores, memberships, run] = await Promise.all([
    prisma.$queryRaw<CustomerScoreView[]>`
      SELECT "recencyDays", frequency, monetary::text AS monetary, "averageOrderValue"::text AS "averageOrderValue",
             "firstOrderAt", "lastOrderAt",
             coalesce("averageDaysBetweenOrders", CASE WHEN frequency > 1
                  THEN extract(epoch FROM "lastOrderAt" - "firstOrderAt")::float8 / 86400 / (frequency - 1) END)
               AS "averageDaysBetweenOrders",
             "rScore", "fScore", "mScore", "rfmSegment", "probabilityAlive", "expectedOrders90", "expectedOrders365",
             "expectedSpend90"::text AS "expectedSpend90", "expectedSpend365"::text AS "expectedSpend365",
             "churnRisk", "expectedNextOrderAt", "computedAt",
             "runId"::text AS "runId"
      FROM "CustomerScore" WHERE shop = ${shop} AND "customerId" = ${customerId}`,
    prisma.$queryRaw<(Omit<CustomerSegmentMembership, "rule"> & { definition: unknown })[]>`
      SELECT s.id, s.key, s.kind, s."parentKey", s.name, s.definition
      FROM "SegmentMember" m JOIN "Segment" s ON s.id = m."segmentId" AND s.shop = m.shop
      WHERE m.shop = ${shop} AND m."customerId" = ${customerId} AND s.active
      ORDER BY s.kind = 'micro', s.kind = 'timing', s."parentKey" NULLS FIRST, s.size DESC, s.key`,
    latestCompletedRun(shop),
  ]);
  const verdict = predictionVerdict(run);
  const row = scores[0];
  const score = row ? { ...row, churnRisk: ChurnRisk.safeParse(row.churnRisk).data ?? null } : null;
  return {
    customer: {
      id: customer.id,
      legacyId: customer.legacyId.toString(),
      firstName: customer.firstName,
      lastName: customer.lastName,
      email: customer.email,
      phone: customer.phone,
      city: customer.city,
      province: customer.province,
      countryCode: customer.countryCode,
      tags: customer.tags,
      shopifyCreatedAt: customer.shopifyCreatedAt,
    },
    score,
    run: run && {
      asOf: run.asOf,
      finishedAt: run.finishedAt,
      predictionsShown: verdict.shown,
      predictionGate: verdict.reason,
    },
    thresholds: score ? await rfmThresholds(shop, score.runId) : null,
    segments: memberships.map(({ definition, ...segment }) => ({
      ...segment,
      rule: definitionRule.safeParse(definition).data?.rule ?? null,
    })),
  };
}

export interface CustomerOrder {
  id: string;
  legacyId: string;
  name: string;
  processedAt: Date;
  totalPrice: string;
  totalRefunded: string;
  netRevenue: string;
  cancelledAt: Date | null;
  financialStatus: string | null;
  items: number;
}

/** The customer's latest orders with their item counts, and how many orders they have in all. */
export async function customerOrders(
  shop: string,
  customerId: string,
  limit = 50,
): Promise<{ orders: CustomerOrder[]; total: number }> {
  const [orders, total] = await Promise.all([
    prisma.$queryRaw<CustomerOrder[]>`
      SELECT o.id, o."legacyId"::text AS "legacyId", o.name, o."processedAt", o."totalPrice"::text AS "totalPrice",
             o."totalRefunded"::text AS "totalRefunded", o."netRevenue"::text AS "netRevenue", o."cancelledAt", o."financialStatus",
             (SELECT coalesce(sum(li.quantity), 0)::int FROM "OrderLineItem" li
              WHERE li.shop = o.shop AND li."orderId" = o.id) AS items
      FROM "Order" o
      WHERE o.shop = ${shop} AND o."customerId" = ${customerId}
      ORDER BY o."processedAt" DESC, o.id
      LIMIT ${limit}`,
    prisma.order.count({ where: { shop, customerId } }),
  ]);
  return { orders, total };
}

export interface CustomerEvent {
  eventId: string;
  name: string;
  occurredAt: Date;
  url: string | null;
  data: Record<string, unknown> | null;
}

/**
 * The customer's latest storefront events: those of every pixel client id linked to them (a checkout links
 * the visitor's client id, so browsing before the purchase counts too).
 */
export async function customerActivity(
  shop: string,
  customerId: string,
  limit = 20,
): Promise<{ events: CustomerEvent[]; total: number; browsers: number }> {
  const identities = await prisma.pixelIdentity.findMany({ where: { shop, customerId }, select: { clientId: true } });
  if (identities.length === 0) return { events: [], total: 0, browsers: 0 };
  const where = { shop, clientId: { in: identities.map((identity) => identity.clientId) } };
  const [events, total] = await Promise.all([
    prisma.pixelEvent.findMany({
      where,
      orderBy: [{ occurredAt: "desc" }, { eventId: "asc" }],
      take: limit,
      select: { eventId: true, name: true, occurredAt: true, url: true, data: true },
    }),
    prisma.pixelEvent.count({ where }),
  ]);
  return {
    events: events.map((event) => ({ ...event, data: (event.data as Record<string, unknown> | null) ?? null })),
    total,
    browsers: identities.length,
  };
}

export interface CustomerSearchRow {
  id: string;
  legacyId: string;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  city: string | null;
  countryCode: string | null;
  orders: number | null;
  spent: string | null;
  rfmSegment: string | null;
}

/** The text the search matches, the expression of the trigram index Customer_search_trgm_idx. */
const SEARCH_TEXT = Prisma.sql`(coalesce(c."firstName", '') || ' ' || coalesce(c."lastName", '') || ' ' || coalesce(c.email, ''))`;

/** A LIKE pattern matching `text` anywhere, its wildcards taken literally. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

/**
 * Customers whose name or email contains the query (any case), or whose id it is (legacy id or GID), exact
 * id first, then by name; without a query, every customer of the shop, most recently updated first.
 */
export async function searchCustomers(
  shop: string,
  search: { query: string; offset: number; limit: number },
): Promise<{ customers: CustomerSearchRow[]; total: number; nextOffset: number | null }> {
  const query = search.query.trim();
  const idMatch = customerGidFromParam(query);
  const matches = query
    ? Prisma.sql`AND (${SEARCH_TEXT} ILIKE ${containsPattern(query)} OR c.id = ${idMatch ?? ""})`
    : Prisma.empty;
  // Matches by name; the whole list by the (shop, shopifyUpdatedAt) index, since sorting every customer of a
  // large shop by name took a second.
  const order = query
    ? Prisma.sql`c.id = ${idMatch ?? ""} DESC, lower(c."lastName") NULLS LAST, lower(c."firstName") NULLS LAST, c."legacyId"`
    : Prisma.sql`c."shopifyUpdatedAt" DESC, c.id`;
  const [customers, counted] = await Promise.all([
    prisma.$queryRaw<CustomerSearchRow[]>`
      SELECT c.id, c."legacyId"::text AS "legacyId", c."firstName", c."lastName", c.email, c.city, c."countryCode",
             s.frequency AS orders, s.monetary::text AS spent, s."rfmSegment"
      FROM "Customer" c
      LEFT JOIN "CustomerScore" s ON s.shop = c.shop AND s."customerId" = c.id
      WHERE c.shop = ${shop} ${matches}
      ORDER BY ${order}
      OFFSET ${search.offset} LIMIT ${search.limit}`,
    prisma.$queryRaw<{ total: number }[]>`
      SELECT count(*)::int AS total FROM "Customer" c WHERE c.shop = ${shop} ${matches}`,
  ]);
  const total = counted[0]!.total;
  const next = search.offset + customers.length;
  return { customers, total, nextOffset: next < total ? next : null };
}
