import { createHmac, randomUUID } from "node:crypto";
import pg from "pg";
import { API_VERSION } from "../app/api-version";
import { createDatabaseIfMissing, ensureDatabase, migrate } from "../scripts/database";

/** What every benchmark shares: progress on stderr, an embedded PostgreSQL of its own, app settings. */

export const log = (line: string) => process.stderr.write(`${line}\n`);

export const BENCH_APP = { apiKey: "bench-key", apiSecret: "bench-secret-not-for-production" };

export function benchAppEnv(databaseUrl: string): Record<string, string> {
  return {
    NODE_ENV: "production",
    LOG_LEVEL: "warn",
    DATABASE_URL: databaseUrl,
    SHOPIFY_API_KEY: BENCH_APP.apiKey,
    SHOPIFY_API_SECRET: BENCH_APP.apiSecret,
    SHOPIFY_APP_URL: "https://bench.example",
    TOKEN_ENCRYPTION_KEYS: "bench:YmVuY2gta2V5LTMyLWJ5dGVzLWxvbmctZm9yLWFlcyE=",
    // e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the app under load
    ...(process.env.BENCH_APP_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_APP_NODE_OPTIONS } : {}),
  };
}

/** An embedded PostgreSQL on its own port and folder, so benchmarks never touch the demo's or the tests' data. */
export async function benchPostgres(dataDir: string, port: number) {
  const server = await ensureDatabase({ dataDir, port, database: "postgres", log });
  return {
    stop: () => server.stop(),
    /** Drops and recreates a database, migrated; answers its URL. */
    async freshDatabase(name: string) {
      const admin = new pg.Client({ connectionString: server.url });
      admin.on("error", (error) => log(`admin client: ${error.message}`));
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
      await createDatabaseIfMissing(server.url, name);
      const url = new URL(server.url);
      url.pathname = `/${name}`;
      await migrate(url.toString());
      return url.toString();
    },
  };
}

/** Nearest-rank percentile of sorted samples, in the samples' unit, rounded to 0.1. */
export function percentile(sorted: number[], p: number) {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
}

/** Headers of a webhook delivery as Shopify signs it, for a JSON body. */
export function signedWebhookHeaders(topic: string, shop: string, body: string, eventId: string) {
  return {
    "content-type": "application/json",
    "user-agent": "Shopify-Captain-Hook",
    "x-shopify-topic": topic,
    "x-shopify-shop-domain": shop,
    "x-shopify-api-version": API_VERSION,
    "x-shopify-webhook-id": randomUUID(),
    "x-shopify-event-id": eventId,
    "x-shopify-triggered-at": new Date().toISOString(),
    "x-shopify-hmac-sha256": createHmac("sha256", BENCH_APP.apiSecret).update(body).digest("base64"),
  };
}
