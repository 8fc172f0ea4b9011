import type { Prisma, SegmentSync } from "@prisma/client";
import prisma from "../db.server";
import { enqueueJob } from "./jobs.server";
import { SPLIT_WITHIN_RFM, TRAIT_DIMENSIONS } from "./segment-traits.server";
import { TIMING_SEGMENTS } from "./timing-segments.server";

/**
 * The most tags of its own the app gives one customer (Shopify allows 250):
 * a customer is in one RFM segment, at most one micro-segment per dimension,
 * one per RFM split of a dimension and each timing segment, so pushing every segment reaches
 * this; a customer still carrying tags of segments they left, not pushed
 * since, is not given more.
 */
export const MAX_APP_TAGS_PER_CUSTOMER =
  1 + Object.keys(TRAIT_DIMENSIONS).length + SPLIT_WITHIN_RFM.length + TIMING_SEGMENTS.length;

/**
 * Pushes of a segment to Shopify and the customers this app has tagged, so a
 * later push can remove the tag from those who left the segment.
 */

export type SyncStatus = "queued" | "running" | "succeeded" | "failed";

/** Queues a push of the segment, or returns the one already waiting or running; null when there is no such segment. */
export async function requestSegmentSync(shop: string, segmentId: string): Promise<SegmentSync | null> {
  return prisma.$transaction(async (tx) => {
    const segment = await tx.segment.findFirst({ where: { id: segmentId, shop }, select: { id: true } });
    if (!segment) return null;
    await tx.$queryRaw`SELECT id FROM "Segment" WHERE id = ${segmentId}::uuid FOR UPDATE`;
    const pending = await tx.segmentSync.findFirst({
      where: { segmentId, status: { in: ["queued", "running"] } },
      orderBy: { requestedAt: "desc" },
    });
    if (pending) return pending;
    const sync = await tx.segmentSync.create({ data: { shop, segmentId } });
    await tx.segment.update({ where: { id: segmentId }, data: { syncStatus: "queued", syncError: null } });
    await enqueueJob("segment-sync", { syncId: sync.id }, { shop }, tx);
    return sync;
  });
}

export function getSync(id: string) {
  return prisma.segmentSync.findUnique({ where: { id } });
}

export function getShopSync(shop: string, id: string) {
  return prisma.segmentSync.findFirst({ where: { id, shop } });
}

export function syncsOfSegment(shop: string, segmentId: string, take = 10) {
  return prisma.segmentSync.findMany({ where: { shop, segmentId }, orderBy: { requestedAt: "desc" }, take });
}

/** Updates a push; one deleted meanwhile (shop/redact) is left alone. */
export function updateSync(id: string, data: Prisma.SegmentSyncUpdateManyMutationInput) {
  return prisma.segmentSync.updateMany({ where: { id }, data });
}

/**
 * Who must get the tag (members not yet tagged by this app), who must lose
 * it (tagged by this app, or carrying it in the pulled data, but no longer a
 * member), and the members left untagged because they already carry
 * MAX_APP_TAGS_PER_CUSTOMER tags starting with `appTagPrefix`.
 */
export async function tagChanges(shop: string, segmentId: string, tag: string, appTagPrefix: string) {
  const candidates = await prisma.$queryRaw<{ customerId: string; full: boolean }[]>`
    SELECT m."customerId",
           (SELECT count(*) FROM "Customer" c, unnest(c.tags) AS own(tag)
            WHERE c.shop = ${shop} AND c.id = m."customerId"
              AND starts_with(own.tag, ${appTagPrefix}) AND own.tag <> ${tag}) >= ${MAX_APP_TAGS_PER_CUSTOMER} AS full
    FROM "SegmentMember" m
    WHERE m."segmentId" = ${segmentId}::uuid
      AND NOT EXISTS (SELECT 1 FROM "SegmentTaggedCustomer" t
                      WHERE t."segmentId" = m."segmentId" AND t."customerId" = m."customerId")
    ORDER BY m."customerId"`;
  const toAdd = candidates.filter((row) => !row.full);
  const skipped = candidates.filter((row) => row.full).map((row) => row.customerId);
  const toRemove = await prisma.$queryRaw<{ customerId: string }[]>`
    SELECT "customerId" FROM (
      SELECT t."customerId" FROM "SegmentTaggedCustomer" t WHERE t."segmentId" = ${segmentId}::uuid
      UNION
      SELECT c.id FROM "Customer" c WHERE c.shop = ${shop} AND ${tag} = ANY(c.tags)
    ) tagged
    WHERE NOT EXISTS (SELECT 1 FROM "SegmentMember" m
                      WHERE m."segmentId" = ${segmentId}::uuid AND m."customerId" = tagged."customerId")
    ORDER BY "customerId"`;
  return {
    toAdd: toAdd.map((row) => row.customerId),
    toRemove: toRemove.map((row) => row.customerId),
    skipped,
  };
}

/**
 * Records a batch of tagged customers with the sync's progress, in one
 * transaction, so a retry resumes after it. The pulled customers mirror the
 * change, as the next pull would.
 */
export async function recordTagged(
  sync: { id: string; shop: string; segmentId: string },
  tag: string,
  customerIds: string[],
) {
  await prisma.$transaction([
    prisma.segmentTaggedCustomer.createMany({
      data: customerIds.map((customerId) => ({ shop: sync.shop, segmentId: sync.segmentId, customerId })),
      skipDuplicates: true,
    }),
    prisma.$executeRaw`
      UPDATE "Customer" SET tags = array_append(tags, ${tag})
      WHERE shop = ${sync.shop} AND id = ANY(${customerIds}::text[]) AND NOT (${tag} = ANY(tags))`,
    prisma.segmentSync.update({ where: { id: sync.id }, data: { tagged: { increment: customerIds.length } } }),
  ]);
}

export async function recordUntagged(
  sync: { id: string; shop: string; segmentId: string },
  tag: string,
  customerIds: string[],
) {
  await prisma.$transaction([
    prisma.segmentTaggedCustomer.deleteMany({ where: { segmentId: sync.segmentId, customerId: { in: customerIds } } }),
    prisma.$executeRaw`
      UPDATE "Customer" SET tags = array_remove(tags, ${tag})
      WHERE shop = ${sync.shop} AND id = ANY(${customerIds}::text[])`,
    prisma.segmentSync.update({ where: { id: sync.id }, data: { untagged: { increment: customerIds.length } } }),
  ]);
}

// --- The push state a segment shows.

export function segmentToPush(segmentId: string) {
  return prisma.segment.findUnique({ where: { id: segmentId } });
}

export async function markSegmentPushing(segmentId: string, tag: string) {
  await prisma.segment.updateMany({ where: { id: segmentId }, data: { tag, syncStatus: "running", syncError: null } });
}

export async function markSegmentPushed(segmentId: string, shopifySegmentId: string, at: Date) {
  await prisma.segment.updateMany({
    where: { id: segmentId },
    data: { shopifySegmentId, syncStatus: "succeeded", syncError: null, lastSyncedAt: at },
  });
}

export async function markSegmentPushFailed(segmentId: string, message: string) {
  await prisma.segment.updateMany({ where: { id: segmentId }, data: { syncStatus: "failed", syncError: message } });
}
