import { createHmac, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
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
    NODE_OPTIONS: productionNodeOptions(),
  };
}

/**
 * The Node options the production image runs with (its `ENV NODE_OPTIONS` line), so that benchmarks measure
 * the app and worker as deployed (V8's heap limit decides how long garbage stays resident).
 * BENCH_APP_NODE_OPTIONS overrides them, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the app under
 * load; an empty value runs with Node's defaults.
 */
export function productionNodeOptions() {
  const line = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(readFileSync("Dockerfile", "utf8"));
  if (!line) throw new Error("Dockerfile has no ENV NODE_OPTIONS line");
  return process.env.BENCH_APP_NODE_OPTIONS ?? line[1]!;
}

/** Resident memory of a process now, in MB (Linux). */
export function residentMb(pid: number) {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
}

/** The most resident memory a process has had so far (the kernel's high-water mark), in MB. */
export function peakResidentMb(pid: number) {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
}

/** CPU seconds a process has used so far (user + system), at the kernel's 10 ms resolution. */
export function cpuSeconds(pid: number) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** An embedded PostgreSQL on its own port and folder, so benchmarks never touch the demo's or the tests' data. */
export async function benchPostgres(dataDir: string, defaultPort: number) {
  // BENCH_POSTGRES_PORT moves it when several clones benchmark on one machine.
  const port = Number(process.env.BENCH_POSTGRES_PORT ?? defaultPort);
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
