import type { Prisma } from "@prisma/client";
import prisma from "../db.server";
import { RFM_SEGMENTS } from "./rfm-segments.server";
import { latestCompletedRun, latestRun } from "./segmentation-runs.server";

/**
 * What the Segments page and the API read: segments with their size, revenue
 * share, order value and trend, the RFM grid, one segment with its members
 * and their predictions, and the progress of the latest run.
 */

export interface SegmentListItem {
  id: string;
  key: string;
  kind: "rfm" | "micro";
  parentKey: string | null;
  name: string;
  description: string;
  actions: string[];
  namedBy: "llm" | "local";
  active: boolean;
  size: number;
  previousSize: number | null;
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
    previousSize: row.previousSize,
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

/** RFM segments in their standard order, then micro-segments largest first. Inactive (emptied) ones only on request. */
export async function listSegments(
  shop: string,
  options: { kind?: "rfm" | "micro"; includeInactive?: boolean } = {},
): Promise<SegmentListItem[]> {
  const rows = await prisma.segment.findMany({
    where: {
      shop,
      ...(options.kind ? { kind: options.kind } : {}),
      ...(options.includeInactive ? {} : { active: true }),
    },
  });
  return rows.map(toListItem).sort((x, y) => {
    if (x.kind !== y.kind) return x.kind === "rfm" ? -1 : 1;
    if (x.kind === "rfm") return (RFM_ORDER.get(x.key) ?? 99) - (RFM_ORDER.get(y.key) ?? 99);
    return y.size - x.size || x.key.localeCompare(y.key);
  });
}

export interface RfmGrid {
  /** Customers and net revenue per (R, F) cell, all 25 cells. */
  cells: { r: number; f: number; customers: number; revenue: string }[];
  /** The named segments with their rule, customers and revenue. */
  segments: { key: string; name: string; rule: string; customers: number; revenue: string }[];
  customers: number;
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
  return {
    cells,
    segments: RFM_SEGMENTS.map((segment) => ({
      key: segment.key,
      name: segment.name,
      rule: segment.rule,
      customers: counts.get(segment.key)?.customers ?? 0,
      revenue: counts.get(segment.key)?.revenue ?? "0",
    })),
    customers: cells.reduce((sum, cell) => sum + cell.customers, 0),
  };
}

export interface SegmentMemberRow {
  customerId: string;
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
  const [members, total, predictions] = await Promise.all([
    prisma.$queryRaw<SegmentMemberRow[]>`
      SELECT m."customerId", c."firstName", c."lastName", c.email, s.frequency, s.monetary::text AS monetary,
             s."recencyDays", s."rScore", s."fScore", s."mScore", s."rfmSegment", s."probabilityAlive",
             s."expectedOrders90", s."expectedOrders365", s."expectedSpend90"::text AS "expectedSpend90",
             s."expectedSpend365"::text AS "expectedSpend365"
      FROM "SegmentMember" m
      LEFT JOIN "Customer" c ON c.shop = m.shop AND c.id = m."customerId"
      LEFT JOIN "CustomerScore" s ON s.shop = m.shop AND s."customerId" = m."customerId"
      WHERE m."segmentId" = ${id}::uuid
      ORDER BY s.monetary DESC NULLS LAST, m."customerId"
      OFFSET ${offset} LIMIT ${limit}`,
    prisma.segmentMember.count({ where: { segmentId: id } }),
    predictionStatus(shop),
  ]);
  return {
    segment: toListItem(row),
    members,
    total,
    nextOffset: offset + members.length < total ? offset + members.length : null,
    predictions,
  };
}

/** Whether predictions are shown, and why (or why not), from the last run that stored segments. */
export async function predictionStatus(shop: string): Promise<{ shown: boolean; reason: string | null }> {
  const run = await latestCompletedRun(shop);
  if (!run) return { shown: false, reason: "No segmentation has run yet." };
  return { shown: run.predictionsShown, reason: run.predictionGate };
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
