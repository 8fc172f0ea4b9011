import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import prisma, { pgPool } from "../../app/db.server";
import { getCustomerProfile } from "../../app/models/customers.server";
import { requestSegmentation } from "../../app/models/segmentation-runs.server";
import { listSegments, segmentCatalog } from "../../app/models/segments.server";
import { publishTimingSegments, TIMING_SEGMENTS } from "../../app/models/timing-segments.server";
import { executeSegmentationRun } from "../../app/services/segmentation-run.server";
import { seedSyntheticShop } from "../helpers/segment-data";

/**
 * "Due to reorder" and "Slipping away" against real Postgres: scores set by
 * hand around every boundary (the 14-day window, half the usual gap, one half
 * probability), published the way a run publishes them, then the same
 * segments from a real segmentation run.
 */

const shop = `timing-${Date.now()}.myshopify.com`;
const AS_OF = new Date("2026-11-01T12:00:00Z");
const DAY = 86_400_000;
const MINUTE = 60_000;
const gid = (n: number) => `gid://shopify/Customer/${n}`;
const at = (ms: number) => new Date(AS_OF.getTime() + ms);

interface HandScore {
  n: number;
  expectedNextOrderAt?: Date | null;
  averageDaysBetweenOrders?: number | null;
  previousProbabilityAlive?: number | null;
  probabilityAlive?: number | null;
  monetary?: number;
  frequency?: number;
}

/** Who should be where, and why. */
const SCORES: (HandScore & { due?: true; slipping?: true })[] = [
  { n: 1, expectedNextOrderAt: at(3 * DAY), due: true },
  { n: 2, expectedNextOrderAt: at(14 * DAY), due: true }, // the window's last moment
  { n: 3, expectedNextOrderAt: at(14 * DAY + MINUTE) }, // just after it
  { n: 4, expectedNextOrderAt: AS_OF, due: true }, // due at the run itself
  { n: 5, expectedNextOrderAt: at(-9 * DAY), averageDaysBetweenOrders: 20, due: true }, // 9 days late, half gap 10
  { n: 6, expectedNextOrderAt: at(-10 * DAY), averageDaysBetweenOrders: 20 }, // exactly half the gap late: out
  { n: 7, expectedNextOrderAt: at(-10 * DAY + MINUTE), averageDaysBetweenOrders: 20, due: true },
  { n: 8, expectedNextOrderAt: at(-2 * DAY), averageDaysBetweenOrders: null }, // late, no usual gap to forgive
  { n: 9, expectedNextOrderAt: null },
  { n: 10, previousProbabilityAlive: 0.5, probabilityAlive: 0.49, slipping: true }, // fell from exactly one half
  { n: 11, previousProbabilityAlive: 0.49, probabilityAlive: 0.2 }, // was below already
  { n: 12, previousProbabilityAlive: 0.8, probabilityAlive: 0.5 }, // still at one half
  { n: 13, previousProbabilityAlive: null, probabilityAlive: 0.1 }, // not scored in the run before
  {
    n: 14,
    previousProbabilityAlive: 0.9,
    probabilityAlive: 0.3,
    expectedNextOrderAt: at(DAY),
    slipping: true,
    due: true,
  },
  { n: 15, previousProbabilityAlive: 0.9, probabilityAlive: 0.95, expectedNextOrderAt: at(40 * DAY) },
];

const expectedDue = SCORES.filter((s) => s.due).map((s) => gid(s.n));
const expectedSlipping = SCORES.filter((s) => s.slipping).map((s) => gid(s.n));

async function writeScores(runId: string, scores: HandScore[]) {
  await prisma.customerScore.deleteMany({ where: { shop } });
  await prisma.customerScore.createMany({
    data: scores.map((score) => ({
      shop,
      customerId: gid(score.n),
      recencyDays: 10,
      frequency: score.frequency ?? 2,
      monetary: score.monetary ?? 100 + score.n,
      averageOrderValue: (score.monetary ?? 100 + score.n) / (score.frequency ?? 2),
      firstOrderAt: at(-200 * DAY),
      lastOrderAt: at(-10 * DAY),
      rScore: 3,
      fScore: 3,
      mScore: 3,
      rfmSegment: "need-attention",
      probabilityAlive: score.probabilityAlive ?? 0.7,
      previousProbabilityAlive: score.previousProbabilityAlive ?? null,
      expectedNextOrderAt: score.expectedNextOrderAt ?? null,
      averageDaysBetweenOrders: score.averageDaysBetweenOrders === undefined ? 30 : score.averageDaysBetweenOrders,
      runId,
    })),
  });
}

/** Publishes the timing segments as publishSegmentation does: on one connection, in one transaction. */
async function publish(runId: string, shown: boolean) {
  const client = await pgPool.connect();
  try {
    await client.query("BEGIN");
    await publishTimingSegments(client, shop, runId, { asOf: AS_OF, shown });
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  } finally {
    client.release();
  }
}

async function timingSegments() {
  const segments = await prisma.segment.findMany({
    where: { shop, kind: "timing" },
    include: { members: { select: { customerId: true } } },
    orderBy: { key: "asc" },
  });
  return Object.fromEntries(
    segments.map((segment) => [
      segment.key,
      { ...segment, memberIds: segment.members.map((member) => member.customerId).sort() },
    ]),
  );
}

afterAll(async () => {
  await prisma.$disconnect();
  await pgPool.end();
});

describe("timing segments from hand-set scores", () => {
  const firstRun = randomUUID();

  beforeAll(async () => {
    await writeScores(firstRun, SCORES);
    await publish(firstRun, true);
  });

  it("'Due to reorder': expected within 14 days, or late by less than half the usual gap", async () => {
    const due = (await timingSegments())["timing:due-to-reorder"]!;
    expect(due.memberIds).toEqual([...expectedDue].sort());
    expect(due.size).toBe(expectedDue.length);
  });

  it("'Slipping away': at least one half in the run before, below one half now", async () => {
    const slipping = (await timingSegments())["timing:slipping-away"]!;
    expect(slipping.memberIds).toEqual([...expectedSlipping].sort());
  });

  it("are named locally, with their rule, figures and samples from their members", async () => {
    const segments = await timingSegments();
    const due = segments["timing:due-to-reorder"]!;
    expect(due).toMatchObject({
      kind: "timing",
      name: "Due to reorder",
      namedBy: "local",
      active: true,
      previousSize: null,
      runId: firstRun,
      tag: null,
    });
    expect((due.definition as { rule: string }).rule).toMatch(/within 14 days/);
    const members = SCORES.filter((s) => s.due);
    const revenue = members.reduce((sum, s) => sum + 100 + s.n, 0);
    const all = SCORES.reduce((sum, s) => sum + 100 + s.n, 0);
    expect(Number(due.revenue)).toBeCloseTo(revenue, 4);
    expect(due.revenueShare).toBeCloseTo(revenue / all, 6);
    expect(Number(due.averageOrderValue)).toBeCloseTo(revenue / (2 * members.length), 3);
    // The largest spenders first: customer 14 spent the most of those due.
    expect(due.sampleCustomerIds[0]).toBe(gid(14));
    expect(segments["timing:slipping-away"]!.name).toBe("Slipping away");
  });

  it("sit between the RFM and the micro-segments in the list, under their own kind", async () => {
    const segments = await listSegments(shop);
    expect(segments.map((segment) => segment.key)).toEqual(TIMING_SEGMENTS.map((segment) => segment.key));
    const catalog = await segmentCatalog(shop, { family: "timing" });
    expect(catalog.segments.map((segment) => segment.name).sort()).toEqual(["Due to reorder", "Slipping away"]);
    expect(catalog.familyCounts.timing).toBe(2);
  });

  it("show on the customer's profile", async () => {
    await prisma.customer.create({
      data: { shop, id: gid(14), legacyId: 14, tags: [], shopifyCreatedAt: AS_OF, shopifyUpdatedAt: AS_OF },
    });
    const profile = await getCustomerProfile(shop, gid(14));
    expect(profile!.segments.filter((s) => s.kind === "timing").map((s) => s.name)).toEqual([
      "Due to reorder",
      "Slipping away",
    ]);
  });

  it("follow the next run's scores and keep the size before it as the trend", async () => {
    const nextRun = randomUUID();
    // Customer 1 ordered meanwhile: next expected in 30 days. Customer 12 fell below one half now.
    await writeScores(
      nextRun,
      SCORES.map((score) =>
        score.n === 1
          ? { ...score, expectedNextOrderAt: at(30 * DAY) }
          : score.n === 12
            ? { ...score, previousProbabilityAlive: 0.5, probabilityAlive: 0.3 }
            : score,
      ),
    );
    await publish(nextRun, true);
    const segments = await timingSegments();
    expect(segments["timing:due-to-reorder"]!.memberIds).toEqual(expectedDue.filter((id) => id !== gid(1)).sort());
    expect(segments["timing:due-to-reorder"]!.previousSize).toBe(expectedDue.length);
    expect(segments["timing:slipping-away"]!.memberIds).toEqual([...expectedSlipping, gid(12)].sort());
    expect(segments["timing:slipping-away"]!.runId).toBe(nextRun);
  });

  it("empty out and go inactive when a run does not show predictions, and come back when one does", async () => {
    const before = await timingSegments();
    const withheld = randomUUID();
    await publish(withheld, false);
    const segments = await timingSegments();
    for (const key of Object.keys(before)) {
      expect(segments[key]).toMatchObject({ active: false, size: 0, previousSize: before[key]!.size, memberIds: [] });
    }
    expect(await listSegments(shop)).toEqual([]);
    // The same row (and so its tag and Shopify segment) when predictions are shown again.
    const again = randomUUID();
    await publish(again, true);
    const back = await timingSegments();
    expect(back["timing:due-to-reorder"]!.id).toBe(before["timing:due-to-reorder"]!.id);
    expect(back["timing:due-to-reorder"]).toMatchObject({ active: true, previousSize: 0 });
  });

  it("leave another shop's segments alone", async () => {
    const otherShop = `timing-other-${Date.now()}.myshopify.com`;
    const client = await pgPool.connect();
    try {
      await client.query("BEGIN");
      await publishTimingSegments(client, otherShop, randomUUID(), { asOf: AS_OF, shown: true });
      await client.query("COMMIT");
    } finally {
      client.release();
    }
    expect(await prisma.segment.count({ where: { shop: otherShop, size: 0, kind: "timing" } })).toBe(2);
    expect((await timingSegments())["timing:due-to-reorder"]!.size).toBeGreaterThan(0);
  });
});

describe("timing segments in a segmentation run", () => {
  const runShop = `timing-run-${Date.now()}.myshopify.com`;
  const smallShop = `timing-small-${Date.now()}.myshopify.com`;
  const RUN_AS_OF = new Date("2026-11-01T00:00:00Z");

  beforeAll(async () => {
    await seedSyntheticShop(prisma, runShop, { customers: 300, orders: 2400, end: RUN_AS_OF });
    await seedSyntheticShop(prisma, smallShop, { customers: 30, orders: 90, end: RUN_AS_OF });
    for (const target of [runShop, smallShop]) {
      const run = await requestSegmentation({ shop: target, trigger: "merchant" });
      await executeSegmentationRun(run.id, { asOf: RUN_AS_OF });
    }
  }, 120_000);

  it("are stored with the run's scores when it shows predictions, their members by the stored scores", async () => {
    const run = await prisma.segmentationRun.findFirstOrThrow({ where: { shop: runShop } });
    expect(run.predictionsShown).toBe(true);
    const segments = await prisma.segment.findMany({
      where: { shop: runShop, kind: "timing" },
      include: { members: true },
    });
    expect(segments.map((segment) => segment.key).sort()).toEqual(TIMING_SEGMENTS.map((s) => s.key).sort());
    const scores = await prisma.customerScore.findMany({ where: { shop: runShop } });
    const asOf = RUN_AS_OF.getTime();
    const dueByRule = scores
      .filter((score) => {
        const next = score.expectedNextOrderAt?.getTime();
        if (next === undefined) return false;
        if (next >= asOf) return next <= asOf + 14 * DAY;
        return score.averageDaysBetweenOrders !== null && asOf - next < (score.averageDaysBetweenOrders * DAY) / 2;
      })
      .map((score) => score.customerId)
      .sort();
    const slippingByRule = scores
      .filter(
        (s) => s.previousProbabilityAlive !== null && s.previousProbabilityAlive >= 0.5 && s.probabilityAlive! < 0.5,
      )
      .map((score) => score.customerId)
      .sort();
    for (const segment of segments) {
      expect(segment.runId).toBe(run.id);
      expect(segment.active).toBe(true);
      const expected = segment.key === "timing:due-to-reorder" ? dueByRule : slippingByRule;
      expect(segment.members.map((member) => member.customerId).sort()).toEqual(expected);
      expect(segment.size).toBe(expected.length);
    }
  });

  it("are not created for a shop whose predictions are withheld", async () => {
    const run = await prisma.segmentationRun.findFirstOrThrow({ where: { shop: smallShop } });
    expect(run.predictionsShown).toBe(false);
    expect(await prisma.segment.count({ where: { shop: smallShop, kind: "timing" } })).toBe(0);
    expect(await prisma.segment.count({ where: { shop: smallShop, kind: "rfm" } })).toBeGreaterThan(0);
  });
});
