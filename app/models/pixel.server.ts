import type pg from "pg";
import prisma from "../db.server";
import { shopKey } from "../services/jobs.server";

/**
 * Pixel data: the shop's connection (account id → shop), storefront events
 * and client → customer identities. Event writes are plain SQL over unnest()
 * so that one statement stores a whole group commit.
 */

export type ConnectionStatus = "connected" | "disconnected";

export function getPixelConnection(shop: string) {
  return prisma.pixelConnection.findUnique({ where: { shop } });
}

export async function savePixelConnection(input: {
  shop: string;
  accountId: string;
  webPixelId: string;
  ingestUrl: string;
}) {
  const data = { ...input, status: "connected", disconnectedAt: null };
  return prisma.pixelConnection.upsert({
    where: { shop: input.shop },
    create: { ...data, connectedAt: new Date() },
    update: { ...data, connectedAt: new Date() },
  });
}

/** Stops accepting the shop's events (disconnect, or the app was uninstalled). */
export async function disconnectPixel(shop: string) {
  await prisma.pixelConnection.updateMany({
    where: { shop, status: "connected" },
    data: { status: "disconnected", disconnectedAt: new Date() },
  });
}

export interface StoredEvent {
  eventId: string;
  name: string;
  clientId: string;
  occurredAt: Date;
  url: string | null;
  data: Record<string, unknown> | null;
}

export interface IdentityLink {
  clientId: string;
  customerId: string;
  orderId: string | null;
}

export async function findConnections(client: pg.ClientBase, accountIds: string[]) {
  const result = await client.query<{ accountId: string; shop: string; status: ConnectionStatus }>(
    `SELECT "accountId", shop, status FROM "PixelConnection" WHERE "accountId" = ANY($1::text[])`,
    [accountIds],
  );
  return new Map(result.rows.map((row) => [row.accountId, row]));
}

/** Stores events once per (shop, event id); duplicates are ignored. */
export async function insertEvents(client: pg.ClientBase, shops: string[], events: StoredEvent[]) {
  if (events.length === 0) return 0;
  const result = await client.query(
    `INSERT INTO "PixelEvent" (shop, "eventId", name, "clientId", "occurredAt", url, data)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::jsonb[])
     ON CONFLICT (shop, "eventId") DO NOTHING`,
    [
      shops,
      events.map((event) => event.eventId),
      events.map((event) => event.name),
      events.map((event) => event.clientId),
      events.map((event) => event.occurredAt),
      events.map((event) => event.url),
      events.map((event) => (event.data ? JSON.stringify(event.data) : null)),
    ],
  );
  return result.rowCount ?? 0;
}

/** Links client ids to customers (checkout_completed); the latest link wins. */
export async function linkIdentities(client: pg.ClientBase, shops: string[], links: IdentityLink[]) {
  if (links.length === 0) return;
  await client.query(
    `INSERT INTO "PixelIdentity" (shop, "clientId", "customerId", "orderId")
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
     ON CONFLICT (shop, "clientId") DO UPDATE
       SET "customerId" = EXCLUDED."customerId", "orderId" = EXCLUDED."orderId", "linkedAt" = now()`,
    [
      shops,
      links.map((link) => link.clientId),
      links.map((link) => link.customerId),
      links.map((link) => link.orderId),
    ],
  );
}

/** Counter keys never hold the shop's domain, so that nothing names a redacted shop. */
export const rateLimitKeys = {
  shop: (shop: string) => `pixel:shop:${shopKey(shop)}`,
  client: (shop: string, clientId: string) => `pixel:client:${shopKey(shop)}:${clientId}`,
};

// ---------------------------------------------------------------------------
// Reads for the Pixel page.

export async function pixelActivity(shop: string, hours = 48) {
  const since = new Date(Date.now() - hours * 3_600_000);
  const [perHour, totals, latest] = await Promise.all([
    prisma.$queryRaw<{ hour: Date; events: number }[]>`
      SELECT date_trunc('hour', "occurredAt") AS hour, count(*)::int AS events
      FROM "PixelEvent" WHERE shop = ${shop} AND "occurredAt" >= ${since}
      GROUP BY 1 ORDER BY 1`,
    prisma.$queryRaw<{ events: number; clients: number; identified: number }[]>`
      SELECT count(*)::int AS events, count(DISTINCT e."clientId")::int AS clients,
             count(DISTINCT i."clientId")::int AS identified
      FROM "PixelEvent" e
      LEFT JOIN "PixelIdentity" i ON i.shop = e.shop AND i."clientId" = e."clientId"
      WHERE e.shop = ${shop} AND e."occurredAt" >= ${since}`,
    prisma.pixelEvent.findMany({
      where: { shop },
      orderBy: [{ occurredAt: "desc" }, { eventId: "asc" }],
      take: 20,
      select: { eventId: true, name: true, clientId: true, occurredAt: true, url: true, data: true },
    }),
  ]);
  return { since, perHour, totals: totals[0]!, latest };
}
