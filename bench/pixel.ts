/**
 * `npm run bench:pixel`: single-event requests at rising concurrency, at
 * least 20 s a step, against POST /api/pixel/events of the real app server
 * (production build, embedded PostgreSQL) and, in the same run, against a
 * bare node:http server answering 204 (the reference). Then checks that
 * every acknowledged event is in the database. Prints a line a step to
 * stderr and, last, one JSON line for the best step (the highest
 * throughput whose p99 is within 50 ms).
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { startAppServer, startProcess } from "../tests/helpers/processes";
import { benchAppEnv, benchPostgres, cpuSeconds, log, percentile } from "./bench-env";
import { runLoad, type LoadResult } from "./http-load";

// 20 s a step by default; shorter only for a quick look (the JSON line says which).
const STEP_SECONDS = Number(process.env.BENCH_STEP_SECONDS ?? 20);
const CONCURRENCY_STEPS = (process.env.BENCH_CONCURRENCY ?? "16,64,128,192,256").split(",").map(Number);
const P99_TARGET_MS = 50;
const SHOP = "bench-pixel.myshopify.com";
const ACCOUNT_ID = randomBytes(24).toString("base64url");
const VISITORS = 2000;

const server = await benchPostgres(".data/postgres-bench-pixel", 54334);
try {
  const databaseUrl = await server.freshDatabase("bench_pixel");
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  await db.query(
    `INSERT INTO "PixelConnection" (shop, "accountId", "ingestUrl", status, "updatedAt")
     VALUES ($1, $2, 'https://bench.example/api/pixel/events', 'connected', now())`,
    [SHOP, ACCOUNT_ID],
  );
  const app = await startAppServer({
    ...benchAppEnv(databaseUrl),
    PIXEL_SHOP_EVENTS_PER_MINUTE: "100000000",
    PIXEL_CLIENT_EVENTS_PER_MINUTE: "100000000",
  });
  const bare = startProcess("bench/bare-server.ts", {});
  const bareUrl = `http://127.0.0.1:${(await bare.waitForLog((line) => line.msg === "bare server listening")).port}`;

  let sequence = 0;
  const runPrefix = randomBytes(4).toString("hex");
  const nextEvent = () => {
    const id = `${runPrefix}-${++sequence}`;
    const event = {
      id,
      name: "product_viewed",
      timestamp: new Date().toISOString(),
      clientId: `visitor-${sequence % VISITORS}`,
      url: "https://bench-pixel.example/products/merino-beanie",
      data: {
        productId: "gid://shopify/Product/1001",
        variantId: "gid://shopify/ProductVariant/2001",
        productTitle: "Merino beanie",
        price: "24.00",
        currency: "CAD",
      },
    };
    return { body: JSON.stringify({ accountId: ACCOUNT_ID, event }), tag: id };
  };
  const headers = { "content-type": "text/plain;charset=UTF-8", origin: "null" };

  const summarize = (result: LoadResult) => ({
    per_s: Math.round(result.perSecond),
    p50_ms: percentile(result.latencies, 50),
    p99_ms: percentile(result.latencies, 99),
  });

  const steps: { concurrency: number; app: LoadResult; bare: LoadResult }[] = [];
  const acknowledged = new Set<string>();
  for (const concurrency of CONCURRENCY_STEPS) {
    const bareResult = await runLoad({ url: bareUrl, concurrency, seconds: STEP_SECONDS, next: nextEvent, headers });
    const cpuBefore = cpuSeconds(app.child.pid!);
    const appResult = await runLoad({
      url: `${app.url}/api/pixel/events`,
      concurrency,
      seconds: STEP_SECONDS,
      next: nextEvent,
      headers,
    });
    const appCpuUsPerEvent = ((cpuSeconds(app.child.pid!) - cpuBefore) / Math.max(1, appResult.requests)) * 1e6;
    for (const id of appResult.acknowledged) acknowledged.add(id);
    steps.push({ concurrency, app: appResult, bare: bareResult });
    log(
      `concurrency ${concurrency}: app ${JSON.stringify({ ...summarize(appResult), cpu_us_per_event: Math.round(appCpuUsPerEvent), statuses: appResult.statuses, errors: appResult.errors })} · bare ${JSON.stringify(summarize(bareResult))}`,
    );
  }

  const ids = [...acknowledged];
  let stored = 0;
  for (let i = 0; i < ids.length; i += 50_000) {
    const chunk = ids.slice(i, i + 50_000);
    const { rows } = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM "PixelEvent" WHERE shop = $1 AND "eventId" = ANY($2::text[])`,
      [SHOP, chunk],
    );
    stored += Number(rows[0]!.n);
  }
  await Promise.all([app.stop(), bare.stop()]);
  await db.end();

  const withinTarget = steps.filter((step) => percentile(step.app.latencies, 99) <= P99_TARGET_MS);
  const best = (withinTarget.length > 0 ? withinTarget : steps).reduce((a, b) =>
    b.app.perSecond > a.app.perSecond ? b : a,
  );
  const bestBare = Math.max(...steps.map((step) => step.bare.perSecond));
  process.stdout.write(
    `${JSON.stringify({
      events_per_s: Math.round(best.app.perSecond),
      p50_ms: percentile(best.app.latencies, 50),
      p99_ms: percentile(best.app.latencies, 99),
      concurrency: best.concurrency,
      step_seconds: STEP_SECONDS,
      bare_req_per_s: Math.round(bestBare),
      ratio_to_bare: Math.round((best.app.perSecond / bestBare) * 100) / 100,
      acknowledged: ids.length,
      stored,
      lost: ids.length - stored,
    })}\n`,
  );
} finally {
  await server.stop();
}
