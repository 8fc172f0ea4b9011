import type pg from "pg";
import prisma, { pgPool } from "../db.server";

/**
 * Fixed-window counters in Postgres, so every app instance enforces the same
 * limits. Attempts are counted, not only admitted requests: a client that
 * keeps hammering stays limited until its window ends.
 */

export function windowOf(now: number, windowMs: number) {
  const start = Math.floor(now / windowMs) * windowMs;
  return { start: new Date(start), end: start + windowMs };
}

/** Adds `increments` (negative ones refund) to the keys' counters of the window; answers each key's total after the add. */
export async function addToWindow(
  windowStart: Date,
  increments: Map<string, number>,
  client: pg.Pool | pg.ClientBase = pgPool,
): Promise<Map<string, number>> {
  if (increments.size === 0) return new Map();
  // Sorted keys: concurrent batches lock the counter rows in one order and cannot deadlock.
  const keys = [...increments.keys()].sort();
  const result = await client.query<{ key: string; count: number }>(
    `INSERT INTO "RateLimitWindow" (key, "windowStart", count)
     SELECT key, $2::timestamptz, n FROM unnest($1::text[], $3::int[]) AS t(key, n)
     ON CONFLICT (key, "windowStart") DO UPDATE SET count = "RateLimitWindow".count + EXCLUDED.count
     RETURNING key, count`,
    [keys, windowStart, keys.map((key) => increments.get(key)!)],
  );
  return new Map(result.rows.map((row) => [row.key, row.count]));
}

/** One request against a per-key limit (the JSON API's per-shop limit). */
export async function hitRateLimit(key: string, limit: number, windowMs: number, now = Date.now()) {
  const window = windowOf(now, windowMs);
  const rows = await prisma.$queryRaw<{ count: number }[]>`
    INSERT INTO "RateLimitWindow" (key, "windowStart", count) VALUES (${key}, ${window.start}, 1)
    ON CONFLICT (key, "windowStart") DO UPDATE SET count = "RateLimitWindow".count + 1
    RETURNING count`;
  const count = rows[0]!.count;
  return { allowed: count <= limit, retryAfterSeconds: Math.max(1, Math.ceil((window.end - now) / 1000)) };
}

/** Old windows are useless once over; anyone may sweep them. */
export async function deleteWindowsBefore(cutoff: Date) {
  const { count } = await prisma.rateLimitWindow.deleteMany({ where: { windowStart: { lt: cutoff } } });
  return count;
}
