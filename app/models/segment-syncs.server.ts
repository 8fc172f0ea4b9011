import { Prisma, type SegmentSync } from "@prisma/client";
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

/** Who a push changes: "add" gives members the tag, "remove" takes it from those who left. */
export type TagChange = "add" | "remove";

export interface TagScope {
  shop: string;
  segmentId: string;
  tag: string;
  /** What every tag of this app starts with. */
  appTagPrefix: string;
}

/** Whether the member `m` already carries MAX_APP_TAGS_PER_CUSTOMER of this app's other tags. */
const fullOfAppTags = (scope: TagScope) => Prisma.sql`
  (SELECT count(*) FROM "Customer" c, unnest(c.tags) AS own(tag)
   WHERE c.shop = ${scope.shop} AND c.id = m."customerId"
     AND starts_with(own.tag, ${scope.appTagPrefix}) AND own.tag <> ${scope.tag}) >= ${MAX_APP_TAGS_PER_CUSTOMER}`;

/** Members not yet tagged by this app, among those `range` selects. */
const untaggedMembers = (scope: TagScope, range: Prisma.Sql) => Prisma.sql`
  FROM "SegmentMember" m
  WHERE m."segmentId" = ${scope.segmentId}::uuid AND ${range}
    AND NOT EXISTS (SELECT 1 FROM "SegmentTaggedCustomer" t
                    WHERE t."segmentId" = m."segmentId" AND t."customerId" = m."customerId")`;

const notAMember = (scope: TagScope, customerId: Prisma.Sql) => Prisma.sql`
  NOT EXISTS (SELECT 1 FROM "SegmentMember" m WHERE m."segmentId" = ${scope.segmentId}::uuid AND m."customerId" = ${customerId})`;

/**
 * Who must lose the tag: customers this app tagged, or carrying the tag in the pulled data, who are no longer
 * members; each source read in id order, so that a window of them reads only its own rows.
 */
const leaverSources = (scope: TagScope, after: string, ids: string[] | null, limit: number | null) => {
  const tagged = ids ? Prisma.sql`t."customerId" = ANY(${ids}::text[])` : Prisma.sql`t."customerId" > ${after}`;
  const pulled = ids ? Prisma.sql`c.id = ANY(${ids}::text[])` : Prisma.sql`c.id > ${after}`;
  const take = limit === null ? Prisma.empty : Prisma.sql`LIMIT ${limit}`;
  return Prisma.sql`
    (SELECT t."customerId" FROM "SegmentTaggedCustomer" t
     WHERE t."segmentId" = ${scope.segmentId}::uuid AND ${tagged} AND ${notAMember(scope, Prisma.sql`t."customerId"`)}
     ORDER BY t."customerId" ${take})
    UNION
    (SELECT c.id AS "customerId" FROM "Customer" c
     WHERE c.shop = ${scope.shop} AND ${pulled} AND ${scope.tag} = ANY(c.tags) AND ${notAMember(scope, Prisma.sql`c.id`)}
     ORDER BY c.id ${take})`;
};

/**
 * How many customers a push changes: members to tag, leavers to untag, and members left untagged because they
 * already carry MAX_APP_TAGS_PER_CUSTOMER of this app's tags.
 */
export async function countTagChanges(scope: TagScope) {
  const [members] = await prisma.$queryRaw<{ toAdd: number; skipped: number }[]>`
    SELECT (count(*) FILTER (WHERE NOT "isFull"))::int AS "toAdd", (count(*) FILTER (WHERE "isFull"))::int AS skipped
    FROM (SELECT ${fullOfAppTags(scope)} AS "isFull" ${untaggedMembers(scope, Prisma.sql`true`)}) AS candidates`;
  const [leavers] = await prisma.$queryRaw<{ toRemove: number }[]>`
    SELECT count(*)::int AS "toRemove" FROM (${leaverSources(scope, "", null, null)}) AS leavers`;
  return { toAdd: members!.toAdd, toRemove: leavers!.toRemove, skipped: members!.skipped };
}

/** The next `limit` customers after `afterCustomer`, in id order, that the push changes this way. */
export async function tagChangesAfter(
  scope: TagScope,
  change: TagChange,
  afterCustomer: string,
  limit: number,
): Promise<string[]> {
  if (change === "add") {
    const rows = await prisma.$queryRaw<{ customerId: string }[]>`
      SELECT m."customerId" ${untaggedMembers(scope, Prisma.sql`m."customerId" > ${afterCustomer}`)}
        AND NOT ${fullOfAppTags(scope)}
      ORDER BY m."customerId" LIMIT ${limit}`;
    return rows.map((row) => row.customerId);
  }
  // Each source's first `limit` hold the union's first `limit`.
  const rows = await prisma.$queryRaw<{ customerId: string }[]>`
    SELECT "customerId" FROM (${leaverSources(scope, afterCustomer, null, limit)}) AS leavers
    ORDER BY "customerId" LIMIT ${limit}`;
  return rows.map((row) => row.customerId);
}

/** Which of these customers the push still has to change this way (one recorded since no longer is). */
export async function stillToChange(scope: TagScope, change: TagChange, customerIds: string[]): Promise<Set<string>> {
  if (customerIds.length === 0) return new Set();
  if (change === "add") {
    const rows = await prisma.$queryRaw<{ customerId: string }[]>`
      SELECT m."customerId" ${untaggedMembers(scope, Prisma.sql`m."customerId" = ANY(${customerIds}::text[])`)}
        AND NOT ${fullOfAppTags(scope)}`;
    return new Set(rows.map((row) => row.customerId));
  }
  const rows = await prisma.$queryRaw<{ customerId: string }[]>`${leaverSources(scope, "", customerIds, null)}`;
  return new Set(rows.map((row) => row.customerId));
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
