import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

vi.hoisted(() => {
  process.env.SEGMENT_MIN_SIZE = "5";
  delete process.env.LLM_API_KEY;
});

import prisma, { pgPool } from "../../app/db.server";
import {
  containsPattern,
  customerActivity,
  customerGidFromParam,
  customerOrders,
  getCustomerProfile,
  rfmThresholds,
  searchCustomers,
} from "../../app/models/customers.server";
import { scoreFromRank } from "../../app/models/rfm-segments.server";
import { TRAIT_DIMENSIONS } from "../../app/models/segment-traits.server";
import { requestSegmentation } from "../../app/models/segmentation-runs.server";
import { executeSegmentationRun } from "../../app/services/segmentation-run.server";
import { seedSyntheticShop } from "../helpers/segment-data";

/**
 * The customer page's reads and customer search against real Postgres: a
 * synthetic shop scored by a real segmentation run, and a second shop whose
 * customer ids partly coincide with the first one's.
 */

const shop = `customers-${Date.now()}.myshopify.com`;
const otherShop = `customers-other-${Date.now()}.myshopify.com`;
const AS_OF = new Date("2026-11-01T00:00:00Z");
const DAY = 86_400_000;
const gid = (n: number) => `gid://shopify/Customer/${n}`;

beforeAll(async () => {
  await seedSyntheticShop(prisma, shop, { customers: 300, orders: 2400, end: AS_OF });
  await seedSyntheticShop(prisma, otherShop, { customers: 40, orders: 200, end: AS_OF });
  await prisma.customer.createMany({
    data: [
      { shop, id: gid(9001), legacyId: 9001, firstName: "Zoë", lastName: "O'Brien", email: "zoe_obrien@example.org" },
      { shop, id: gid(9002), legacyId: 9002, firstName: "Percy", lastName: "Cent", email: "100%percy@example.org" },
      {
        shop: otherShop,
        id: gid(9003),
        legacyId: 9003,
        firstName: "Zoë",
        lastName: "Elsewhere",
        email: "zoe@other.org",
      },
    ].map((customer) => ({ ...customer, tags: [], shopifyCreatedAt: AS_OF, shopifyUpdatedAt: AS_OF })),
  });
  for (const target of [shop, otherShop]) {
    const run = await requestSegmentation({ shop: target, trigger: "merchant" });
    await executeSegmentationRun(run.id, { asOf: AS_OF });
  }
}, 120_000);

afterAll(async () => {
  await prisma.$disconnect();
  await pgPool.end();
});

describe("customer ids in URLs", () => {
  it("accepts a legacy id or a customer GID, nothing else", () => {
    expect(customerGidFromParam("42")).toBe(gid(42));
    expect(customerGidFromParam("0042")).toBe(gid(42));
    expect(customerGidFromParam("gid://shopify/Customer/42")).toBe(gid(42));
    for (const bad of [undefined, "", "0", "-1", "4.2", "abc", "gid://shopify/Order/42", "42x", "1".repeat(20)]) {
      expect(customerGidFromParam(bad), String(bad)).toBeNull();
    }
  });
});

describe("a customer's profile", () => {
  it("answers not found for another shop's customer and for an unknown id", async () => {
    // Customer 100 exists only in the first shop, 9003 only in the second.
    expect(await getCustomerProfile(shop, gid(100))).not.toBeNull();
    expect(await getCustomerProfile(otherShop, gid(100))).toBeNull();
    expect(await getCustomerProfile(shop, gid(9003))).toBeNull();
    expect(await getCustomerProfile(shop, gid(123456))).toBeNull();
  });

  it("reads the shop's own row when both shops have the customer id", async () => {
    const [here, there] = await Promise.all([getCustomerProfile(shop, gid(1)), getCustomerProfile(otherShop, gid(1))]);
    const orders = (target: string) => prisma.order.count({ where: { shop: target, customerId: gid(1) } });
    expect(here!.score!.frequency).toBe(await orders(shop));
    expect(there!.score!.frequency).toBe(await orders(otherShop));
    expect(here!.score!.frequency).not.toBe(there!.score!.frequency);
  });

  it("derives the score thresholds the scoring applied, recomputed here from the raw orders", async () => {
    const orders = await prisma.order.findMany({ where: { shop, cancelledAt: null, customerId: { not: null } } });
    const perCustomer = new Map<string, { frequency: number; monetary: number; last: number }>();
    for (const order of orders) {
      const entry = perCustomer.get(order.customerId!) ?? { frequency: 0, monetary: 0, last: 0 };
      entry.frequency += 1;
      entry.monetary += Number(order.netRevenue);
      entry.last = Math.max(entry.last, order.processedAt.getTime());
      perCustomer.set(order.customerId!, entry);
    }
    const customers = [...perCustomer.values()].map((c) => ({
      ...c,
      recency: Math.floor((AS_OF.getTime() - c.last) / DAY),
    }));
    const n = customers.length;
    // Strictly worse: a longer time since the last order, fewer orders, less spend.
    const bands = (value: (c: (typeof customers)[number]) => number, worse: (a: number, b: number) => boolean) => {
      const byScore = new Map<number, { min: number; max: number; customers: number }>();
      for (const customer of customers) {
        const score = scoreFromRank(customers.filter((other) => worse(value(other), value(customer))).length, n);
        const band = byScore.get(score) ?? { min: Infinity, max: -Infinity, customers: 0 };
        band.min = Math.min(band.min, value(customer));
        band.max = Math.max(band.max, value(customer));
        band.customers += 1;
        byScore.set(score, band);
      }
      return [...byScore.entries()].sort(([a], [b]) => b - a).map(([score, band]) => ({ score, ...band }));
    };
    const expected = {
      recency: bands(
        (c) => c.recency,
        (a, b) => a > b,
      ),
      frequency: bands(
        (c) => c.frequency,
        (a, b) => a < b,
      ),
      monetary: bands(
        (c) => c.monetary,
        (a, b) => a < b,
      ),
    };
    const thresholds = await rfmThresholds(shop);
    expect(thresholds.recency).toEqual(expected.recency);
    expect(thresholds.frequency).toEqual(expected.frequency);
    expect(thresholds.monetary.map((band) => ({ ...band, min: Number(band.min), max: Number(band.max) }))).toEqual(
      expected.monetary,
    );
    // Enough spread in this shop for every score to be held, each range above the one below.
    expect(thresholds.monetary.map((band) => band.score)).toEqual([5, 4, 3, 2, 1]);
    for (let i = 1; i < thresholds.recency.length; i++) {
      expect(thresholds.recency[i]!.min).toBeGreaterThan(thresholds.recency[i - 1]!.max);
    }

    // A customer's own values sit in the range of their score, on all three measures.
    const profile = (await getCustomerProfile(shop, gid(7)))!;
    const score = profile.score!;
    const bandOf = <T>(list: { score: number; min: T; max: T }[], s: number) => list.find((band) => band.score === s)!;
    expect(score.recencyDays).toBeGreaterThanOrEqual(bandOf(profile.thresholds!.recency, score.rScore).min);
    expect(score.recencyDays).toBeLessThanOrEqual(bandOf(profile.thresholds!.recency, score.rScore).max);
    expect(score.frequency).toBeGreaterThanOrEqual(bandOf(profile.thresholds!.frequency, score.fScore).min);
    expect(score.frequency).toBeLessThanOrEqual(bandOf(profile.thresholds!.frequency, score.fScore).max);
    const m = bandOf(profile.thresholds!.monetary, score.mScore);
    expect(Number(score.monetary)).toBeGreaterThanOrEqual(Number(m.min));
    expect(Number(score.monetary)).toBeLessThanOrEqual(Number(m.max));
    expect(score.recencyDays).toBe(Math.floor((AS_OF.getTime() - perCustomer.get(gid(7))!.last) / DAY));
  });

  it("reuses the thresholds of a run until a score goes, as an erasure removes one", async () => {
    const before = (await getCustomerProfile(shop, gid(8)))!;
    const again = (await getCustomerProfile(shop, gid(9)))!;
    expect(again.thresholds).toBe(before.thresholds);
    expect(before.thresholds).toEqual(await rfmThresholds(shop));
    const erased = await prisma.customerScore.findFirstOrThrow({
      where: { shop, customerId: { notIn: [gid(1), gid(2), gid(3), gid(5), gid(7), gid(8), gid(9)] } },
    });
    await prisma.customerScore.delete({ where: { shop_customerId: { shop, customerId: erased.customerId } } });
    const after = (await getCustomerProfile(shop, gid(8)))!;
    const customers = (t: typeof after.thresholds) => t!.recency.reduce((sum, band) => sum + band.customers, 0);
    expect(customers(after.thresholds)).toBe(customers(before.thresholds) - 1);
    expect(after.thresholds).toEqual(await rfmThresholds(shop));
  });

  it("lists every segment the customer is in with the rule its definition states", async () => {
    const profile = (await getCustomerProfile(shop, gid(3)))!;
    const memberships = await prisma.segmentMember.findMany({
      where: { shop, customerId: gid(3), segment: { active: true } },
      include: { segment: true },
    });
    expect(profile.segments.map((segment) => segment.id).sort()).toEqual(memberships.map((m) => m.segmentId).sort());
    const rfm = profile.segments.filter((segment) => segment.kind === "rfm");
    expect(rfm.map((segment) => segment.key)).toEqual([`rfm:${profile.score!.rfmSegment}`]);
    expect(rfm[0]!.rule).toMatch(/^R /);
    const micro = profile.segments.filter((segment) => segment.kind === "micro" && segment.parentKey === null);
    expect(micro.length).toBeGreaterThan(0);
    for (const segment of micro) {
      const definition = memberships.find((m) => m.segmentId === segment.id)!.segment.definition as {
        dimension: string;
        label: string;
      };
      // The wording is segment-traits.server.ts's, not the page's own.
      expect(segment.rule).toBe(TRAIT_DIMENSIONS[definition.dimension]!.rule(definition.label));
    }
  });

  it("carries the run's prediction gate, and predictions only when the run showed them", async () => {
    const profile = (await getCustomerProfile(shop, gid(1)))!;
    const run = await prisma.segmentationRun.findFirstOrThrow({ where: { shop }, orderBy: { requestedAt: "desc" } });
    expect(profile.run!.predictionGate).toBe(run.predictionGate);
    expect(profile.run!.predictionsShown).toBe(run.predictionsShown);
    expect(profile.run!.predictionGate).toBeTruthy();
    if (run.predictionsShown) expect(profile.score!.probabilityAlive).toBeGreaterThan(0);
    else expect(profile.score!.probabilityAlive).toBeNull();
    const score = profile.score!;
    expect(score.averageDaysBetweenOrders).toBeCloseTo(
      (score.lastOrderAt.getTime() - score.firstOrderAt.getTime()) / DAY / (score.frequency - 1),
      6,
    );
  });

  it("has no score for a customer without orders, and says so with null thresholds", async () => {
    const profile = (await getCustomerProfile(shop, gid(9001)))!;
    expect(profile.customer.lastName).toBe("O'Brien");
    expect(profile.score).toBeNull();
    expect(profile.thresholds).toBeNull();
    expect(profile.segments).toEqual([]);
  });
});

describe("a customer's orders and storefront activity", () => {
  it("lists the shop's orders of the customer, newest first, with item counts", async () => {
    const { orders, total } = await customerOrders(shop, gid(2), 5);
    expect(total).toBe(await prisma.order.count({ where: { shop, customerId: gid(2) } }));
    expect(orders.length).toBe(Math.min(5, total));
    const times = orders.map((order) => order.processedAt.getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));
    // The synthetic shop has one line of quantity 1 per order.
    expect(orders.every((order) => order.items === 1)).toBe(true);
    expect((await customerOrders(otherShop, gid(200))).total).toBe(0);
  });

  it("shows the events of browsers linked to the customer, in this shop only", async () => {
    const at = (minutes: number) => new Date(AS_OF.getTime() - minutes * 60_000);
    await prisma.pixelIdentity.createMany({
      data: [
        { shop, clientId: "browser-a", customerId: gid(5) },
        { shop: otherShop, clientId: "browser-a", customerId: gid(5) },
        { shop: otherShop, clientId: "browser-b", customerId: gid(5) },
      ],
    });
    await prisma.pixelEvent.createMany({
      data: [
        {
          shop,
          clientId: "browser-a",
          eventId: "e1",
          name: "product_viewed",
          occurredAt: at(30),
          data: { productTitle: "Tent" },
        },
        { shop, clientId: "browser-a", eventId: "e2", name: "checkout_completed", occurredAt: at(10) },
        { shop, clientId: "browser-z", eventId: "e3", name: "page_viewed", occurredAt: at(5) },
        { shop: otherShop, clientId: "browser-a", eventId: "e4", name: "page_viewed", occurredAt: at(1) },
        { shop: otherShop, clientId: "browser-b", eventId: "e5", name: "page_viewed", occurredAt: at(2) },
      ],
    });
    const activity = await customerActivity(shop, gid(5));
    expect(activity.events.map((event) => event.eventId)).toEqual(["e2", "e1"]);
    expect(activity.events[1]!.data).toEqual({ productTitle: "Tent" });
    expect(activity).toMatchObject({ total: 2, browsers: 1 });
    expect((await customerActivity(otherShop, gid(5))).events.map((event) => event.eventId)).toEqual(["e4", "e5"]);
    expect(await customerActivity(shop, gid(6))).toEqual({ events: [], total: 0, browsers: 0 });
  });
});

describe("customer search", () => {
  const names = (result: Awaited<ReturnType<typeof searchCustomers>>) =>
    result.customers.map((customer) => `${customer.firstName} ${customer.lastName}`);

  it("finds customers by part of a name or email in any case, never another shop's", async () => {
    expect(names(await searchCustomers(shop, { query: "o'bri", offset: 0, limit: 10 }))).toEqual(["Zoë O'Brien"]);
    expect(names(await searchCustomers(shop, { query: "ZOË", offset: 0, limit: 10 }))).toEqual(["Zoë O'Brien"]);
    expect(names(await searchCustomers(shop, { query: "zoë o'brien", offset: 0, limit: 10 }))).toEqual(["Zoë O'Brien"]);
    expect(names(await searchCustomers(otherShop, { query: "zoë", offset: 0, limit: 10 }))).toEqual(["Zoë Elsewhere"]);
    expect((await searchCustomers(shop, { query: "elsewhere", offset: 0, limit: 10 })).total).toBe(0);
  });

  it("takes LIKE wildcards in the query literally", async () => {
    expect(containsPattern("100%_a\\b")).toBe("%100\\%\\_a\\\\b%");
    expect(names(await searchCustomers(shop, { query: "100%", offset: 0, limit: 10 }))).toEqual(["Percy Cent"]);
    expect(names(await searchCustomers(shop, { query: "_", offset: 0, limit: 10 }))).toEqual(["Zoë O'Brien"]);
  });

  it("finds a customer by legacy id or GID, the exact match first", async () => {
    const byId = await searchCustomers(shop, { query: "25", offset: 0, limit: 5 });
    expect(byId.customers[0]!.id).toBe(gid(25));
    // The rest contain "25" in their name or email (First125, person250@…).
    expect(byId.total).toBeGreaterThan(1);
    const byGid = await searchCustomers(shop, { query: gid(25), offset: 0, limit: 5 });
    expect(byGid.customers.map((customer) => customer.id)).toEqual([gid(25)]);
    expect((await searchCustomers(otherShop, { query: gid(250), offset: 0, limit: 5 })).total).toBe(0);
  });

  it("pages through every match exactly once, with scores joined", async () => {
    const seen: string[] = [];
    let offset: number | null = 0;
    let total = 0;
    while (offset !== null) {
      const page: Awaited<ReturnType<typeof searchCustomers>> = await searchCustomers(shop, {
        query: "@example.com",
        offset,
        limit: 40,
      });
      seen.push(...page.customers.map((customer) => customer.id));
      total = page.total;
      offset = page.nextOffset;
    }
    expect(total).toBe(300);
    expect(new Set(seen).size).toBe(300);
    const all = await searchCustomers(shop, { query: "", offset: 0, limit: 1000 });
    expect(all.total).toBe(302);
    const scored = all.customers.filter((customer) => customer.rfmSegment !== null);
    expect(scored.length).toBe(await prisma.customerScore.count({ where: { shop } }));
  });

  it("can answer a name search from the trigram index", async () => {
    const client = await pgPool.connect();
    try {
      await client.query("BEGIN");
      await client.query("SET LOCAL enable_seqscan = off");
      const { rows } = await client.query<{ "QUERY PLAN": string }>(
        // Without the shop condition, whose own index would win on a table this small.
        `EXPLAIN SELECT id FROM "Customer" c
         WHERE (coalesce(c."firstName", '') || ' ' || coalesce(c."lastName", '') || ' ' || coalesce(c.email, '')) ILIKE $1`,
        [containsPattern("brien")],
      );
      expect(rows.map((row) => row["QUERY PLAN"]).join("\n")).toContain("Customer_search_trgm_idx");
    } finally {
      await client.query("ROLLBACK");
      client.release();
    }
  });
});
