/**
 * `npm run bench:soak`: pixel events, signed webhooks and data pulls against
 * one app server and one worker at the same time, for SOAK_SECONDS (default
 * 360). Every 30 s prints throughput, p99 and the RSS of app and worker to
 * stderr; then waits for the worker to process every webhook, checks that
 * every acknowledged pixel event and webhook is stored, and prints, last, one
 * JSON line. Exits non-zero when anything acknowledged was lost or a pull
 * failed. Target: RSS does not grow past the warm-up (the first third of the run).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { simulatedInstall } from "../tests/helpers/installed-shop";
import { startAppServer, startWorker, type RunningProcess } from "../tests/helpers/processes";
import { BENCH_APP, benchAppEnv, benchPostgres, log, percentile, residentMb, signedWebhookHeaders } from "./bench-env";
import { runLoad } from "./http-load";

const SOAK_SECONDS = Number(process.env.SOAK_SECONDS ?? 360);
const INTERVAL_SECONDS = 30;
// V8 sizes its heap to the load over the first minute or two (measured: the app's RSS rose for 90 s, then
// held within 2 MB for the next 90); growth after the first third of the run is what would show a leak.
const WARMUP_SECONDS = Math.max(INTERVAL_SECONDS, Math.floor(SOAK_SECONDS / 3 / INTERVAL_SECONDS) * INTERVAL_SECONDS);
const PIXEL_CONCURRENCY = 16;
const WEBHOOK_CONCURRENCY = 4;
const VISITORS = 20_000;
const DUPLICATE_EVERY = 10;
const PULL_TIMEOUT_MS = 5 * 60_000;
const WEBHOOK_DRAIN_TIMEOUT_MS = 5 * 60_000;
const WEBHOOK_TOPIC = "app/scopes_update";
const SCOPES =
  "read_customers,write_customers,read_orders,read_all_orders,read_products,write_pixels,read_customer_events";

log(`soak: ${SOAK_SECONDS} s (SOAK_SECONDS), a line every ${INTERVAL_SECONDS} s, warm-up ${WARMUP_SECONDS} s`);
const server = await benchPostgres(".data/postgres-bench-soak", 54335);
const running: { stop(): Promise<unknown> }[] = [];
const abortLoads = new AbortController();
let failed = false;
try {
  const databaseUrl = await server.freshDatabase("bench_soak");
  const env = benchAppEnv(databaseUrl);
  const nodeOptions = env.NODE_OPTIONS;
  // The install helper and createPull below read their settings (database, keys) from this process's environment.
  Object.assign(process.env, env);
  const install = await simulatedInstall({
    apiKey: BENCH_APP.apiKey,
    apiSecret: BENCH_APP.apiSecret,
    scopes: SCOPES,
    size: "small",
    dataDir: ".data/bench-simulator-soak",
  });
  running.push({ stop: () => install.close() });
  const { createPull } = await import("../app/models/pulls.server");
  const { default: appPrisma, pgPool } = await import("../app/db.server");
  running.push({ stop: () => Promise.all([appPrisma.$disconnect(), pgPool.end()]) });
  const { prisma, shop } = install;

  const accountId = randomBytes(24).toString("base64url");
  await prisma.pixelConnection.create({
    data: { shop, accountId, ingestUrl: "https://bench.example/api/pixel/events", status: "connected" },
  });

  const processEnv = {
    ...env,
    SHOPIFY_SIMULATOR_URL: install.simulatorUrl,
    BULK_POLL_INTERVAL_MS: "1000",
    PIXEL_SHOP_EVENTS_PER_MINUTE: "100000000",
    PIXEL_CLIENT_EVENTS_PER_MINUTE: "100000000",
  };
  const app = await startAppServer(processEnv);
  running.push(app);
  const worker = await startWorker(processEnv);
  running.push(worker);
  install.simulator.setAppUrl(app.url);
  const processes: [string, RunningProcess][] = [
    ["app", app],
    ["worker", worker],
  ];

  const runPrefix = randomBytes(4).toString("hex");
  let pixelSequence = 0;
  const nextPixelEvent = () => {
    const id = `${runPrefix}-${++pixelSequence}`;
    const event = {
      id,
      name: "product_viewed",
      timestamp: new Date().toISOString(),
      clientId: `visitor-${pixelSequence % VISITORS}`,
      url: `https://${shop}/products/merino-beanie`,
      data: {
        productId: "gid://shopify/Product/1001",
        variantId: "gid://shopify/ProductVariant/2001",
        productTitle: "Merino beanie",
        price: "24.00",
        currency: "USD",
      },
    };
    return { body: JSON.stringify({ accountId, event }), tag: id };
  };

  // Shopify delivers some events more than once; those must be recorded once.
  const sentEventIds: string[] = [];
  let webhookSequence = 0;
  const nextWebhook = () => {
    const duplicate = ++webhookSequence % DUPLICATE_EVERY === 0;
    const eventId = duplicate ? sentEventIds[Math.floor(Math.random() * sentEventIds.length)]! : randomUUID();
    if (!duplicate) sentEventIds.push(eventId);
    // The granted scopes stay as they are, so that the pulls running meanwhile keep their access.
    const body = JSON.stringify({
      id: webhookSequence,
      previous: [],
      current: SCOPES.split(","),
      updated_at: new Date(),
    });
    return {
      body,
      tag: eventId,
      headers: signedWebhookHeaders(WEBHOOK_TOPIC, shop, body, eventId),
    };
  };

  let pullsFinished = 0;
  let pullsFailed = 0;
  let loadsOver = false;
  const runPulls = async () => {
    for (let kind: "full" | "incremental" = "full"; !loadsOver; kind = "incremental") {
      const pull = await createPull({ shop, kind, trigger: "merchant" });
      const deadline = Date.now() + PULL_TIMEOUT_MS;
      let ended: { status: string; error: string | null } | null = null;
      while (!ended) {
        if (Date.now() > deadline) throw new Error(`${kind} pull ${pull.id} did not end within ${PULL_TIMEOUT_MS} ms`);
        await sleep(200);
        const row = await prisma.dataPull.findUniqueOrThrow({ where: { id: pull.id } });
        if (["succeeded", "failed", "cancelled"].includes(row.status)) ended = row;
      }
      pullsFinished++;
      if (ended.status !== "succeeded") {
        pullsFailed++;
        log(`${kind} pull ${pull.id} ${ended.status}: ${ended.error}`);
      }
    }
  };

  const interval = { pixel: [] as number[], webhook: [] as number[], startedAt: 0 };
  const everyAnswer = { pixel: [] as number[], webhook: [] as number[] };
  const rssNow = () => processes.map(([, proc]) => Math.round(residentMb(proc.child.pid!)));
  const report = () => {
    const now = performance.now();
    const seconds = (now - interval.startedAt) / 1000;
    const rss = rssNow();
    const figures = (latencies: number[]) => {
      latencies.sort((a, b) => a - b);
      return `${Math.round(latencies.length / seconds)}/s p99 ${percentile(latencies, 99)} ms`;
    };
    log(
      `${Math.round((now - started) / 1000)} s: pixel ${figures(interval.pixel)} · webhooks ${figures(interval.webhook)} · ` +
        `pulls ${pullsFinished} · RSS ${processes.map(([name], i) => `${name} ${rss[i]} MB`).join(", ")}`,
    );
    interval.pixel = [];
    interval.webhook = [];
    interval.startedAt = now;
    return rss.reduce((a, b) => a + b, 0);
  };
  const recordInto = (kind: "pixel" | "webhook") => (latency: number) => {
    interval[kind].push(latency);
    everyAnswer[kind].push(latency);
  };

  const started = performance.now();
  interval.startedAt = started;
  const pulls = runPulls();
  const loads = Promise.all([
    runLoad({
      url: `${app.url}/api/pixel/events`,
      concurrency: PIXEL_CONCURRENCY,
      seconds: SOAK_SECONDS,
      next: nextPixelEvent,
      headers: { "content-type": "text/plain;charset=UTF-8", origin: "null" },
      onAnswer: recordInto("pixel"),
      signal: abortLoads.signal,
    }),
    runLoad({
      url: `${app.url}/webhooks/app/scopes_update`,
      concurrency: WEBHOOK_CONCURRENCY,
      seconds: SOAK_SECONDS,
      next: nextWebhook,
      headers: { "content-type": "application/json", "user-agent": "Shopify-Captain-Hook" },
      onAnswer: recordInto("webhook"),
      signal: abortLoads.signal,
    }),
  ]);
  // The interval loop races the pull loop, so that a failing pull ends the run at once; until then its
  // rejection must not count as unhandled.
  pulls.catch(() => {});
  let rssStart = 0;
  let rssEnd = 0;
  for (let tick = 1; tick * INTERVAL_SECONDS <= SOAK_SECONDS; tick++) {
    await Promise.race([sleep(started + tick * INTERVAL_SECONDS * 1000 - performance.now()), pulls]);
    rssEnd = report();
    if (tick * INTERVAL_SECONDS === WARMUP_SECONDS) rssStart = rssEnd;
  }
  const [pixelResult, webhookResult] = await loads;
  if (SOAK_SECONDS % INTERVAL_SECONDS !== 0) rssEnd = report();
  if (rssStart === 0) rssStart = rssEnd;
  loadsOver = true;
  await pulls;

  const acknowledgedEvents = [...new Set(webhookResult.acknowledged)];
  log(
    `pixel: ${pixelResult.acknowledged.length} acknowledged, statuses ${JSON.stringify(pixelResult.statuses)}, ${pixelResult.errors} errors; ` +
      `webhooks: ${webhookResult.requests} sent, ${acknowledgedEvents.length} distinct acknowledged, statuses ${JSON.stringify(webhookResult.statuses)}, ${webhookResult.errors} errors; waiting for the worker…`,
  );
  const drainDeadline = Date.now() + WEBHOOK_DRAIN_TIMEOUT_MS;
  let processed = 0;
  while (Date.now() < drainDeadline) {
    processed = await prisma.webhookDelivery.count({
      where: { shop, topic: WEBHOOK_TOPIC, status: { in: ["processed", "ignored"] } },
    });
    if (processed >= acknowledgedEvents.length) break;
    await sleep(500);
  }
  const [lag] = await prisma.$queryRaw<{ seconds: number | null }[]>`
    SELECT max(extract(epoch FROM "processedAt" - "receivedAt"))::float8 AS seconds
    FROM "WebhookDelivery" WHERE shop = ${shop} AND topic = ${WEBHOOK_TOPIC}`;

  /** How many of `ids` have no row in `table` (the shop's, by `column`). */
  const missing = async (table: string, column: string, ids: string[]) => {
    const rows = await prisma.$queryRawUnsafe<{ n: bigint }[]>(
      `SELECT count(*) AS n FROM unnest($1::text[]) AS acknowledged(id)
       WHERE NOT EXISTS (SELECT 1 FROM "${table}" WHERE shop = $2 AND "${column}" = acknowledged.id)`,
      ids,
      shop,
    );
    return Number(rows[0]!.n);
  };
  const lostPixel = await missing("PixelEvent", "eventId", pixelResult.acknowledged);
  const lostWebhooks = await missing("WebhookDelivery", "dedupeKey", acknowledgedEvents);
  const lost = lostPixel + lostWebhooks;
  log(
    `lost: ${lostPixel} pixel events, ${lostWebhooks} webhooks; ${processed} webhooks processed, at most ${lag!.seconds?.toFixed(1)} s after they arrived`,
  );

  const allLatencies = [...everyAnswer.pixel, ...everyAnswer.webhook].sort((a, b) => a - b);
  process.stdout.write(
    `${JSON.stringify({
      minutes: Math.round((SOAK_SECONDS / 60) * 10) / 10,
      warmup_minutes: Math.round((WARMUP_SECONDS / 60) * 10) / 10,
      events: pixelResult.acknowledged.length,
      webhooks: webhookResult.acknowledged.length,
      p99_ms: percentile(allLatencies, 99),
      rss_start_mb: rssStart,
      rss_end_mb: rssEnd,
      lost,
      pulls: pullsFinished,
      pulls_failed: pullsFailed,
      webhook_events: acknowledgedEvents.length,
      webhooks_unprocessed: Math.max(0, acknowledgedEvents.length - processed),
      pixel_p99_ms: percentile(
        everyAnswer.pixel.sort((a, b) => a - b),
        99,
      ),
      webhook_p99_ms: percentile(
        everyAnswer.webhook.sort((a, b) => a - b),
        99,
      ),
      rss_growth_ratio: Math.round((rssEnd / rssStart) * 100) / 100,
      node_options: nodeOptions,
    })}\n`,
  );
  failed = lost > 0 || pullsFailed > 0;
} catch (error) {
  failed = true;
  throw error;
} finally {
  abortLoads.abort();
  for (const part of running.reverse()) await part.stop().catch((error) => log(`stop: ${error}`));
  await server.stop();
  if (failed) process.exitCode = 1;
}
