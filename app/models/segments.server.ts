import type { Prisma } from "@prisma/client";
import prisma from "../db.server";
import { RFM_SEGMENTS } from "./rfm-segments.server";
import { latestCompletedRun, latestRun } from "./segmentation-runs.server";
import { predictionVerdict } from "./shop-predictions.server";
import { TIMING_SEGMENTS } from "./timing-segments.server";

/**
 * What the Segments page and the API read: segments with their size, revenue
 * share, order value and trend, the RFM grid, one segment with its members
 * and their predictions, and the progress of the latest run.
 */

export type SegmentKind = "rfm" | "timing" | "micro";

export interface SegmentListItem {
  id: string;
  key: string;
  kind: SegmentKind;
  parentKey: string | null;
  name: string;
  description: string;
  actions: string[];
  namedBy: "llm" | "local";
  active: boolean;
  /** Members now: the count of the segment's membership rows. */
  size: number;
  /** The size the run that stored the segment counted (trend compares run with run). */
  recordedSize: number;
  previousSize: number | null;
  /** Sum of the members' predicted 365-day spend; null without predictions. */
  expectedSpend365: string | null;
  /** Change in size since the previous run; null for a segment seen for the first time. */
  trend: number | null;
  revenue: string;
  revenueShare: number;
  averageOrderValue: string;
  definition: unknown;
  tag: string | null;
  shopifySegmentId: string | null;
  syncStatus: string | null;
  syncError: string | null;
  lastSyncedAt: Date | null;
  updatedAt: Date;
}

const RFM_ORDER = new Map(RFM_SEGMENTS.map((segment, index) => [`rfm:${segment.key}`, index]));
const TIMING_ORDER = new Map(TIMING_SEGMENTS.map((segment, index) => [segment.key, index]));
const KIND_ORDER: Record<SegmentKind, number> = { rfm: 0, timing: 1, micro: 2 };

function toListItem(row: Prisma.SegmentGetPayload<object>): SegmentListItem {
  return {
    id: row.id,
    key: row.key,
    kind: row.kind as SegmentListItem["kind"],
    parentKey: row.parentKey,
    name: row.name,
    description: row.description,
    actions: (row.actions as string[] | null) ?? [],
    namedBy: row.namedBy as SegmentListItem["namedBy"],
    active: row.active,
    size: row.size,
    recordedSize: row.size,
    previousSize: row.previousSize,
    expectedSpend365: null,
    trend: row.previousSize === null ? null : row.size - row.previousSize,
    revenue: row.revenue.toString(),
    revenueShare: row.revenueShare,
    averageOrderValue: row.averageOrderValue.toString(),
    definition: row.definition,
    tag: row.tag,
    shopifySegmentId: row.shopifySegmentId,
    syncStatus: row.syncStatus,
    syncError: row.syncError,
    lastSyncedAt: row.lastSyncedAt,
    updatedAt: row.updatedAt,
  };
}

/**
 * RFM segments in their standard order, then timing segments, then micro-segments largest first. Inactive
 * (emptied) ones only on request.
 */
export async function listSegments(
  shop: string,
  options: { kind?: SegmentKind; includeInactive?: boolean } = {},
): Promise<SegmentListItem[]> {
  const [rows, members] = await Promise.all([
    prisma.segment.findMany({
      where: {
        shop,
        ...(options.kind ? { kind: options.kind } : {}),
        ...(options.includeInactive ? {} : { active: true }),
      },
    }),
    memberFigures(shop),
  ]);
  return rows
    .map((row) => withMemberCount(toListItem(row), members.get(row.id)))
    .sort((x, y) => {
      if (x.kind !== y.kind) return KIND_ORDER[x.kind] - KIND_ORDER[y.kind];
      if (x.kind === "rfm") return (RFM_ORDER.get(x.key) ?? 99) - (RFM_ORDER.get(y.key) ?? 99);
      if (x.kind === "timing") return (TIMING_ORDER.get(x.key) ?? 99) - (TIMING_ORDER.get(y.key) ?? 99);
      return y.size - x.size || x.key.localeCompare(y.key);
    });
}

interface MemberFigures {
  members: number;
  /** Sum of the members' predicted spend over the next 365 days; null without predictions. */
  expectedSpend365: string | null;
}

/**
 * Members and their predicted spend per segment, counted from the membership rows themselves.
 * Segment.size is what the run counted; a customer erased since (customers/redact) leaves the
 * membership table at once, so the size a merchant reads is the count of the rows the member list
 * pages through: the list, the segment's page and its pagination always agree.
 */
async function memberFigures(shop: string, segmentId?: string): Promise<Map<string, MemberFigures>> {
  const rows = await prisma.$queryRaw<{ segmentId: string; members: number; expectedSpend365: string | null }[]>`
    SELECT m."segmentId", count(*)::int AS members, sum(s."expectedSpend365")::text AS "expectedSpend365"
    FROM "SegmentMember" m
    LEFT JOIN "CustomerScore" s ON s.shop = m.shop AND s."customerId" = m."customerId"
    WHERE m.shop = ${shop} AND (${segmentId ?? null}::uuid IS NULL OR m."segmentId" = ${segmentId ?? null}::uuid)
    GROUP BY m."segmentId"`;
  return new Map(rows.map((row) => [row.segmentId, row]));
}

function withMemberCount(item: SegmentListItem, figures: MemberFigures | undefined): SegmentListItem {
  const size = figures?.members ?? 0;
  return {
    ...item,
    size,
    recordedSize: item.size,
    expectedSpend365: figures?.expectedSpend365 ?? null,
  };
}

/** The kinds of groups a merchant filters by, from a segment's kind and the trait it is built on. */
export const SEGMENT_FAMILIES = {
  rfm: "RFM",
  timing: "Predicted timing",
  affinity: "Product or vendor affinity",
  cadence: "Order cadence",
  "value-band": "Order value band",
  discount: "Discount sensitivity",
  "first-product": "First product",
  behaviour: "Storefront behaviour",
  other: "Other",
} as const;

export type SegmentFamily = keyof typeof SEGMENT_FAMILIES;

const FAMILY_OF_DIMENSION: Record<string, SegmentFamily> = {
  "product-type": "affinity",
  vendor: "affinity",
  cadence: "cadence",
  "aov-band": "value-band",
  discount: "discount",
  "first-product-type": "first-product",
  behaviour: "behaviour",
};

export function segmentFamily(segment: Pick<SegmentListItem, "kind" | "key" | "definition">): SegmentFamily {
  if (segment.kind === "rfm") return "rfm";
  if (segment.kind === "timing") return "timing";
  const definition = segment.definition as { dimension?: unknown } | null;
  const dimension =
    typeof definition?.dimension === "string"
      ? definition.dimension
      : // micro:<dimension>:<value> or micro:<rfm segment>:<dimension>:<value>
        segment.key.split(":").slice(-2)[0];
  return (dimension && FAMILY_OF_DIMENSION[dimension]) || "other";
}

export const SEGMENT_SORTS = ["name", "size", "revenue", "predicted", "aov", "trend"] as const;
export type SegmentSort = (typeof SEGMENT_SORTS)[number];

export interface SegmentQuery {
  search?: string;
  family?: SegmentFamily | "all";
  sort?: SegmentSort;
  direction?: "asc" | "desc";
  page?: number;
  pageSize?: number;
}

export interface SegmentCatalogItem extends SegmentListItem {
  family: SegmentFamily;
  /** Share of the shop's predicted 365-day spend; null without predictions. */
  expectedSpendShare: number | null;
}

/**
 * The Segments page's table: every active segment with its live size and predicted value,
 * searched by name, filtered by kind, sorted and cut into pages. A shop has dozens of groups,
 * so this works on the whole list in memory.
 */
export async function segmentCatalog(shop: string, query: SegmentQuery = {}) {
  const [segments, totals] = await Promise.all([listSegments(shop), scoreTotals(shop)]);
  const totalPredicted = totals.expectedSpend365 === null ? null : Number(totals.expectedSpend365);
  const all: SegmentCatalogItem[] = segments.map((segment) => ({
    ...segment,
    family: segmentFamily(segment),
    expectedSpendShare:
      segment.expectedSpend365 === null || !totalPredicted ? null : Number(segment.expectedSpend365) / totalPredicted,
  }));
  const search = query.search?.trim().toLowerCase() ?? "";
  const family = query.family ?? "all";
  const matching = all.filter(
    (segment) =>
      (family === "all" || segment.family === family) && (!search || segment.name.toLowerCase().includes(search)),
  );
  const sort = query.sort ?? "size";
  const direction = query.direction ?? (sort === "name" ? "asc" : "desc");
  const value = (segment: SegmentCatalogItem): number | string => {
    switch (sort) {
      case "name":
        return segment.name.toLowerCase();
      case "size":
        return segment.size;
      case "revenue":
        return Number(segment.revenue);
      case "predicted":
        return segment.expectedSpend365 === null ? -Infinity : Number(segment.expectedSpend365);
      case "aov":
        return Number(segment.averageOrderValue);
      case "trend":
        return segment.trend ?? -Infinity;
    }
  };
  const sign = direction === "asc" ? 1 : -1;
  matching.sort((x, y) => {
    const a = value(x);
    const b = value(y);
    const order = typeof a === "string" ? a.localeCompare(b as string) : a - (b as number);
    return sign * order || x.key.localeCompare(y.key);
  });
  const pageSize = Math.max(1, Math.floor(query.pageSize ?? 20));
  const pages = Math.max(1, Math.ceil(matching.length / pageSize));
  const page = Math.min(pages, Math.max(1, Math.floor(query.page ?? 1)));
  const familyCounts = Object.fromEntries(
    Object.keys(SEGMENT_FAMILIES).map((key) => [key, all.filter((segment) => segment.family === key).length]),
  ) as Record<SegmentFamily, number>;
  return {
    segments: matching.slice((page - 1) * pageSize, page * pageSize),
    /** Every active segment, for the chart and the counts. */
    all,
    matching: matching.length,
    page,
    pages,
    pageSize,
    sort,
    direction,
    familyCounts,
    totals,
  };
}

/** The shop's scored customers, their revenue and predicted 365-day spend (null without predictions). */
export async function scoreTotals(shop: string) {
  const [row] = await prisma.$queryRaw<
    { scored: number; revenue: string; expectedSpend365: string | null; customers: number }[]
  >`
    SELECT count(*)::int AS scored, coalesce(sum(monetary), 0)::text AS revenue,
           sum("expectedSpend365")::text AS "expectedSpend365",
           (SELECT count(*)::int FROM "Customer" WHERE shop = ${shop}) AS customers
    FROM "CustomerScore" WHERE shop = ${shop}`;
  return row!;
}

export interface RfmGrid {
  /** Customers and net revenue per (R, F) cell, all 25 cells. */
  cells: { r: number; f: number; customers: number; revenue: string }[];
  /** The named segments with their rule, customers and revenue. */
  segments: { key: string; name: string; rule: string; customers: number; revenue: string }[];
  /** Customers scored (with at least one countable order). */
  customers: number;
  /** Every customer of the shop, with or without orders; those without are not scored. */
  shopCustomers: number;
  withoutOrders: number;
  /**
   * F scores no customer has, and why: equal order counts always share a score, so when many
   * customers have the same count the next count up jumps past a score. For each empty score, the
   * order count that earns the next used score and the share of customers with fewer orders.
   */
  emptyFrequencyScores: { score: number; nextScore: number | null; orders: number | null; shareBelow: number | null }[];
}

export async function rfmGrid(shop: string): Promise<RfmGrid> {
  const cells = await prisma.$queryRaw<{ r: number; f: number; customers: number; revenue: string }[]>`
    SELECT r, f, count(c."customerId")::int AS customers, coalesce(sum(c.monetary), 0)::text AS revenue
    FROM generate_series(1, 5) r CROSS JOIN generate_series(1, 5) f
    LEFT JOIN "CustomerScore" c ON c.shop = ${shop} AND c."rScore" = r AND c."fScore" = f
    GROUP BY r, f ORDER BY r DESC, f`;
  const bySegment = await prisma.$queryRaw<{ segment: string; customers: number; revenue: string }[]>`
    SELECT "rfmSegment" AS segment, count(*)::int AS customers, coalesce(sum(monetary), 0)::text AS revenue
    FROM "CustomerScore" WHERE shop = ${shop} GROUP BY "rfmSegment"`;
  const counts = new Map(bySegment.map((row) => [row.segment, row]));
  const frequencies = await prisma.$queryRaw<{ score: number; orders: number; below: number; n: number }[]>`
    SELECT "fScore" AS score, min(frequency)::int AS orders,
           (SELECT count(*)::int FROM "CustomerScore" b WHERE b.shop = ${shop} AND b.frequency < min(s.frequency)) AS below,
           (SELECT count(*)::int FROM "CustomerScore" WHERE shop = ${shop}) AS n
    FROM "CustomerScore" s WHERE shop = ${shop} GROUP BY "fScore" ORDER BY "fScore"`;
  const [shopCount] = await prisma.$queryRaw<{ customers: number }[]>`
    SELECT count(*)::int AS customers FROM "Customer" WHERE shop = ${shop}`;
  const shopCustomers = shopCount?.customers ?? 0;
  const scored = cells.reduce((sum, cell) => sum + cell.customers, 0);
  const used = new Map(frequencies.map((row) => [row.score, row]));
  const emptyFrequencyScores =
    scored === 0
      ? []
      : [1, 2, 3, 4, 5]
          .filter((score) => !used.has(score))
          .map((score) => {
            const next = frequencies.find((row) => row.score > score) ?? null;
            return {
              score,
              nextScore: next?.score ?? null,
              orders: next?.orders ?? null,
              shareBelow: next && next.n > 0 ? next.below / next.n : null,
            };
          });
  return {
    cells,
    segments: RFM_SEGMENTS.map((segment) => ({
      key: segment.key,
      name: segment.name,
      rule: segment.rule,
      customers: counts.get(segment.key)?.customers ?? 0,
      revenue: counts.get(segment.key)?.revenue ?? "0",
    })),
    customers: scored,
    shopCustomers,
    // A customer erased after the run may still be counted until the next one: never below zero.
    withoutOrders: Math.max(0, shopCustomers - scored),
    emptyFrequencyScores,
  };
}

export interface SegmentExportRow {
  customerId: string;
  legacyId: string | null;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  recencyDays: number | null;
  frequency: number | null;
  monetary: string | null;
  rScore: number | null;
  fScore: number | null;
  mScore: number | null;
  rfmSegment: string | null;
  expectedSpend365: string | null;
}

/**
 * Every member of a segment for a CSV export, in batches by customer id (keyset pagination: each
 * batch is one indexed query, and memory stays at one batch however large the segment).
 */
export async function* segmentMembersForExport(shop: string, segmentId: string, batchSize = 1000) {
  let after = "";
  for (;;) {
    const rows = await prisma.$queryRaw<SegmentExportRow[]>`
      SELECT m."customerId", c."legacyId"::text AS "legacyId", c."firstName", c."lastName", c.email,
             s."recencyDays", s.frequency, s.monetary::text AS monetary, s."rScore", s."fScore", s."mScore",
             s."rfmSegment", s."expectedSpend365"::text AS "expectedSpend365"
      FROM "SegmentMember" m
      LEFT JOIN "Customer" c ON c.shop = m.shop AND c.id = m."customerId"
      LEFT JOIN "CustomerScore" s ON s.shop = m.shop AND s."customerId" = m."customerId"
      WHERE m."segmentId" = ${segmentId}::uuid AND m.shop = ${shop} AND m."customerId" > ${after}
      ORDER BY m."customerId"
      LIMIT ${batchSize}`;
    if (rows.length === 0) return;
    yield rows;
    after = rows[rows.length - 1]!.customerId;
    if (rows.length < batchSize) return;
  }
}

/** A segment of the shop, for routes that need only to know it exists and what it is called. */
export function findSegment(shop: string, id: string) {
  return prisma.segment.findFirst({ where: { id, shop }, select: { id: true, key: true, name: true } });
}

export interface SegmentMemberRow {
  customerId: string;
  /** The numeric Shopify id, for links; null when the customer row is gone. */
  legacyId: string | null;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  frequency: number | null;
  monetary: string | null;
  recencyDays: number | null;
  rScore: number | null;
  fScore: number | null;
  mScore: number | null;
  rfmSegment: string | null;
  probabilityAlive: number | null;
  expectedOrders90: number | null;
  expectedOrders365: number | null;
  expectedSpend90: string | null;
  expectedSpend365: string | null;
}

/** One segment, and a page of its members (largest spenders first) with scores and predictions. */
export async function getSegmentDetail(
  shop: string,
  id: string,
  page: { offset?: number; limit?: number } = {},
): Promise<{
  segment: SegmentListItem;
  members: SegmentMemberRow[];
  total: number;
  nextOffset: number | null;
  predictions: { shown: boolean; reason: string | null };
} | null> {
  const row = await prisma.segment.findFirst({ where: { id, shop } });
  if (!row) return null;
  const offset = Math.max(0, Math.floor(page.offset ?? 0));
  const limit = Math.min(100, Math.max(1, Math.floor(page.limit ?? 50)));
  const [members, figures, predictions] = await Promise.all([
    prisma.$queryRaw<SegmentMemberRow[]>`
      SELECT m."customerId", c."legacyId"::text AS "legacyId", c."firstName", c."lastName", c.email, s.frequency, s.monetary::text AS monetary,
             s."recencyDays", s."rScore", s."fScore", s."mScore", s."rfmSegment", s."probabilityAlive",
             s."expectedOrders90", s."expectedOrders365", s."expectedSpend90"::text AS "expectedSpend90",
             s."expectedSpend365"::text AS "expectedSpend365"
      FROM "SegmentMember" m
      LEFT JOIN "Customer" c ON c.shop = m.shop AND c.id = m."customerId"
      LEFT JOIN "CustomerScore" s ON s.shop = m.shop AND s."customerId" = m."customerId"
      WHERE m."segmentId" = ${id}::uuid
      ORDER BY s.monetary DESC NULLS LAST, m."customerId"
      OFFSET ${offset} LIMIT ${limit}`,
    memberFigures(shop, id),
    predictionStatus(shop),
  ]);
  const segment = withMemberCount(toListItem(row), figures.get(id));
  const total = segment.size;
  return {
    segment,
    members,
    total,
    nextOffset: offset + members.length < total ? offset + members.length : null,
    predictions,
  };
}

/** Whether predictions are shown, and why (or why not), from the last run that stored segments. */
export async function predictionStatus(shop: string): Promise<{ shown: boolean; reason: string | null }> {
  const { shown, reason } = predictionVerdict(await latestCompletedRun(shop));
  return { shown, reason };
}

export interface RunProgress {
  id: string;
  trigger: string;
  status: string;
  stage: string | null;
  progress: number;
  error: string | null;
  customers: number | null;
  orders: number | null;
  segments: number | null;
  llmCalls: number;
  cacheHits: number;
  namingFallbacks: number;
  predictionsShown: boolean;
  predictionGate: string | null;
  requestedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  cancelRequested: boolean;
}

export function toRunProgress(run: NonNullable<Awaited<ReturnType<typeof latestRun>>>): RunProgress {
  return {
    id: run.id,
    trigger: run.trigger,
    status: run.status,
    stage: run.stage,
    progress: run.progress,
    error: run.error,
    customers: run.customers,
    orders: run.orders,
    segments: run.segments,
    llmCalls: run.llmCalls,
    cacheHits: run.cacheHits,
    namingFallbacks: run.namingFallbacks,
    predictionsShown: run.predictionsShown,
    predictionGate: run.predictionGate,
    requestedAt: run.requestedAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    cancelRequested: run.cancelRequestedAt !== null,
  };
}

/** The shop's latest segmentation run, for a progress bar; null before the first. */
export async function latestRunProgress(shop: string): Promise<RunProgress | null> {
  const run = await latestRun(shop);
  return run ? toRunProgress(run) : null;
}

/** A micro-segment the namer works on: its stored profile and who named it last. */
export interface SegmentToName {
  id: string;
  profile: unknown;
  namedBy: string;
}

const TO_NAME = { id: true, profile: true, namedBy: true } as const;

/** The active micro-segments a run stored, in key order. */
export function microSegmentsOfRun(shop: string, runId: string): Promise<SegmentToName[]> {
  return prisma.segment.findMany({
    where: { shop, runId, kind: "micro", active: true },
    select: TO_NAME,
    orderBy: { key: "asc" },
  });
}

/** The shop's active micro-segments that still carry a name from the local namer, in key order. */
export function locallyNamedMicroSegments(shop: string): Promise<SegmentToName[]> {
  return prisma.segment.findMany({
    where: { shop, kind: "micro", active: true, namedBy: "local" },
    select: TO_NAME,
    orderBy: { key: "asc" },
  });
}

/** Stores a segment's name, description and actions; a segment deleted meanwhile is left alone. */
export async function saveSegmentNaming(
  id: string,
  naming: { name: string; description: string; actions: string[] },
  namedBy: "llm" | "local",
) {
  await prisma.segment.updateMany({ where: { id }, data: { ...naming, namedBy } });
}
