/**
 * `npm run bench:segments`: segmentation of two stores, the pull benchmark's
 * (50k customers, 10k products, 300k orders, about 1M line items) and one a
 * quarter of its size, measured the same way in the same run. Each store is
 * pulled through a fresh worker as in bench:pull; the segmentation that
 * follows the pull (RFM, micro-segments, the model backtest and predictions,
 * then names from a local OpenAI-compatible server) is timed stage by stage
 * while the worker's resident memory is sampled. Cost must grow linearly:
 * "seconds_ratio" (large over small) at most 4.5 and peak RSS flat ("peak_rss_ratio" at most 1.2; the app
 * and worker run with the production image's Node options). The stores end today, so the backtest holds
 * out weeks that have orders and "holdout_error" is the chosen model's. A
 * second run over the large store's data must make no new LLM calls, or the
 * benchmark fails. Then each store's customer metafields (five values a
 * customer) are sent again in full by a fresh worker, in bulk files of at most
 * 4 MiB: the worker's peak memory must be flat here too
 * ("metafield_peak_rss_ratio" at most 1.2), since it holds one file at a time,
 * and its time linear ("metafield_seconds_ratio" at most 4.5).
 * Prints progress to stderr and, last, one JSON line.
 */
import pg from "pg";
import { createSimulator } from "../simulator/server";
import { startFakeOpenAi, type ChatRequestBody } from "../tests/helpers/fake-openai";
import { startProcess, type RunningProcess } from "../tests/helpers/processes";
import { BENCH_APP, benchAppEnv, benchPostgres, log, residentMb } from "./bench-env";

// The stores end today (their shape is seeded, only the dates move), so that the run, as of now, holds out
// the store's own last weeks and the backtest error means something.
const STORE_END = new Date(new Date().toISOString().slice(0, 10));
const STORES = [
  { size: "benchSmall", shop: "bench-segments-small.myshopify.com", database: "bench_segments_small" },
  { size: "bench", shop: "bench-segments.myshopify.com", database: "bench_segments" },
] as const;
const MAX_SECONDS_RATIO = 4.5;
/** "Flat": the store four times larger may take at most a fifth more of the worker's memory at its peak. */
const MAX_PEAK_RSS_RATIO = 1.2;
const SCOPES = "read_customers,write_customers,read_orders,read_products";
/** Small enough that both stores' metafields take several files. */
const METAFIELD_FILE_BYTES = 4 * 1024 * 1024;

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
  predictionReport: { model?: string; holdout?: { relativeError: number } | null } | null;
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

/** Polls a run to its end, noting when each stage started and the worker's peak resident memory meanwhile. */
async function followRun(db: pg.Client, where: string, params: unknown[], timeoutMs: number, workerPid?: number) {
  const stages = new Map<string, number>();
  const stagePeaks = new Map<string, number>();
  const deadline = Date.now() + timeoutMs;
  let peakRssMb = 0;
  let current = "queued";
  for (;;) {
    const rss = workerPid === undefined ? 0 : residentMb(workerPid);
    peakRssMb = Math.max(peakRssMb, rss);
    stagePeaks.set(current, Math.max(stagePeaks.get(current) ?? 0, rss));
    const { rows } = await db.query<RunRow>(
      `SELECT id, status, stage, error, customers, orders, segments, "llmCalls", "cacheHits", "namingFallbacks",
              "predictionGate", "predictionReport", "startedAt", "finishedAt"
       FROM "SegmentationRun" WHERE ${where} ORDER BY "requestedAt" DESC LIMIT 1`,
      params,
    );
    const run = rows[0];
    if (run?.stage && run.status === "running" && !stages.has(run.stage)) {
      stages.set(run.stage, performance.now());
      current = run.stage;
    }
    if (run && ["succeeded", "failed", "cancelled"].includes(run.status)) {
      stages.set("end", performance.now());
      return { run, stages, stagePeaks, peakRssMb };
    }
    if (Date.now() > deadline) throw new Error(`segmentation did not finish in time: ${JSON.stringify(run)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function stageReport(stages: Map<string, number>) {
  const entries = [...stages];
  return entries
    .slice(0, -1)
    .map(([name, at], i) => `${name} ${((entries[i + 1]![1] - at) / 1000).toFixed(1)} s`)
    .join(", ");
}

/** Polls a metafield sync to its end, sampling the worker's resident memory. */
async function followMetafieldSync(db: pg.Client, where: string, params: unknown[], workerPid: number) {
  const deadline = Date.now() + 30 * 60_000;
  let peakRssMb = 0;
  for (;;) {
    peakRssMb = Math.max(peakRssMb, residentMb(workerPid));
    const { rows } = await db.query<{
      id: string;
      status: string;
      mode: string | null;
      written: number;
      error: string | null;
      startedAt: Date | null;
      finishedAt: Date | null;
    }>(
      `SELECT id, status, mode, written, error, "startedAt", "finishedAt" FROM "MetafieldSync"
       WHERE ${where} ORDER BY "requestedAt" DESC LIMIT 1`,
      params,
    );
    const sync = rows[0];
    if (sync && ["succeeded", "failed", "cancelled"].includes(sync.status)) {
      const seconds =
        sync.startedAt && sync.finishedAt ? (sync.finishedAt.getTime() - sync.startedAt.getTime()) / 1000 : 0;
      return { ...sync, seconds, peakRssMb };
    }
    if (Date.now() > deadline) throw new Error(`the metafield sync did not finish in time: ${JSON.stringify(sync)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const runSeconds = (run: RunRow) => (run.finishedAt!.getTime() - run.startedAt!.getTime()) / 1000;

const server = await benchPostgres(".data/postgres-bench-segments", 54333);
let worker: RunningProcess | undefined;
let closeAppDatabase: (() => Promise<void>) | undefined;
const fake = await startFakeOpenAi({ responder: namingResponder });
const simulator = createSimulator({
  ...BENCH_APP,
  scopes: SCOPES,
  dataDir: ".data/bench-segments-simulator",
  restoreRate: 100,
  bucketSize: 2000,
});

/** Pulls one store through a fresh worker and follows the segmentation after the pull. */
async function measureStore(store: (typeof STORES)[number], simulatorUrl: string) {
  const databaseUrl = await server.freshDatabase(store.database);
  simulator.store.addShop({ domain: store.shop, size: store.size, storeEnd: STORE_END.toISOString() });
  const token = simulator.store.issueToken("offline", store.shop, SCOPES, null).token;
  const env = {
    ...benchAppEnv(databaseUrl),
    SHOPIFY_SIMULATOR_URL: simulatorUrl,
    BULK_POLL_INTERVAL_MS: "250",
    LLM_API_KEY: "bench-llm-key",
    LLM_BASE_URL: fake.url,
  };
  const seeded = startProcess("bench/seed-install.ts", {
    ...env,
    BENCH_SHOP: store.shop,
    BENCH_TOKEN: token,
    BENCH_MODE: "bulk",
    BENCH_SCOPES: SCOPES,
  });
  const created = await seeded.waitForLog((line) => line.msg === "bench pull created", 60_000);
  await seeded.stop();
  await worker?.stop();
  worker = startProcess("worker/index.ts", env);
  const db = new pg.Client({ connectionString: databaseUrl });
  db.on("error", (error) => log(`bench client: ${error.message}`));
  await db.connect();

  log(`${store.size}: pulling the store through the worker…`);
  const pullStarted = performance.now();
  let pullStatus = "queued";
  while (!["succeeded", "failed", "cancelled"].includes(pullStatus)) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    pullStatus = (await db.query(`SELECT status FROM "DataPull" WHERE id = $1`, [created.pullId])).rows[0].status;
  }
  if (pullStatus !== "succeeded") throw new Error(`bench pull ${pullStatus}\n${worker.output().slice(-2000)}`);
  log(`  pulled in ${((performance.now() - pullStarted) / 1000).toFixed(1)} s`);

  log(`${store.size}: segmentation after the pull (RFM, micro-segments, model backtest, predictions, AI names)…`);
  const rssBefore = residentMb(worker.child.pid!);
  const first = await followRun(db, `shop = $1 AND trigger = 'pull'`, [store.shop], 30 * 60_000, worker.child.pid);
  if (first.run.status !== "succeeded") throw new Error(`segmentation ${first.run.status}: ${first.run.error}`);
  const calls = fake.calls;
  log(`  ${runSeconds(first.run).toFixed(1)} s: ${stageReport(first.stages)}`);
  log(
    `  ${first.run.customers} customers, ${first.run.orders} orders, ${first.run.segments} segments; ` +
      `${calls} LLM calls, ${first.run.cacheHits} cache hits, ${first.run.namingFallbacks} fallbacks`,
  );
  log(`  worker RSS ${rssBefore.toFixed(0)} MB before the run, peak ${first.peakRssMb.toFixed(0)} MB during it`);
  log(`  peak RSS by stage: ${[...first.stagePeaks].map(([name, mb]) => `${name} ${mb.toFixed(0)} MB`).join(", ")}`);
  log(`  ${first.run.predictionGate}`);

  // The sync the run queued writes every value; then a fresh worker sends them all again, measured alone.
  const queued = await followMetafieldSync(db, `shop = $1`, [store.shop], worker.child.pid!);
  if (queued.status !== "succeeded") throw new Error(`metafield sync ${queued.status}: ${queued.error}`);
  await worker.stop();
  const resync = startProcess("bench/metafield-resync.ts", { ...env, BENCH_SHOP: store.shop });
  const { syncId } = await resync.waitForLog((line) => line.msg === "bench metafield sync requested", 60_000);
  await resync.stop();
  worker = startProcess("worker/index.ts", { ...env, BULK_MUTATION_FILE_MAX_BYTES: String(METAFIELD_FILE_BYTES) });
  await worker.waitForLog((line) => line.msg === "worker started", 60_000);
  const idleRssMb = residentMb(worker.child.pid!);
  const metafields = await followMetafieldSync(db, `id = $1`, [syncId], worker.child.pid!);
  if (metafields.status !== "succeeded") throw new Error(`metafield resync ${metafields.status}: ${metafields.error}`);
  log(
    `${store.size}: ${metafields.written} metafield values sent again (${metafields.mode}) in ${metafields.seconds.toFixed(1)} s; ` +
      `worker RSS ${idleRssMb.toFixed(0)} MB idle, peak ${metafields.peakRssMb.toFixed(0)} MB`,
  );
  return { env, db, first, calls, metafields };
}

try {
  const simulatorUrl = await simulator.listen();
  const small = await measureStore(STORES[0], simulatorUrl);
  await small.db.end();
  fake.reset();
  const large = await measureStore(STORES[1], simulatorUrl);
  const { env, db, first } = large;

  log("second run over the large store's data…");
  fake.reset();
  Object.assign(process.env, env);
  const { requestSegmentation } = await import("../app/models/segmentation-runs.server");
  const appDb = await import("../app/db.server");
  closeAppDatabase = async () => {
    await appDb.default.$disconnect();
    await appDb.pgPool.end();
  };
  const requested = await requestSegmentation({ shop: STORES[1].shop, trigger: "api" });
  const second = await followRun(db, `id = $1`, [requested.id], 30 * 60_000, worker?.child.pid);
  if (second.run.status !== "succeeded")
    throw new Error(`second segmentation ${second.run.status}: ${second.run.error}`);
  const secondCalls = fake.calls;
  log(`  ${runSeconds(second.run).toFixed(1)} s: ${stageReport(second.stages)}`);
  log(`  ${secondCalls} LLM calls, ${second.run.cacheHits} cache hits`);
  await db.end();

  const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
  const holdoutError = first.run.predictionReport?.holdout?.relativeError;
  const secondsRatio = runSeconds(first.run) / runSeconds(small.first.run);
  const peakRssRatio = first.peakRssMb / small.first.peakRssMb;
  const metafieldRssRatio = large.metafields.peakRssMb / small.metafields.peakRssMb;
  const metafieldSecondsRatio = large.metafields.seconds / small.metafields.seconds;
  process.stdout.write(
    `${JSON.stringify({
      customers: first.run.customers,
      orders: first.run.orders,
      seconds: round(runSeconds(first.run)),
      llm_calls: large.calls,
      cache_hits: first.run.cacheHits,
      segments: first.run.segments,
      model: first.run.predictionReport?.model ?? null,
      holdout_error: holdoutError === undefined ? null : round(holdoutError, 4),
      peak_rss_mb: round(first.peakRssMb, 0),
      small_customers: small.first.run.customers,
      small_orders: small.first.run.orders,
      small_seconds: round(runSeconds(small.first.run)),
      small_model: small.first.run.predictionReport?.model ?? null,
      small_peak_rss_mb: round(small.first.peakRssMb, 0),
      seconds_ratio: round(secondsRatio, 2),
      peak_rss_ratio: round(peakRssRatio, 2),
      second_run_seconds: round(runSeconds(second.run)),
      second_run_llm_calls: secondCalls,
      second_run_cache_hits: second.run.cacheHits,
      metafield_values: large.metafields.written,
      metafield_seconds: round(large.metafields.seconds),
      metafield_peak_rss_mb: round(large.metafields.peakRssMb, 0),
      small_metafield_values: small.metafields.written,
      small_metafield_seconds: round(small.metafields.seconds),
      small_metafield_peak_rss_mb: round(small.metafields.peakRssMb, 0),
      metafield_seconds_ratio: round(metafieldSecondsRatio, 2),
      metafield_peak_rss_ratio: round(metafieldRssRatio, 2),
    })}\n`,
  );
  if (secondCalls !== 0 || second.run.llmCalls !== 0) {
    log(`FAILED: the second run made ${secondCalls} LLM calls; expected 0`);
    process.exitCode = 1;
  }
  if (peakRssRatio > MAX_PEAK_RSS_RATIO) {
    log(
      `FAILED: the store 4 times larger took ${peakRssRatio.toFixed(2)} times the peak memory; expected at most ${MAX_PEAK_RSS_RATIO}`,
    );
    process.exitCode = 1;
  }
  if (metafieldRssRatio > MAX_PEAK_RSS_RATIO) {
    log(
      `FAILED: the metafield sync of the store 4 times larger took ${metafieldRssRatio.toFixed(2)} times the peak memory; expected at most ${MAX_PEAK_RSS_RATIO}`,
    );
    process.exitCode = 1;
  }
  if (metafieldSecondsRatio > MAX_SECONDS_RATIO) {
    log(
      `FAILED: the metafield sync of the store 4 times larger took ${metafieldSecondsRatio.toFixed(2)} times as long; expected at most ${MAX_SECONDS_RATIO}`,
    );
    process.exitCode = 1;
  }
  if (secondsRatio > MAX_SECONDS_RATIO) {
    log(
      `FAILED: the store 4 times larger took ${secondsRatio.toFixed(2)} times as long; expected at most ${MAX_SECONDS_RATIO}`,
    );
    process.exitCode = 1;
  }
} finally {
  await worker?.stop();
  await simulator.close();
  await fake.close();
  await closeAppDatabase?.();
  await server.stop();
}
