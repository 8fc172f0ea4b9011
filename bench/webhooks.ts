/**
 * `npm run bench:webhooks`: a burst of 2,000 signed deliveries at
 * concurrency 50 against the real app server, with a worker processing them.
 * One delivery in ten repeats an earlier event (as Shopify's duplicates do).
 * The app's CPU time across the burst, per delivery, is compared with a bare
 * node:http server's for the same requests in the same run (the reference).
 * Prints progress to stderr and, last, one JSON line. For diagnosis:
 * BENCH_CONCURRENCY (default 50), BENCH_WORKER_AFTER=1 (start the worker only
 * after the burst), BENCH_APP_NODE_OPTIONS (e.g. a CPU profile of the app).
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { startAppServer, startProcess, startWorker } from "../tests/helpers/processes";
import { benchAppEnv, benchPostgres, cpuSeconds, log, percentile, signedWebhookHeaders } from "./bench-env";

const SENT = 2000;
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

  /** Sends every delivery at CONCURRENCY; answers the latencies, the 2xx count and the server's CPU seconds. */
  async function burst(url: string, pid: number) {
    const latencies: number[] = [];
    let acknowledged = 0;
    let next = 0;
    const cpuBefore = cpuSeconds(pid);
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < deliveries.length) {
          const delivery = deliveries[next++]!;
          const sentAt = performance.now();
          const response = await fetch(url, {
            method: "POST",
            body: delivery.body,
            headers: signedWebhookHeaders("app/scopes_update", SHOP, delivery.body, delivery.eventId),
          });
          await response.arrayBuffer();
          latencies.push(performance.now() - sentAt);
          if (response.ok) acknowledged++;
        }
      }),
    );
    return { latencies, acknowledged, cpuSeconds: cpuSeconds(pid) - cpuBefore };
  }

  const bare = startProcess("bench/bare-server.ts", {});
  const bareUrl = `http://127.0.0.1:${(await bare.waitForLog((line) => line.msg === "bare server listening")).port}`;
  const reference = await burst(bareUrl, bare.child.pid!);
  await bare.stop();

  const started = performance.now();
  const {
    latencies,
    acknowledged,
    cpuSeconds: appCpuSeconds,
  } = await burst(`${app.url}/webhooks/app/scopes_update`, app.child.pid!);
  const burstSeconds = (performance.now() - started) / 1000;
  log(`${acknowledged}/${SENT} acknowledged in ${burstSeconds.toFixed(1)} s; waiting for the worker…`);
  worker ??= await startWorker(env);
  let processed = 0;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    processed = Number(
      (await db.query(`SELECT count(*) FROM "WebhookDelivery" WHERE status = 'processed'`)).rows[0].count,
    );
    if (processed >= unique) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const recorded = Number((await db.query(`SELECT count(*) FROM "WebhookDelivery"`)).rows[0].count);
  await Promise.all([app.stop(), worker.stop()]);
  await db.end();
  latencies.sort((a, b) => a - b);
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
      bare_cpu_ms_per_request: Math.round((reference.cpuSeconds / SENT) * 1e5) / 100,
      bare_acknowledged: reference.acknowledged,
    })}\n`,
  );
} finally {
  await server.stop();
}
