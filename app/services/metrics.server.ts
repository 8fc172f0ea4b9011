import type { IncomingMessage, ServerResponse } from "node:http";
import client from "prom-client";
import { opsAuthorized, opsEnabled } from "./ops-auth.server";

/**
 * The one metrics registry of a process, in Prometheus' text format. The app
 * server and its bundled Remix build each load this module, so the metrics
 * live on globalThis and are made once.
 */

function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const seconds = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
  return {
    registry,
    httpDuration: new client.Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP requests by method, route and status class",
      labelNames: ["method", "route", "status"] as const,
      buckets: seconds,
      registers: [registry],
    }),
    jobDuration: new client.Histogram({
      name: "job_duration_seconds",
      help: "Job runs by task and outcome (success, error)",
      labelNames: ["task", "outcome"] as const,
      buckets: [...seconds, 30, 60, 300, 1800],
      registers: [registry],
    }),
    jobFailures: new client.Counter({
      name: "job_failures_total",
      help: "Job attempts that threw, by task; permanent says the job will not be retried",
      labelNames: ["task", "permanent"] as const,
      registers: [registry],
    }),
    pixelEvents: new client.Counter({
      name: "pixel_events_total",
      help: "Storefront pixel events received, by outcome",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    webhookDeliveries: new client.Counter({
      name: "webhook_deliveries_total",
      help: "Webhook deliveries accepted (HMAC valid), by topic",
      labelNames: ["topic"] as const,
      registers: [registry],
    }),
    llmCalls: new client.Counter({
      name: "llm_calls_total",
      help: "LLM requests, by purpose and outcome",
      labelNames: ["purpose", "outcome"] as const,
      registers: [registry],
    }),
    llmTokens: new client.Counter({
      name: "llm_tokens_total",
      help: "LLM tokens, by purpose and kind (prompt, completion)",
      labelNames: ["purpose", "kind"] as const,
      registers: [registry],
    }),
    llmCost: new client.Counter({
      name: "llm_cost_usd_total",
      help: "Estimated LLM cost in US dollars, by purpose",
      labelNames: ["purpose"] as const,
      registers: [registry],
    }),
  };
}

const KEY = Symbol.for("microsegment.metrics");
const holder = globalThis as unknown as Record<symbol, ReturnType<typeof createMetrics> | undefined>;
export const metrics = (holder[KEY] ??= createMetrics());

/** A low-cardinality route label: ids, numbers and tokens become ":id". */
export function routeLabel(pathname: string) {
  const parts = pathname.split("/").slice(0, 5);
  return (
    parts
      .map((part) => (/^[0-9a-f-]{16,}$/i.test(part) || /\d/.test(part) || part.length > 40 ? ":id" : part))
      .join("/") || "/"
  );
}

/** GET /metrics of an app server or a worker: Prometheus text, behind the operator secret (404 without one). */
export async function serveMetrics(req: IncomingMessage, res: ServerResponse) {
  if (!opsEnabled()) return void res.writeHead(404).end();
  if (!opsAuthorized(req.headers.authorization)) {
    return void res.writeHead(401, { "www-authenticate": 'Bearer realm="metrics"' }).end();
  }
  const body = await metrics.registry.metrics();
  res.writeHead(200, { "content-type": metrics.registry.contentType, "cache-control": "no-store" }).end(body);
}

/** Jobs by task and state, read from the queue when Prometheus scrapes (app servers only). */
export function registerQueueDepthGauge(read: () => Promise<{ task: string; state: string; jobs: number }[]>) {
  if (metrics.registry.getSingleMetric("job_queue_depth")) return;
  new client.Gauge({
    name: "job_queue_depth",
    help: "Jobs in the queue by task and state (ready, scheduled, running, failed)",
    labelNames: ["task", "state"] as const,
    registers: [metrics.registry],
    async collect() {
      this.reset();
      for (const row of await read()) this.set({ task: row.task, state: row.state }, row.jobs);
    },
  });
}
