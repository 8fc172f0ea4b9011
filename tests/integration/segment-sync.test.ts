import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pgPool } from "../../app/db.server";
import { createPull } from "../../app/models/pulls.server";
import { publishTimingSegments } from "../../app/models/timing-segments.server";
import {
  countTagChanges,
  MAX_APP_TAGS_PER_CUSTOMER,
  requestSegmentSync,
  tagChangesAfter,
} from "../../app/models/segment-syncs.server";
import { bulkTagMutation, tagForSegmentKey } from "../../app/services/segment-sync.server";
import { RUN_BULK_MUTATION, stageVariables, type AdminRequest } from "../../simulator/bulk-mutation-client";
import { simulatedInstall } from "../helpers/installed-shop";
import { startWorker, waitFor, type RunningProcess } from "../helpers/processes";

/**
 * Pushing a segment to the simulated Shopify through the real worker:
 * members get the tag in batches paced by the throttle status, leavers lose
 * it, and the Shopify segment on the tag is created once and then updated.
 * Pushes with more changes than SEGMENT_BULK_TAG_THRESHOLD go out as bulk
 * mutations (staged JSONL upload, bulkOperationRunMutation) instead.
 */

type Install = Awaited<ReturnType<typeof simulatedInstall>>;
const SEGMENT_KEY = "micro:discount:full-price";
const TAG = "microsegment-discount-full-price";

let install: Install;
let worker: RunningProcess;

const gidNumber = (gid: string) => Number(gid.split("/").pop());

/** Customers carrying the tag in the simulated store, as GIDs. */
function taggedInShopify(tag = TAG): string[] {
  const data = install.simulator.runtime(install.shop)!.data;
  const tagged: string[] = [];
  for (let i = 0; i < data.customerCount; i++) {
    const customer = data.customer(i)!;
    if (customer.tags.includes(tag)) tagged.push(`gid://shopify/Customer/${customer.id}`);
  }
  return tagged.sort();
}

async function members(segmentId: string) {
  const rows = await install.prisma.segmentMember.findMany({ where: { segmentId }, select: { customerId: true } });
  return rows.map((row) => row.customerId).sort();
}

/** The bulk mutation operations the simulated store ran. */
function bulkMutations() {
  return [...install.simulator.runtime(install.shop)!.bulkOperations.values()].filter((op) => op.type === "MUTATION");
}

/**
 * Gives the tag to the first customer who is not a member, in Shopify and in
 * the pulled data, as a merchant might by hand; returns that customer.
 */
async function tagANonMember(members: string[], tag: string) {
  const customerId = (
    await install.prisma.customer.findFirstOrThrow({
      where: { shop: install.shop, id: { notIn: members } },
      orderBy: { id: "asc" },
    })
  ).id;
  const data = install.simulator.runtime(install.shop)!.data;
  const index = data.customerIndexOf(gidNumber(customerId));
  data.setCustomerTags(index, [...data.customer(index)!.tags, tag]);
  await install.prisma.customer.update({
    where: { shop_id: { shop: install.shop, id: customerId } },
    data: { tags: { push: tag } },
  });
  return customerId;
}

async function push(segmentId: string) {
  const sync = await requestSegmentSync(install.shop, segmentId);
  expect(sync).not.toBeNull();
  return waitFor(
    async () => {
      const current = await install.prisma.segmentSync.findUniqueOrThrow({ where: { id: sync!.id } });
      return ["succeeded", "failed"].includes(current.status) ? current : undefined;
    },
    60_000,
    "the push",
  );
}

beforeAll(async () => {
  // A small bucket: 50 tag mutations in one request cost most of it, so the pushes must pace themselves.
  install = await simulatedInstall({ size: "small", bucketSize: 150, restoreRate: 50 });
  worker = await startWorker(install.env);
  await createPull({ shop: install.shop, kind: "full", trigger: "merchant" });
  await waitFor(
    () =>
      install.prisma.segmentationRun.findFirst({ where: { shop: install.shop, trigger: "pull", status: "succeeded" } }),
    90_000,
    "the segmentation after the pull",
  );
  // The run's customer metafields go out in the same queue as pushes; the pushes below start on a full bucket.
  await waitFor(
    () =>
      install.prisma.metafieldSync.findFirst({
        where: { shop: install.shop, status: { in: ["succeeded", "failed"] } },
      }),
    90_000,
    "the metafield sync after the segmentation",
  );
  // 150 points restore at 50 a second: in 3 s the bucket is full again.
  await new Promise((resolve) => setTimeout(resolve, 3000));
});

afterAll(async () => {
  await worker?.stop();
  await install?.close();
  await pgPool.end();
});

describe("pushing a segment to Shopify", () => {
  it("tags every member and creates a Shopify segment on the tag", async () => {
    const segment = await install.prisma.segment.findUniqueOrThrow({
      where: { shop_key: { shop: install.shop, key: SEGMENT_KEY } },
    });
    const expected = await members(segment.id);
    expect(expected.length).toBeGreaterThan(150);
    const throttledBefore = install.simulator.runtime(install.shop)!.counters.throttled;

    const sync = await push(segment.id);
    expect(sync).toMatchObject({ status: "succeeded", tagged: expected.length, untagged: 0, total: expected.length });
    expect(taggedInShopify()).toEqual(expected);
    expect(install.simulator.runtime(install.shop)!.counters.throttled).toBe(throttledBefore);
    expect(bulkMutations()).toEqual([]);

    const after = await install.prisma.segment.findUniqueOrThrow({ where: { id: segment.id } });
    expect(after).toMatchObject({ tag: TAG, syncStatus: "succeeded" });
    const shopifySegments = [...install.simulator.runtime(install.shop)!.segments.values()];
    expect(shopifySegments).toHaveLength(1);
    expect(shopifySegments[0]).toMatchObject({
      id: after.shopifySegmentId,
      name: `MicroSegment: ${after.name}`,
      query: `customer_tags CONTAINS '${TAG}'`,
    });
    const recorded = await install.prisma.segmentTaggedCustomer.count({ where: { segmentId: segment.id } });
    expect(recorded).toBe(expected.length);
  });

  it("removes the tag from customers who left and updates the same Shopify segment", async () => {
    const segment = await install.prisma.segment.findUniqueOrThrow({
      where: { shop_key: { shop: install.shop, key: SEGMENT_KEY } },
    });
    const before = await members(segment.id);
    const leavers = before.slice(0, 3);
    // As a later run would: three customers leave, and the segment gets a new name.
    await install.prisma.segmentMember.deleteMany({ where: { segmentId: segment.id, customerId: { in: leavers } } });
    await install.prisma.segment.update({ where: { id: segment.id }, data: { name: "Discount lovers" } });
    // A customer carrying the tag in Shopify (and in the pulled data) without being a member loses it too.
    const stray = await tagANonMember(before, TAG);
    const editedBefore = [...install.simulator.runtime(install.shop)!.segments.values()][0]!.lastEditDate;

    const sync = await push(segment.id);
    expect(sync).toMatchObject({ status: "succeeded", tagged: 0, untagged: 4 });
    expect(taggedInShopify()).toEqual(before.slice(3));
    const shopifySegments = [...install.simulator.runtime(install.shop)!.segments.values()];
    expect(shopifySegments).toHaveLength(1);
    expect(shopifySegments[0]!.name).toBe("MicroSegment: Discount lovers");
    expect(shopifySegments[0]!.lastEditDate >= editedBefore).toBe(true);
    expect((await install.prisma.segment.findUniqueOrThrow({ where: { id: segment.id } })).shopifySegmentId).toBe(
      shopifySegments[0]!.id,
    );
    const strayRow = await install.prisma.customer.findUniqueOrThrow({
      where: { shop_id: { shop: install.shop, id: stray } },
    });
    expect(strayRow.tags).not.toContain(TAG);
  });

  it("creates the Shopify segment again when the merchant deleted it", async () => {
    const segment = await install.prisma.segment.findUniqueOrThrow({
      where: { shop_key: { shop: install.shop, key: SEGMENT_KEY } },
    });
    install.simulator.runtime(install.shop)!.segments.clear();
    const sync = await push(segment.id);
    expect(sync).toMatchObject({ status: "succeeded", tagged: 0, untagged: 0 });
    const shopifySegments = [...install.simulator.runtime(install.shop)!.segments.values()];
    expect(shopifySegments).toHaveLength(1);
    expect((await install.prisma.segment.findUniqueOrThrow({ where: { id: segment.id } })).shopifySegmentId).toBe(
      shopifySegments[0]!.id,
    );
  });
});

describe("pushing a segment above SEGMENT_BULK_TAG_THRESHOLD", () => {
  const THRESHOLD = 40;
  let segmentId: string;
  let tag: string;

  beforeAll(async () => {
    await worker.stop();
    worker = await startWorker({ ...install.env, SEGMENT_BULK_TAG_THRESHOLD: String(THRESHOLD) });
    const segment = await install.prisma.segment.findFirstOrThrow({
      where: { shop: install.shop, key: { not: SEGMENT_KEY } },
      orderBy: { size: "desc" },
    });
    expect(segment.size).toBeGreaterThan(THRESHOLD + 60);
    segmentId = segment.id;
    tag = tagForSegmentKey(segment.key);
  });

  it("tags every member with one bulk tagsAdd mutation", async () => {
    const expected = await members(segmentId);
    const requestsBefore = install.simulator.runtime(install.shop)!.counters.requests;

    const sync = await push(segmentId);
    expect(sync).toMatchObject({ status: "succeeded", tagged: expected.length, untagged: 0, total: expected.length });
    expect(taggedInShopify(tag)).toEqual(expected);
    const operations = bulkMutations();
    expect(operations).toHaveLength(1);
    expect(operations[0]).toMatchObject({ status: "COMPLETED", objectCount: expected.length });
    expect(operations[0]!.query).toContain("tagsAdd(id: $id, tags: $tags)");
    // Staging, starting, polling and the Shopify segment: far fewer requests than batches of 50 would take.
    expect(install.simulator.runtime(install.shop)!.counters.requests - requestsBefore).toBeLessThan(
      expected.length / 50 + 40,
    );
    const recorded = await install.prisma.segmentTaggedCustomer.findMany({ where: { segmentId } });
    expect(recorded.map((row) => row.customerId).sort()).toEqual(expected);
    const pulled = await install.prisma.customer.count({ where: { shop: install.shop, tags: { has: tag } } });
    expect(pulled).toBe(expected.length);
  });

  it("removes the tag from leavers with a bulk tagsRemove mutation on the next push", async () => {
    const before = await members(segmentId);
    const leavers = before.slice(0, THRESHOLD + 5);
    await install.prisma.segmentMember.deleteMany({ where: { segmentId, customerId: { in: leavers } } });
    await tagANonMember(before, tag);

    const sync = await push(segmentId);
    expect(sync).toMatchObject({ status: "succeeded", tagged: 0, untagged: leavers.length + 1 });
    expect(taggedInShopify(tag)).toEqual(before.slice(leavers.length));
    const operations = bulkMutations();
    expect(operations).toHaveLength(2);
    expect(operations[1]).toMatchObject({ status: "COMPLETED", objectCount: leavers.length + 1 });
    expect(operations[1]!.query).toContain("tagsRemove(id: $id, tags: $tags)");
    expect(await install.prisma.segmentTaggedCustomer.count({ where: { segmentId } })).toBe(
      before.length - leavers.length,
    );
    const pulled = await install.prisma.customer.count({ where: { shop: install.shop, tags: { has: tag } } });
    expect(pulled).toBe(before.length - leavers.length);
  });

  it("stays batched when the changes are below the threshold", async () => {
    const before = await members(segmentId);
    await install.prisma.segmentMember.deleteMany({ where: { segmentId, customerId: { in: before.slice(0, 3) } } });
    const sync = await push(segmentId);
    expect(sync).toMatchObject({ status: "succeeded", tagged: 0, untagged: 3 });
    expect(taggedInShopify(tag)).toEqual(before.slice(3));
    expect(bulkMutations()).toHaveLength(2);
  });

  it("records the results of a bulk operation that failed midway, and the retry tags the rest", async () => {
    const before = await members(segmentId);
    const formerMembers = (await install.prisma.segmentTaggedCustomer.findMany({ where: { segmentId } })).map(
      (row) => row.customerId,
    );
    const returning = (
      await install.prisma.customer.findMany({
        where: { shop: install.shop, id: { notIn: [...before, ...formerMembers] } },
        orderBy: { id: "asc" },
        take: THRESHOLD + 8,
      })
    ).map((customer) => customer.id);
    await install.prisma.segmentMember.createMany({
      data: returning.map((customerId) => ({ segmentId, shop: install.shop, customerId })),
    });
    install.simulator
      .runtime(install.shop)!
      .failNextBulkOperation({ afterObjects: 20, errorCode: "INTERNAL_SERVER_ERROR" });

    const operationsBefore = bulkMutations().length;
    const sync = await push(segmentId);
    // The retry's total counts what the failed attempt tagged: progress never passes it.
    expect(sync).toMatchObject({ status: "succeeded", tagged: returning.length, untagged: 0, total: returning.length });
    const [failed, ...later] = bulkMutations().slice(operationsBefore);
    expect(failed).toMatchObject({ status: "FAILED", objectCount: 20 });
    // The customers the failed operation reached were recorded from its partial results, not sent again.
    for (const operation of later) expect(operation.objectCount).toBeLessThanOrEqual(returning.length - 20);
    expect(taggedInShopify(tag)).toEqual([...before, ...returning].sort());
    expect(await install.prisma.segmentTaggedCustomer.count({ where: { segmentId } })).toBe(
      before.length + returning.length,
    );
  });

  it("takes up the bulk operation an earlier attempt of the push started instead of starting another", async () => {
    await worker.stop();
    const before = await members(segmentId);
    const leavers = before.slice(0, THRESHOLD + 5);
    await install.prisma.segmentMember.deleteMany({ where: { segmentId, customerId: { in: leavers } } });
    const queued = (await requestSegmentSync(install.shop, segmentId))!;
    // As if an attempt of this push had started the operation when its worker stopped.
    const runtime = install.simulator.runtime(install.shop)!;
    const request: AdminRequest = (query, variables) => runtime.executeAdmin(query, variables);
    const { key } = await stageVariables(
      request,
      leavers.map((id) => ({ id, tags: [tag] })),
    );
    const started = await request(RUN_BULK_MUTATION, { mutation: bulkTagMutation("tagsRemove", queued.id), path: key });
    expect(started.data).toMatchObject({ bulkOperationRunMutation: { userErrors: [] } });
    const operationsBefore = bulkMutations().length;

    worker = await startWorker({ ...install.env, SEGMENT_BULK_TAG_THRESHOLD: String(THRESHOLD) });
    const sync = await push(segmentId);
    expect(sync).toMatchObject({ id: queued.id, status: "succeeded", tagged: 0, untagged: leavers.length });
    expect(bulkMutations()).toHaveLength(operationsBefore);
    expect(taggedInShopify(tag)).toEqual(before.slice(leavers.length));
    expect(await install.prisma.segmentTaggedCustomer.count({ where: { segmentId } })).toBe(
      before.length - leavers.length,
    );
  });
  it("reads the customers a window at a time and sends more than BULK_MUTATION_FILE_MAX_BYTES as several files", async () => {
    const FILE_BYTES = 2048;
    await worker.stop();
    worker = await startWorker({
      ...install.env,
      SEGMENT_BULK_TAG_THRESHOLD: String(THRESHOLD),
      BULK_MUTATION_FILE_MAX_BYTES: String(FILE_BYTES),
    });
    const segment = await install.prisma.segment.findFirstOrThrow({
      where: { shop: install.shop, id: { not: segmentId }, key: { not: SEGMENT_KEY }, tag: null, size: { gt: 100 } },
      orderBy: { size: "desc" },
    });
    const segmentTag = tagForSegmentKey(segment.key);
    const expected = await members(segment.id);

    // Windows of 7 in id order hold every member to tag once, and the counts agree with them.
    const scope = { shop: install.shop, segmentId: segment.id, tag: segmentTag, appTagPrefix: "microsegment-" };
    const windows: string[][] = [];
    for (let after = ""; ;) {
      const window = await tagChangesAfter(scope, "add", after, 7);
      if (window.length === 0) break;
      windows.push(window);
      after = window.at(-1)!;
    }
    expect(windows.slice(0, -1).every((window) => window.length === 7)).toBe(true);
    expect(windows.flat()).toEqual(expected);
    expect(await countTagChanges(scope)).toEqual({ toAdd: expected.length, toRemove: 0, skipped: 0 });

    const runtime = install.simulator.runtime(install.shop)!;
    const operationsBefore = bulkMutations().length;
    const uploadsBefore = runtime.uploadedFileSizes().length;
    const sync = await push(segment.id);
    expect(sync).toMatchObject({ status: "succeeded", tagged: expected.length, total: expected.length });
    expect(taggedInShopify(segmentTag)).toEqual(expected);
    const operations = bulkMutations().slice(operationsBefore);
    // A line is some 75 bytes: 2 kB files hold about 27 customers each.
    expect(operations.length).toBeGreaterThanOrEqual(Math.ceil(expected.length / 30));
    for (const operation of operations) expect(operation.status).toBe("COMPLETED");
    expect(operations.reduce((sum, operation) => sum + operation.objectCount, 0)).toBe(expected.length);
    const uploads = runtime.uploadedFileSizes().slice(uploadsBefore);
    expect(uploads).toHaveLength(operations.length);
    for (const size of uploads) expect(size).toBeLessThanOrEqual(FILE_BYTES);
    expect(await install.prisma.segmentTaggedCustomer.count({ where: { segmentId: segment.id } })).toBe(
      expected.length,
    );
  });
});

describe("pushing a timing segment", () => {
  it("tags its members and creates its Shopify segment like any other segment", async () => {
    const shop = install.shop;
    // Five customers whose next order is due in three days, as a run's predictions would say.
    const due = (
      await install.prisma.customerScore.findMany({ where: { shop }, orderBy: { customerId: "asc" }, take: 5 })
    ).map((score) => score.customerId);
    await install.prisma.customerScore.updateMany({
      where: { shop, customerId: { in: due } },
      data: { expectedNextOrderAt: new Date(Date.now() + 3 * 86_400_000) },
    });
    const run = await install.prisma.segmentationRun.findFirstOrThrow({
      where: { shop, status: "succeeded" },
      orderBy: { requestedAt: "desc" },
    });
    const client = await pgPool.connect();
    try {
      await client.query("BEGIN");
      await publishTimingSegments(client, shop, run.id, { asOf: new Date(), shown: true });
      await client.query("COMMIT");
    } finally {
      client.release();
    }
    const segment = await install.prisma.segment.findUniqueOrThrow({
      where: { shop_key: { shop, key: "timing:due-to-reorder" } },
    });
    const expected = await members(segment.id);
    expect(expected).toEqual(expect.arrayContaining(due));

    const sync = await push(segment.id);
    expect(sync).toMatchObject({ status: "succeeded", tagged: expected.length, untagged: 0 });
    const tag = tagForSegmentKey(segment.key);
    expect(tag).toBe("microsegment-timing-due-to-reorder");
    expect(taggedInShopify(tag)).toEqual(expected);
    const after = await install.prisma.segment.findUniqueOrThrow({ where: { id: segment.id } });
    const inShopify = [...install.simulator.runtime(shop)!.segments.values()].find(
      (candidate) => candidate.id === after.shopifySegmentId,
    );
    expect(inShopify).toMatchObject({ name: "MicroSegment: Due to reorder", query: `customer_tags CONTAINS '${tag}'` });
  });
});

describe("the tags of this app on one customer", () => {
  /** The tags of this app each customer of the simulated store carries. */
  function appTagsInShopify() {
    const data = install.simulator.runtime(install.shop)!.data;
    const counts = new Map<string, number>();
    for (let i = 0; i < data.customerCount; i++) {
      const customer = data.customer(i)!;
      counts.set(
        `gid://shopify/Customer/${customer.id}`,
        customer.tags.filter((tag) => tag.startsWith("microsegment-")).length,
      );
    }
    return counts;
  }

  it("stay within one per segment a customer can be in, however many segments are pushed", async () => {
    // One RFM segment, and at most one micro-segment per dimension and per RFM split of a dimension.
    const [{ most }] = await install.prisma.$queryRaw<[{ most: number }]>`
      SELECT max(n)::int AS most FROM (
        SELECT count(*) AS n FROM "SegmentMember" WHERE shop = ${install.shop} GROUP BY "customerId") per_customer`;
    expect(most).toBeGreaterThan(3);
    expect(most).toBeLessThanOrEqual(MAX_APP_TAGS_PER_CUSTOMER);
    expect(MAX_APP_TAGS_PER_CUSTOMER).toBeLessThan(250 / 10);
  });

  it("are never more than MAX_APP_TAGS_PER_CUSTOMER: a customer full of stale ones is left untagged", async () => {
    const segment = await install.prisma.segment.findFirstOrThrow({
      where: { shop: install.shop, active: true, syncStatus: null, size: { gte: 3 } },
      orderBy: { size: "asc" },
    });
    const segmentTag = tagForSegmentKey(segment.key);
    const expected = await members(segment.id);
    const [full, ...others] = expected;
    const data = install.simulator.runtime(install.shop)!.data;
    const index = data.customerIndexOf(gidNumber(full!));
    // Tags of segments the customer left long ago, never pushed since, as an older version might have left them:
    // with the app's tags earlier pushes gave them, as many as a customer can carry.
    const appTagsBefore = data.customer(index)!.tags.filter((tag) => tag.startsWith("microsegment-")).length;
    const stale = Array.from(
      { length: MAX_APP_TAGS_PER_CUSTOMER - appTagsBefore },
      (_, i) => `microsegment-stale-${i}`,
    );
    const tags = [...data.customer(index)!.tags, ...stale];
    data.setCustomerTags(index, tags);
    // The app's own copy as a pull would bring it: the tags the customer carries in Shopify.
    await install.prisma.customer.update({ where: { shop_id: { shop: install.shop, id: full! } }, data: { tags } });

    const sync = await push(segment.id);
    expect(sync).toMatchObject({ status: "succeeded", tagged: others.length, skipped: 1 });
    expect(taggedInShopify(segmentTag)).toEqual(others);
    const counts = appTagsInShopify();
    expect(counts.get(full!)).toBe(MAX_APP_TAGS_PER_CUSTOMER);
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(MAX_APP_TAGS_PER_CUSTOMER);
  });
});
