import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPull } from "../../app/models/pulls.server";
import { requestSegmentSync } from "../../app/models/segment-syncs.server";
import { simulatedInstall } from "../helpers/installed-shop";
import { startWorker, waitFor, type RunningProcess } from "../helpers/processes";

/**
 * Pushing a segment to the simulated Shopify through the real worker:
 * members get the tag in batches paced by the throttle status, leavers lose
 * it, and the Shopify segment on the tag is created once and then updated.
 */

type Install = Awaited<ReturnType<typeof simulatedInstall>>;
const SEGMENT_KEY = "micro:discount:full-price";
const TAG = "microsegment-discount-full-price";

let install: Install;
let worker: RunningProcess;

const gidNumber = (gid: string) => Number(gid.split("/").pop());

/** Customers carrying the tag in the simulated store, as GIDs. */
function taggedInShopify(): string[] {
  const data = install.simulator.runtime(install.shop)!.data;
  const tagged: string[] = [];
  for (let i = 0; i < data.customerCount; i++) {
    const customer = data.customer(i)!;
    if (customer.tags.includes(TAG)) tagged.push(`gid://shopify/Customer/${customer.id}`);
  }
  return tagged.sort();
}

async function members(segmentId: string) {
  const rows = await install.prisma.segmentMember.findMany({ where: { segmentId }, select: { customerId: true } });
  return rows.map((row) => row.customerId).sort();
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
});

afterAll(async () => {
  await worker?.stop();
  await install?.close();
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
    const stray = (
      await install.prisma.customer.findFirstOrThrow({
        where: { shop: install.shop, id: { notIn: before } },
        orderBy: { id: "asc" },
      })
    ).id;
    const data = install.simulator.runtime(install.shop)!.data;
    const strayIndex = data.customerIndexOf(gidNumber(stray));
    data.setCustomerTags(strayIndex, [...data.customer(strayIndex)!.tags, TAG]);
    await install.prisma.customer.update({
      where: { shop_id: { shop: install.shop, id: stray } },
      data: { tags: { push: TAG } },
    });
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
