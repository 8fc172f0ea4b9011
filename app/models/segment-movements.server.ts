import prisma from "../db.server";
import { RFM_SEGMENTS } from "./rfm-segments.server";

/**
 * Movement between RFM segments from one run to the next. Every score row keeps the segment of the
 * row it replaced (written by publishSegmentation), so the matrix is read from the current scores:
 * customers scored in both runs, by where they were and where they are now. The diagonal is the
 * customers who stayed.
 */

export interface SegmentRef {
  key: string;
  name: string;
  /** The Segment row's id, for a link; null when the shop has no such segment stored. */
  segmentId: string | null;
}

export interface SegmentMovementMatrix {
  /** The runs compared; null when the shop has fewer than two runs with scores. */
  previousRunId: string | null;
  runId: string | null;
  /** RFM segments in their standard order: rows (from) and columns (to) of the matrix. */
  segments: SegmentRef[];
  /** customers[from][to], indexed like `segments`. */
  customers: number[][];
  /** Customers in both runs, those who stayed in their segment, and those scored for the first time. */
  compared: number;
  stayed: number;
  newlyScored: number;
}

export interface SegmentMovement {
  from: SegmentRef;
  to: SegmentRef;
  customers: number;
}

interface MovementCount {
  from: string;
  to: string;
  customers: number;
}

async function movementCounts(shop: string) {
  const [counts, runs] = await Promise.all([
    prisma.$queryRaw<MovementCount[]>`
      SELECT "previousRfmSegment" AS "from", "rfmSegment" AS "to", count(*)::int AS customers
      FROM "CustomerScore" WHERE shop = ${shop} AND "previousRfmSegment" IS NOT NULL
      GROUP BY 1, 2`,
    prisma.$queryRaw<{ runId: string | null; previousRunId: string | null; newlyScored: number }[]>`
      SELECT max("runId"::text) AS "runId", max("previousRunId"::text) AS "previousRunId",
             count(*) FILTER (WHERE "previousRfmSegment" IS NULL)::int AS "newlyScored"
      FROM "CustomerScore" WHERE shop = ${shop}`,
  ]);
  return { counts, runs: runs[0] ?? { runId: null, previousRunId: null, newlyScored: 0 } };
}

async function rfmSegmentRefs(shop: string): Promise<Map<string, SegmentRef>> {
  const stored = await prisma.segment.findMany({
    where: { shop, kind: "rfm" },
    select: { id: true, key: true, name: true },
  });
  const byKey = new Map(stored.map((segment) => [segment.key, segment]));
  return new Map(
    RFM_SEGMENTS.map((rule) => {
      const segment = byKey.get(`rfm:${rule.key}`);
      return [rule.key, { key: rule.key, name: segment?.name ?? rule.name, segmentId: segment?.id ?? null }];
    }),
  );
}

/** The from → to matrix between the shop's last two runs. */
export async function segmentMovements(shop: string): Promise<SegmentMovementMatrix> {
  const [{ counts, runs }, refs] = await Promise.all([movementCounts(shop), rfmSegmentRefs(shop)]);
  const segments = [...refs.values()];
  const index = new Map(segments.map((segment, position) => [segment.key, position]));
  const customers = segments.map(() => segments.map(() => 0));
  let compared = 0;
  let stayed = 0;
  for (const count of counts) {
    const from = index.get(count.from);
    const to = index.get(count.to);
    if (from === undefined || to === undefined) continue;
    customers[from]![to] = count.customers;
    compared += count.customers;
    if (from === to) stayed += count.customers;
  }
  return {
    previousRunId: compared > 0 ? runs.previousRunId : null,
    runId: compared > 0 ? runs.runId : null,
    segments,
    customers,
    compared,
    stayed,
    newlyScored: runs.newlyScored,
  };
}

/** The largest moves between different segments since the previous run, most customers first. */
export async function largestMovements(shop: string, limit = 5): Promise<SegmentMovement[]> {
  const [{ counts }, refs] = await Promise.all([movementCounts(shop), rfmSegmentRefs(shop)]);
  return counts
    .filter((count) => count.from !== count.to && refs.has(count.from) && refs.has(count.to))
    .sort((x, y) => y.customers - x.customers || x.from.localeCompare(y.from) || x.to.localeCompare(y.to))
    .slice(0, Math.max(0, Math.floor(limit)))
    .map((count) => ({ from: refs.get(count.from)!, to: refs.get(count.to)!, customers: count.customers }));
}
