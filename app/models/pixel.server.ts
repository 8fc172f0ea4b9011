import type pg from "pg";
import prisma, { pgPool, withPgTransaction } from "../db.server";

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

/** A checkout_completed's claim: this visitor placed this order as this customer. */
export interface IdentityClaim {
  clientId: string;
  customerId: string;
  orderId: string;
}

/** A pixel account's rate-limit counters: its own and one per visitor. Neither names the shop. */
export const pixelCounterKeys = {
  account: (accountId: string) => `pixel:account:${accountId}`,
  visitor: (accountId: string, clientId: string) => `pixel:client:${accountId}:${clientId}`,
};

export interface CounterCharge {
  accountId: string;
  key: string;
  n: number;
}

/**
 * In one round trip: the connections of the accounts `charges` name, and the charges added to the window's
 * counters for those accounts that are connected. Keys are charged in sorted order, so that concurrent
 * charges lock counter rows in one order and cannot deadlock. Answers the connections and each charged
 * key's total.
 */
export async function chargeConnectedAccounts(
  windowStart: Date,
  charges: CounterCharge[],
  db: pg.Pool | pg.ClientBase = pgPool,
) {
  const result = await db.query<{ key: string; shop: string | null; status: ConnectionStatus | null; count: number }>({
    // Named, so each connection parses and plans it once: it runs for every group of storefront events.
    name: "pixel-charge-connected-accounts",
    text: `WITH connection AS (
       SELECT "accountId", shop, status FROM "PixelConnection" WHERE "accountId" = ANY($1::text[])
     ), charged AS (
       INSERT INTO "RateLimitWindow" (key, "windowStart", count)
       SELECT charge.key, $2::timestamptz, charge.n
       FROM unnest($3::text[], $4::text[], $5::int[]) AS charge("accountId", key, n)
       JOIN connection ON connection."accountId" = charge."accountId" AND connection.status = 'connected'
       ORDER BY charge.key
       ON CONFLICT (key, "windowStart") DO UPDATE SET count = "RateLimitWindow".count + EXCLUDED.count
       RETURNING key, count
     )
     SELECT "accountId" AS key, shop, status, NULL::int AS count FROM connection
     UNION ALL
     SELECT key, NULL, NULL, count FROM charged`,
    values: [
      [...new Set(charges.map((c) => c.accountId))],
      windowStart,
      charges.map((c) => c.accountId),
      charges.map((c) => c.key),
      charges.map((c) => c.n),
    ],
  });
  const connections = new Map<string, { shop: string; status: ConnectionStatus }>();
  const totals = new Map<string, number>();
  for (const row of result.rows) {
    if (row.status) connections.set(row.key, { shop: row.shop!, status: row.status });
    else totals.set(row.key, row.count);
  }
  return { connections, totals };
}

/**
 * Stores events once per (shop, visitor, event id and time), duplicates ignored, and checkout claims, in one
 * statement: one round trip, one commit. A claim whose order (of that customer) is already known links the
 * visitor at once (the latest link wins); any other waits in PixelIdentityClaim for the order to arrive.
 */
export async function storeEvents(
  events: (StoredEvent & { shop: string })[],
  claims: (IdentityClaim & { shop: string })[],
  db: pg.Pool | pg.ClientBase = pgPool,
) {
  if (events.length === 0) return 0;
  const result = await db.query<{ stored: number }>({
    // Named, so each connection parses and plans it once; the rows travel as one JSON document each, which
    // costs less to encode than seven parameter arrays.
    name: "pixel-store-events",
    text: `WITH stored AS (
       INSERT INTO "PixelEvent" (shop, "eventId", name, "clientId", "occurredAt", url, data)
       SELECT shop, "eventId", name, "clientId", "occurredAt", url, data
       FROM json_to_recordset($1::json)
         AS event(shop text, "eventId" text, name text, "clientId" text, "occurredAt" timestamptz, url text, data jsonb)
       ON CONFLICT (shop, "clientId", "eventId", "occurredAt") DO NOTHING
       RETURNING 1
     ), claim AS (
       SELECT claim.*, EXISTS (
         SELECT 1 FROM "Order" o
         WHERE o.shop = claim.shop AND o.id = claim."orderId" AND o."customerId" = claim."customerId"
       ) AS confirmed
       FROM json_to_recordset($2::json) AS claim(shop text, "clientId" text, "customerId" text, "orderId" text)
     ), linked AS (
       INSERT INTO "PixelIdentity" (shop, "clientId", "customerId", "orderId")
       SELECT DISTINCT ON (shop, "clientId") shop, "clientId", "customerId", "orderId"
       FROM claim WHERE confirmed ORDER BY shop, "clientId"
       ON CONFLICT (shop, "clientId") DO UPDATE
         SET "customerId" = EXCLUDED."customerId", "orderId" = EXCLUDED."orderId", "linkedAt" = now()
     ), pending AS (
       INSERT INTO "PixelIdentityClaim" (shop, "clientId", "orderId", "customerId")
       SELECT shop, "clientId", "orderId", "customerId" FROM claim WHERE NOT confirmed
       ON CONFLICT (shop, "clientId", "orderId") DO NOTHING
     )
     SELECT count(*)::int AS stored FROM stored`,
    values: [JSON.stringify(events), JSON.stringify(claims)],
  });
  return result.rows[0]!.stored;
}

/** Forgets checkout claims that waited since before `cutoff` for an order that never came; answers how many. */
export async function deleteIdentityClaimsBefore(cutoff: Date) {
  return (await prisma.pixelIdentityClaim.deleteMany({ where: { claimedAt: { lt: cutoff } } })).count;
}

/**
 * Links the visitors of the shop's waiting checkout claims whose order is now known, with that customer, and
 * forgets those claims; claims naming another customer than the order's stay unconfirmed. Called after
 * orders arrive (a pull's orders step, orders/create). Answers how many visitors were linked.
 */
export async function confirmIdentityClaims(shop: string) {
  const linked = await prisma.$queryRaw<{ linked: number }[]>`
    WITH confirmed AS (
      DELETE FROM "PixelIdentityClaim" c
      USING "Order" o
      WHERE c.shop = ${shop} AND o.shop = c.shop AND o.id = c."orderId" AND o."customerId" = c."customerId"
      RETURNING c.shop, c."clientId", c."orderId", c."customerId", c."claimedAt"
    ), latest AS (
      SELECT DISTINCT ON ("clientId") shop, "clientId", "orderId", "customerId"
      FROM confirmed ORDER BY "clientId", "claimedAt" DESC
    ), linked AS (
      INSERT INTO "PixelIdentity" (shop, "clientId", "customerId", "orderId")
      SELECT shop, "clientId", "customerId", "orderId" FROM latest
      ON CONFLICT (shop, "clientId") DO UPDATE
        SET "customerId" = EXCLUDED."customerId", "orderId" = EXCLUDED."orderId", "linkedAt" = now()
      RETURNING 1
    )
    SELECT count(*)::int AS linked FROM linked`;
  return linked[0]!.linked;
}

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

// ---------------------------------------------------------------------------
// Partitions of PixelEvent: one a UTC day of "occurredAt", named PixelEvent_pYYYYMMDD, and PixelEvent_default
// for rows of days that have none (see the migration pixel_event_partitions). DDL waits at most
// PARTITION_LOCK_TIMEOUT for its locks, so that it never holds up ingest behind a long read; a timed-out step
// throws a LockTimeoutError and is tried again later.

const DAY_MS = 86_400_000;
const DEFAULT_PARTITION = "PixelEvent_default";
const PARTITION_LOCK_TIMEOUT = "2s";
const DAY_PARTITION = /^PixelEvent_p(\d{4})(\d{2})(\d{2})$/;

export class LockTimeoutError extends Error {}

/** A UTC day's first moment, the way a TIMESTAMP(3) column of UTC times compares with it. */
const dayLiteral = (day: Date) => day.toISOString().slice(0, 10);
const timestampLiteral = (at: Date) => at.toISOString().slice(0, 23).replace("T", " ");
export const pixelEventPartitionName = (day: Date) => `PixelEvent_p${dayLiteral(day).replaceAll("-", "")}`;

async function withLockTimeout<T>(work: (client: pg.PoolClient) => Promise<T>) {
  try {
    return await withPgTransaction(async (client) => {
      await client.query(`SET LOCAL lock_timeout = '${PARTITION_LOCK_TIMEOUT}'`);
      return work(client);
    });
  } catch (error) {
    // 55P03 lock_not_available: another session held the table for longer than the timeout.
    if ((error as { code?: string }).code === "55P03") throw new LockTimeoutError((error as Error).message);
    throw error;
  }
}

/** The day partitions that exist, oldest first. */
export async function pixelEventPartitions() {
  const { rows } = await pgPool.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = '"PixelEvent"'::regclass`,
  );
  return rows
    .map(({ name }) => DAY_PARTITION.exec(name))
    .filter((match) => match !== null)
    .map((match) => ({ name: match[0], day: new Date(`${match[1]}-${match[2]}-${match[3]}T00:00:00Z`) }))
    .sort((a, b) => a.day.getTime() - b.day.getTime());
}

/** The UTC days from `since` (inclusive) to `until` (exclusive) of events that wait in the default partition. */
export async function daysInDefaultPartition(since: Date, until: Date) {
  const { rows } = await pgPool.query<{ day: string }>(
    `SELECT DISTINCT to_char("occurredAt", 'YYYY-MM-DD') AS day FROM "${DEFAULT_PARTITION}"
     WHERE "occurredAt" >= $1::timestamp AND "occurredAt" < $2::timestamp`,
    [timestampLiteral(since), timestampLiteral(until)],
  );
  return rows.map(({ day }) => new Date(`${day}T00:00:00Z`)).sort((a, b) => a.getTime() - b.getTime());
}

/**
 * Creates a day's partition, moving into it the day's events that waited in the default partition. The table is
 * made apart and attached, which takes a lock on PixelEvent that lets inserts and reads go on; only the default
 * partition is locked, while its rows of that day move. Answers how many moved; a partition that already exists
 * is left as it is (moved 0).
 */
export async function createPixelEventPartition(day: Date) {
  const name = pixelEventPartitionName(day);
  const from = dayLiteral(day);
  const to = dayLiteral(new Date(day.getTime() + DAY_MS));
  return withLockTimeout(async (client) => {
    // Two jobs at once (a worker starting while the daily one runs) make each partition once.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('PixelEvent partitions'))`);
    const exists = await client.query(`SELECT 1 FROM pg_class WHERE relname = $1`, [name]);
    if (exists.rowCount) return 0;
    await client.query(`LOCK TABLE "${DEFAULT_PARTITION}" IN ACCESS EXCLUSIVE MODE`);
    await client.query(`CREATE TABLE "${name}" (LIKE "PixelEvent" INCLUDING DEFAULTS)`);
    // Proves the range to ATTACH, which then does not scan the new table.
    await client.query(
      `ALTER TABLE "${name}" ADD CONSTRAINT "${name}_range" CHECK ("occurredAt" >= '${from}' AND "occurredAt" < '${to}')`,
    );
    const moved = await client.query(
      `WITH moved AS (
         DELETE FROM "${DEFAULT_PARTITION}" WHERE "occurredAt" >= '${from}' AND "occurredAt" < '${to}' RETURNING *
       )
       INSERT INTO "${name}" SELECT * FROM moved`,
    );
    await client.query(`ALTER TABLE "PixelEvent" ATTACH PARTITION "${name}" FOR VALUES FROM ('${from}') TO ('${to}')`);
    await client.query(`ALTER TABLE "${name}" DROP CONSTRAINT "${name}_range"`);
    return moved.rowCount ?? 0;
  });
}

/**
 * Drops a day partition with its events. DETACH PARTITION CONCURRENTLY is not allowed beside a default
 * partition, so this takes PixelEvent's exclusive lock for the moment the catalog changes, waiting at most the
 * lock timeout for it.
 */
export async function dropPixelEventPartition(name: string) {
  if (!DAY_PARTITION.test(name)) throw new Error(`not a day partition of PixelEvent: ${name}`);
  await withLockTimeout((client) => client.query(`DROP TABLE IF EXISTS "${name}"`));
}

/** Deletes, in batches that each commit on their own, default-partition events older than `cutoff`. */
export async function deleteDefaultPartitionEventsBefore(cutoff: Date, batchSize = 5000) {
  let deleted = 0;
  for (;;) {
    const result = await pgPool.query(
      `DELETE FROM "${DEFAULT_PARTITION}" WHERE ctid = ANY(ARRAY(
         SELECT ctid FROM "${DEFAULT_PARTITION}" WHERE "occurredAt" < $1::timestamp LIMIT $2))`,
      [timestampLiteral(cutoff), batchSize],
    );
    deleted += result.rowCount ?? 0;
    if ((result.rowCount ?? 0) < batchSize) return deleted;
  }
}
