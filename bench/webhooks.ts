/**
 * `npm run bench:webhooks`: a burst of 2,000 signed deliveries at
 * concurrency 50 against the real app server, with a worker processing them.
 * One delivery in ten repeats an earlier event (as Shopify's duplicates do).
 * Both servers first answer a warm-up of 300 deliveries of other events, not
 * measured (at concurrency 50 the cold start's first requests, JIT and pool
 * connections, are 2.5 % of the burst: exactly the p99); the worker has
 * processed them before the measured burst starts.
 * Requests go out on keep-alive node:http connections (bench/http-load.ts),
 * whose client costs far less CPU than fetch on the cores the servers share.
 * The app's CPU time and p99 across the burst are compared with a bare
 * node:http server's for the same requests in the same run (the reference;
 * "p99_ratio_to_bare" is the figure that holds from one machine to another);
 * "worker_cpu_ms_per_delivery" is the worker's CPU from the burst's start
 * until every delivery is processed.
 * Prints progress to stderr and, last, one JSON line. For diagnosis:
 * BENCH_CONCURRENCY (default 50), BENCH_WORKER_AFTER=1 (start the worker only
 * after the burst), BENCH_APP_NODE_OPTIONS (e.g. a CPU profile of the app).
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { startAppServer, startProcess, startWorker } from "../tests/helpers/processes";
import { benchAppEnv, benchPostgres, cpuSeconds, log, percentile, signedWebhookHeaders } from "./bench-env";
import { runLoad } from "./http-load";

const SENT = 2000;
const WARM_UP = 300;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const SHOP = "bench-webhooks.myshopify.com";

const server = await benchPostgres(".data/postgres-bench-webhooks", 54332);
try {
  const databaseUrl = await server.freshDatabase("bench_webhooks");
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  await db.query(`INSERT INTO "Shop" (domain, "grantedScopes", "updatedAt") VALUES ($1, 'read_customers', now())`, [
    SHOP,
  ]);

  const env = benchAppEnv(databaseUrl);
  const app = await startAppServer(env);
  let worker = process.env.BENCH_WORKER_AFTER ? undefined : await startWorker(env);

  const events: string[] = [];
  const deliveries = Array.from({ length: SENT }, (_, i) => {
    const duplicate = i > 0 && i % 10 === 0;
    const eventId = duplicate ? events[Math.floor(i / 2)]! : randomUUID();
    if (!duplicate) events.push(eventId);
    return {
      eventId,
      body: JSON.stringify({
        id: i,
        previous: [],
        current: ["read_customers", `scope_${i}`],
        updated_at: new Date().toISOString(),
      }),
    };
  });
  const unique = new Set(deliveries.map((d) => d.eventId)).size;
  const warmUp = Array.from({ length: WARM_UP }, (_, i) => ({
    eventId: randomUUID(),
    body: JSON.stringify({
      id: SENT + i,
      previous: [],
      current: ["read_customers"],
      updated_at: new Date().toISOString(),
    }),
  }));

  /** Sends every delivery at CONCURRENCY; answers the latencies (sorted), the 2xx count and the server's CPU seconds. */
  async function burst(url: string, pid: number, sending = deliveries) {
    // Signed before the clock starts: the load generator shares the cores with the servers it measures.
    const requests = sending.map((delivery) => ({
      body: delivery.body,
      tag: delivery.eventId,
      headers: signedWebhookHeaders("app/scopes_update", SHOP, delivery.body, delivery.eventId),
    }));
    let next = 0;
    const cpuBefore = cpuSeconds(pid);
    const result = await runLoad({
      url,
      concurrency: CONCURRENCY,
      seconds: Infinity,
      next: () => requests[next++] ?? null,
    });
    if (result.errors > 0) throw new Error(`${result.errors} requests failed to connect or were cut`);
    return {
      latencies: result.latencies,
      acknowledged: result.acknowledged.length,
      cpuSeconds: cpuSeconds(pid) - cpuBefore,
    };
  }

  const bare = startProcess("bench/bare-server.ts", {});
  const bareUrl = `http://127.0.0.1:${(await bare.waitForLog((line) => line.msg === "bare server listening")).port}`;
  await burst(bareUrl, bare.child.pid!, warmUp);
  const reference = await burst(bareUrl, bare.child.pid!);
  await bare.stop();

  const appUrl = `${app.url}/webhooks/app/scopes_update`;
  const warmUpAcknowledged = (await burst(appUrl, app.child.pid!, warmUp)).acknowledged;
  /** Deliveries recorded, and processed (acted on, or deliberately left alone), of these events. */
  const count = async (eventIds: string[]) =>
    (
      await db.query<{ recorded: number; processed: number }>(
        `SELECT count(*)::int AS recorded, (count(*) FILTER (WHERE status IN ('processed', 'ignored')))::int AS processed
         FROM "WebhookDelivery" WHERE "dedupeKey" = ANY($1)`,
        [eventIds],
      )
    ).rows[0]!;
  const warmUpEvents = warmUp.map((delivery) => delivery.eventId);
  const warmUpDeadline = Date.now() + 60_000;
  while (worker && (await count(warmUpEvents)).processed < warmUpAcknowledged && Date.now() < warmUpDeadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const workerCpuBefore = worker ? cpuSeconds(worker.child.pid!) : 0;

  const started = performance.now();
  const { latencies, acknowledged, cpuSeconds: appCpuSeconds } = await burst(appUrl, app.child.pid!);
  const burstSeconds = (performance.now() - started) / 1000;
  log(`${acknowledged}/${SENT} acknowledged in ${burstSeconds.toFixed(1)} s; waiting for the worker…`);
  worker ??= await startWorker(env);
  let counted = { recorded: 0, processed: 0 };
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    counted = await count(events);
    if (counted.processed >= unique) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const workerCpuSeconds = cpuSeconds(worker.child.pid!) - workerCpuBefore;
  const { recorded, processed } = counted;
  await Promise.all([app.stop(), worker.stop()]);
  await db.end();
  log(`${unique} distinct events, ${recorded} recorded, ${processed} processed`);
  process.stdout.write(
    `${JSON.stringify({
      sent: SENT,
      distinct_events: unique,
      acknowledged,
      processed,
      p50_ms: percentile(latencies, 50),
      p99_ms: percentile(latencies, 99),
      lost: unique - recorded,
      app_cpu_ms_per_delivery: Math.round((appCpuSeconds / SENT) * 1e5) / 100,
      worker_cpu_ms_per_delivery: Math.round((workerCpuSeconds / unique) * 1e5) / 100,
      bare_cpu_ms_per_request: Math.round((reference.cpuSeconds / SENT) * 1e5) / 100,
      bare_p99_ms: percentile(reference.latencies, 99),
      p99_ratio_to_bare:
        Math.round((percentile(latencies, 99) / Math.max(percentile(reference.latencies, 99), 0.1)) * 100) / 100,
      bare_acknowledged: reference.acknowledged,
    })}\n`,
  );
} finally {
  await server.stop();
}
