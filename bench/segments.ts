/**
 * `npm run bench:segments`: segmentation of the pull benchmark's store (50k
 * customers, 10k products, 300k orders, about 1M line items). The store is
 * pulled through the real worker as in bench:pull; the segmentation that
 * follows the pull (RFM, micro-segments, predictions, then names from a local
 * OpenAI-compatible server) is timed stage by stage. A second run over the
 * same data must make no new LLM calls, or the benchmark fails. Prints
 * progress to stderr and, last, one JSON line.
 */
import pg from "pg";
import { createDatabaseIfMissing, ensureDatabase, migrate } from "../scripts/database";
import { createSimulator } from "../simulator/server";
import { startFakeOpenAi, type ChatRequestBody } from "../tests/helpers/fake-openai";
import { startProcess, type RunningProcess } from "../tests/helpers/processes";

const API = { apiKey: "bench-key", apiSecret: "bench-secret-not-for-production" };
const KEYS = "bench:YmVuY2gta2V5LTMyLWJ5dGVzLWxvbmctZm9yLWFlcyE=";
const STORE_END = new Date("2026-11-01T00:00:00Z");
const SHOP = "bench-segments.myshopify.com";
const SCOPES = "read_customers,read_orders,read_products";
const log = (line: string) => process.stderr.write(`${line}\n`);

interface RunRow {
  id: string;
  status: string;
  stage: string | null;
  error: string | null;
  customers: number | null;
  orders: number | null;
  segments: number | null;
  llmCalls: number;
  cacheHits: number;
  namingFallbacks: number;
  predictionGate: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** A model that answers every naming request with a valid, profile-specific naming. */
function namingResponder(body: ChatRequestBody) {
  const text = body.messages.at(-1)?.content ?? "";
  const profile = JSON.parse(text.slice(text.indexOf("{"))) as { dimension: string; value: string; customers: number };
  return {
    name: `${profile.value} ${profile.dimension}`.slice(0, 40),
    description: `About ${profile.customers} customers grouped by ${profile.dimension}.`,
    actions: ["Send them a tailored email", "Offer a bundle that fits them"],
  };
}

async function freshDatabase(serverUrl: string, name: string) {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await client.end();
  await createDatabaseIfMissing(serverUrl, name);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  await migrate(url.toString());
  return url.toString();
}

/** Polls a run to its end, noting when each stage started. */
async function followRun(db: pg.Client, where: string, params: unknown[], timeoutMs: number) {
  const stages = new Map<string, number>();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query<RunRow>(
      `SELECT id, status, stage, error, customers, orders, segments, "llmCalls", "cacheHits", "namingFallbacks",
              "predictionGate", "startedAt", "finishedAt"
       FROM "SegmentationRun" WHERE ${where} ORDER BY "requestedAt" DESC LIMIT 1`,
      params,
    );
    const run = rows[0];
    if (run?.stage && run.status === "running" && !stages.has(run.stage)) stages.set(run.stage, performance.now());
    if (run && ["succeeded", "failed", "cancelled"].includes(run.status)) {
      stages.set("end", performance.now());
      return { run, stages };
    }
    if (Date.now() > deadline) throw new Error(`segmentation did not finish in time: ${JSON.stringify(run)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function stageReport(stages: Map<string, number>) {
  const entries = [...stages];
  return entries
    .slice(0, -1)
    .map(([name, at], i) => `${name} ${((entries[i + 1]![1] - at) / 1000).toFixed(1)} s`)
    .join(", ");
}

const runSeconds = (run: RunRow) => (run.finishedAt!.getTime() - run.startedAt!.getTime()) / 1000;

const server = await ensureDatabase({
  dataDir: ".data/postgres-bench-segments",
  port: 54333,
  database: "postgres",
  log,
});
let worker: RunningProcess | undefined;
let closeAppDatabase: (() => Promise<void>) | undefined;
const fake = await startFakeOpenAi({ responder: namingResponder });
const simulator = createSimulator({
  ...API,
  scopes: SCOPES,
  dataDir: ".data/bench-segments-simulator",
  restoreRate: 100,
  bucketSize: 2000,
});
try {
  const databaseUrl = await freshDatabase(server.url, "bench_segments");
  simulator.store.addShop({ domain: SHOP, size: "bench", storeEnd: STORE_END.toISOString() });
  const simulatorUrl = await simulator.listen();
  const token = simulator.store.issueToken("offline", SHOP, SCOPES, null).token;
  const env = {
    NODE_ENV: "production",
    LOG_LEVEL: "warn",
    DATABASE_URL: databaseUrl,
    SHOPIFY_API_KEY: API.apiKey,
    SHOPIFY_API_SECRET: API.apiSecret,
    SHOPIFY_APP_URL: "https://bench.example",
    TOKEN_ENCRYPTION_KEYS: KEYS,
    SHOPIFY_SIMULATOR_URL: simulatorUrl,
    BULK_POLL_INTERVAL_MS: "250",
    LLM_API_KEY: "bench-llm-key",
    LLM_BASE_URL: fake.url,
  };
  const seeded = startProcess("bench/seed-install.ts", {
    ...env,
    BENCH_SHOP: SHOP,
    BENCH_TOKEN: token,
    BENCH_MODE: "bulk",
  });
  const created = await seeded.waitForLog((line) => line.msg === "bench pull created", 60_000);
  await seeded.stop();
  worker = startProcess("worker/index.ts", env);
  const db = new pg.Client({ connectionString: databaseUrl });
  db.on("error", (error) => log(`bench client: ${error.message}`));
  await db.connect();

  log("pulling the 300k-order store through the worker…");
  const pullStarted = performance.now();
  let pullStatus = "queued";
  while (!["succeeded", "failed", "cancelled"].includes(pullStatus)) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    pullStatus = (await db.query(`SELECT status FROM "DataPull" WHERE id = $1`, [created.pullId])).rows[0].status;
  }
  if (pullStatus !== "succeeded") throw new Error(`bench pull ${pullStatus}\n${worker.output().slice(-2000)}`);
  log(`  pulled in ${((performance.now() - pullStarted) / 1000).toFixed(1)} s`);

  log("segmentation after the pull (RFM, micro-segments, predictions, AI names)…");
  const first = await followRun(db, `shop = $1 AND trigger = 'pull'`, [SHOP], 30 * 60_000);
  if (first.run.status !== "succeeded") throw new Error(`segmentation ${first.run.status}: ${first.run.error}`);
  const firstCalls = fake.calls;
  log(`  ${runSeconds(first.run).toFixed(1)} s: ${stageReport(first.stages)}`);
  log(
    `  ${first.run.customers} customers, ${first.run.orders} orders, ${first.run.segments} segments; ` +
      `${firstCalls} LLM calls, ${first.run.cacheHits} cache hits, ${first.run.namingFallbacks} fallbacks`,
  );
  log(`  ${first.run.predictionGate}`);

  log("second run over the same data…");
  fake.reset();
  Object.assign(process.env, env);
  const { requestSegmentation } = await import("../app/models/segmentation-runs.server");
  const appDb = await import("../app/db.server");
  closeAppDatabase = async () => {
    await appDb.default.$disconnect();
    await appDb.pgPool.end();
  };
  const requested = await requestSegmentation({ shop: SHOP, trigger: "api" });
  const second = await followRun(db, `id = $1`, [requested.id], 30 * 60_000);
  if (second.run.status !== "succeeded")
    throw new Error(`second segmentation ${second.run.status}: ${second.run.error}`);
  const secondCalls = fake.calls;
  log(`  ${runSeconds(second.run).toFixed(1)} s: ${stageReport(second.stages)}`);
  log(`  ${secondCalls} LLM calls, ${second.run.cacheHits} cache hits`);
  await db.end();

  process.stdout.write(
    `${JSON.stringify({
      customers: first.run.customers,
      orders: first.run.orders,
      seconds: Math.round(runSeconds(first.run) * 10) / 10,
      llm_calls: firstCalls,
      cache_hits: first.run.cacheHits,
      segments: first.run.segments,
      second_run_seconds: Math.round(runSeconds(second.run) * 10) / 10,
      second_run_llm_calls: secondCalls,
      second_run_cache_hits: second.run.cacheHits,
    })}\n`,
  );
  if (secondCalls !== 0 || second.run.llmCalls !== 0) {
    log(`FAILED: the second run made ${secondCalls} LLM calls; expected 0`);
    process.exitCode = 1;
  }
} finally {
  await worker?.stop();
  await simulator.close();
  await fake.close();
  await closeAppDatabase?.();
  await server.stop();
}
