import { createHash } from "node:crypto";
import { Prisma } from "@prisma/client";
import prisma from "../db.server";
import { deleteWaitingJobsOfShop } from "./jobs.server";
import { installState } from "./shop.server";

/**
 * The privacy (GDPR) obligations: hand over what the app holds about a
 * customer, erase a customer, erase a shop. Tables added later that hold
 * shop or customer data register here; a test fails when one is forgotten.
 */

/** Every table with a "shop" column, children before parents. */
export const SHOP_SCOPED_TABLES = [
  "PixelEvent",
  "PixelIdentity",
  "PixelIdentityClaim",
  "PixelConnection",
  // AI inputs are segment aggregates and product data, never customer personal data: customers/redact has nothing here.
  "ProductEnrichment",
  "AiCacheEntry",
  "AiCall",
  "SegmentMember",
  "SegmentTaggedCustomer",
  "SegmentSync",
  "Segment",
  "CustomerMetafieldValue",
  "MetafieldSync",
  "CustomerScore",
  "SegmentationRun",
  "OrderLineItem",
  "OrderTransaction",
  "Order",
  "ProductVariant",
  "Product",
  "Customer",
  "DataPullStep",
  "DataPull",
  "DataRequest",
  "WebhookDelivery",
  "Session",
  "RedactionRecord",
] as const;

const hash = (value: string) => createHash("sha256").update(value).digest("hex");

export interface CustomerSubject {
  shop: string;
  customerId: number;
  email?: string | null;
  phone?: string | null;
  ordersToRedact?: number[];
}

const customerGid = (id: number) => `gid://shopify/Customer/${id}`;

/** The pixel client ids linked to the customer: their storefront browsing, before and after login. */
async function pixelClientsOf(tx: Prisma.TransactionClient, shop: string, customerId: string) {
  const identities = await tx.pixelIdentity.findMany({ where: { shop, customerId }, select: { clientId: true } });
  return identities.map((identity) => identity.clientId);
}

async function ordersOf(tx: Prisma.TransactionClient, subject: CustomerSubject) {
  const orderGids = (subject.ordersToRedact ?? []).map((id) => `gid://shopify/Order/${id}`);
  const orders = await tx.order.findMany({
    where: {
      shop: subject.shop,
      OR: [
        { customerId: customerGid(subject.customerId) },
        { id: { in: orderGids } },
        ...(subject.email ? [{ email: { equals: subject.email, mode: "insensitive" as const } }] : []),
      ],
    },
    select: { id: true },
  });
  return orders.map((order) => order.id);
}

/** customers/data_request: everything the app holds about the customer, as one JSON document. */
export async function buildCustomerExport(subject: CustomerSubject) {
  return prisma.$transaction(async (tx) => {
    const orderIds = await ordersOf(tx, subject);
    const clientIds = await pixelClientsOf(tx, subject.shop, customerGid(subject.customerId));
    const [customer, orders, lineItems, transactions, pixelEvents, score, memberships] = await Promise.all([
      tx.customer.findUnique({ where: { shop_id: { shop: subject.shop, id: customerGid(subject.customerId) } } }),
      tx.order.findMany({ where: { shop: subject.shop, id: { in: orderIds } }, orderBy: { processedAt: "asc" } }),
      tx.orderLineItem.findMany({ where: { shop: subject.shop, orderId: { in: orderIds } } }),
      tx.orderTransaction.findMany({ where: { shop: subject.shop, orderId: { in: orderIds } } }),
      tx.pixelEvent.findMany({
        where: { shop: subject.shop, clientId: { in: clientIds } },
        orderBy: { occurredAt: "asc" },
      }),
      tx.customerScore.findUnique({
        where: { shop_customerId: { shop: subject.shop, customerId: customerGid(subject.customerId) } },
      }),
      tx.segmentMember.findMany({
        where: { shop: subject.shop, customerId: customerGid(subject.customerId) },
        select: { segment: { select: { key: true, kind: true, name: true, description: true, tag: true } } },
      }),
    ]);
    return {
      generatedAt: new Date().toISOString(),
      shop: subject.shop,
      customer,
      orders: orders.map((order) => ({
        ...order,
        lineItems: lineItems.filter((item) => item.orderId === order.id),
        transactions: transactions.filter((transaction) => transaction.orderId === order.id),
      })),
      pixelClientIds: clientIds,
      pixelEvents,
      // Filled in as the features that hold such data exist: AI outputs.
      segmentMemberships: {
        segments: memberships.map((membership) => membership.segment),
        // RFM values and scores, and predicted orders and spend when the shop gets predictions.
        score,
      },
      aiOutputs: [],
    };
  });
}

/**
 * customers/redact: erase the customer's personal data everywhere. Orders
 * stay for aggregate statistics with every personal field and link removed.
 */
export async function redactCustomer(subject: CustomerSubject) {
  const gid = customerGid(subject.customerId);
  return prisma.$transaction(async (tx) => {
    const orderIds = await ordersOf(tx, subject);
    let rows = 0;
    rows += (await tx.customer.deleteMany({ where: { shop: subject.shop, id: gid } })).count;
    rows += (
      await tx.order.updateMany({
        where: { shop: subject.shop, id: { in: orderIds } },
        data: {
          customerId: null,
          email: null,
          phone: null,
          shippingName: null,
          shippingAddress1: null,
          shippingCity: null,
          shippingZip: null,
          shippingCountry: null,
        },
      })
    ).count;
    rows += (await tx.dataRequest.deleteMany({ where: { shop: subject.shop, customerId: gid } })).count;
    const clientIds = await pixelClientsOf(tx, subject.shop, gid);
    rows += (
      await tx.pixelEvent.deleteMany({
        where: {
          shop: subject.shop,
          OR: [
            { clientId: { in: clientIds } },
            { data: { path: ["customerId"], equals: gid } },
            ...orderIds.map((orderId) => ({ data: { path: ["orderId"], equals: orderId } })),
          ],
        },
      })
    ).count;
    rows += (await tx.pixelIdentity.deleteMany({ where: { shop: subject.shop, customerId: gid } })).count;
    rows += (
      await tx.pixelIdentityClaim.deleteMany({
        where: { shop: subject.shop, OR: [{ customerId: gid }, { orderId: { in: orderIds } }] },
      })
    ).count;
    rows += (await tx.customerScore.deleteMany({ where: { shop: subject.shop, customerId: gid } })).count;
    rows += (await tx.segmentMember.deleteMany({ where: { shop: subject.shop, customerId: gid } })).count;
    rows += (await tx.segmentTaggedCustomer.deleteMany({ where: { shop: subject.shop, customerId: gid } })).count;
    rows += (await tx.customerMetafieldValue.deleteMany({ where: { shop: subject.shop, customerId: gid } })).count;
    rows += await tx.$executeRaw`
      UPDATE "Segment" SET "sampleCustomerIds" = array_remove("sampleCustomerIds", ${gid})
      WHERE shop = ${subject.shop} AND ${gid} = ANY("sampleCustomerIds")`;
    // Webhook payloads that name the customer (their own redact request included) keep no trace of them.
    const needles = [String(subject.customerId), subject.email, subject.phone].filter((value): value is string =>
      Boolean(value),
    );
    for (const needle of needles) {
      rows += await tx.$executeRaw`
        UPDATE "WebhookDelivery" SET payload = '{"redacted": true}'::jsonb
        WHERE shop = ${subject.shop} AND strpos(lower(payload::text), lower(${needle})) > 0`;
    }
    await tx.redactionRecord.create({
      data: { shop: subject.shop, kind: "customer", subjectHash: hash(`${subject.shop}|${gid}`), rowsRedacted: rows },
    });
    return { rows, orders: orderIds.length };
  });
}

/**
 * shop/redact: delete every row of the shop, its queued jobs included, once the app is uninstalled from it
 * (Shopify sends shop/redact 48 hours after the uninstall). For a shop that has the app installed nothing
 * is deleted: the shop row is locked first, so a reinstall cannot slip in between the check and the deletes.
 */
export async function redactShop(shop: string): Promise<{ erased: true; rows: number } | { erased: false }> {
  return prisma.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT 1 FROM "Shop" WHERE domain = ${shop} FOR UPDATE`;
    if ((await installState(shop, tx)) === "installed") return { erased: false as const };
    let rows = 0;
    for (const table of SHOP_SCOPED_TABLES) {
      rows += await tx.$executeRawUnsafe(`DELETE FROM "${table}" WHERE shop = $1`, shop);
    }
    rows += await tx.$executeRaw`DELETE FROM "Shop" WHERE domain = ${shop}`;
    // Queued jobs of the shop (the job running this redaction is locked, and finishes by itself).
    rows += await deleteWaitingJobsOfShop(shop, tx);
    await tx.redactionRecord.create({
      data: { shop: null, kind: "shop", subjectHash: hash(shop), rowsRedacted: rows },
    });
    return { erased: true as const, rows };
  });
}

/** A customers/data_request answered: its export, ready for the merchant to download. */
export async function recordDataRequestExport(input: {
  shop: string;
  customerId: number;
  requestId: number | undefined;
  exported: unknown;
}) {
  await prisma.dataRequest.create({
    data: {
      shop: input.shop,
      customerId: customerGid(input.customerId),
      requestId: input.requestId === undefined ? null : String(input.requestId),
      status: "ready",
      export: JSON.parse(JSON.stringify(input.exported, (_k, v) => (typeof v === "bigint" ? v.toString() : v))),
      completedAt: new Date(),
    },
  });
}

export function recentDataRequests(shop: string, take = 50) {
  return prisma.dataRequest.findMany({
    where: { shop },
    orderBy: { requestedAt: "desc" },
    take,
    select: { id: true, customerId: true, status: true, requestedAt: true, completedAt: true },
  });
}

/** Retention: exports completed before `cutoff` are dropped; the request stays listed as expired. */
export async function expireExportsCompletedBefore(cutoff: Date) {
  const { count } = await prisma.dataRequest.updateMany({
    where: { status: "ready", completedAt: { lt: cutoff } },
    data: { status: "expired", export: Prisma.DbNull },
  });
  return count;
}

export function readyExport(shop: string, id: string) {
  return prisma.dataRequest.findFirst({ where: { id, shop, status: "ready" } });
}

export function redactionCount(shop: string) {
  return prisma.redactionRecord.count({ where: { shop } });
}
