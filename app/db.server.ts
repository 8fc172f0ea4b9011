import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@prisma/client";
import pg from "pg";
import { loadConfig } from "./config.server";
import { logger } from "./logger.server";

/**
 * Database access. Prisma for ordinary reads and writes; a plain pg pool for
 * what Prisma cannot do well (COPY, large multi-row upserts) and for the
 * statements of every webhook delivery, where Prisma's own CPU per query
 * would be most of the work.
 */

declare global {
  // Reused across Vite HMR reloads so development does not leak pools.
  var prismaGlobal: PrismaClient | undefined;
  var pgPoolGlobal: pg.Pool | undefined;
}

function createClient() {
  const adapter = new PrismaPg({ connectionString: loadConfig().DATABASE_URL, max: 10 });
  return new PrismaClient({ adapter });
}

// Prisma's DateTime columns are `timestamp` (no time zone) holding UTC; pg would read them as the process's
// local time, and the session's zone decides casts to and from timestamptz. Both are made UTC, so a row reads
// the same through either client on any machine.
const UTC_TIMESTAMP = 1114;
const poolTypes = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === UTC_TIMESTAMP && format !== "binary"
      ? (value: string) => new Date(`${value.replace(" ", "T")}Z`)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

const prisma = globalThis.prismaGlobal ?? createClient();
export const pgPool = globalThis.pgPoolGlobal ?? createPool();

function createPool() {
  const pool = new pg.Pool({
    connectionString: loadConfig().DATABASE_URL,
    max: 10,
    types: poolTypes,
    options: "-c TimeZone=UTC",
  });
  // A connection dropped by the server (restart, failover) must not take the process down: an idle one
  // is replaced by the pool; a checked-out one fails its query, and the pool discards it on release.
  pool.on("error", (error) => logger.warn({ err: error }, "idle database connection lost"));
  pool.on("connect", (client) =>
    client.on("error", (error) => logger.warn({ err: error }, "database connection lost while in use")),
  );
  return pool;
}
if (process.env.NODE_ENV !== "production") {
  globalThis.prismaGlobal = prisma;
  globalThis.pgPoolGlobal = pgPool;
}

export default prisma;

/** Runs `work` in one transaction on a pooled pg client; rolls back if it throws. */
export async function withPgTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pgPool.connect();
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
