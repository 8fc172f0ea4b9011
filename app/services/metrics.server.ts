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

/** What a Remix build says of a route (`build.routes`): enough to spell its URL pattern. */
export interface ManifestRoute {
  path?: string;
  parentId?: string;
}

interface KnownRoute {
  segments: string[];
  label: string;
}

/**
 * Literal segments beat parameters, parameters beat a pattern's end, which beats a splat:
 * /api/segments/run before /api/segments/:id, /app before /app/*.
 */
const segmentRank = (segment: string | undefined) =>
  segment === undefined ? 1 : segment === "*" ? 0 : segment.startsWith(":") ? 2 : 3;

function bySpecificity(a: KnownRoute, b: KnownRoute) {
  for (let i = 0; i < Math.max(a.segments.length, b.segments.length); i++) {
    const rankA = segmentRank(a.segments[i]);
    const rankB = segmentRank(b.segments[i]);
    if (rankA !== rankB) return rankB - rankA;
  }
  return 0;
}

let knownRoutes: KnownRoute[] = [];

/**
 * The labels `routeLabel` may answer: the app's URL patterns from the Remix
 * route manifest, plus the paths server.ts answers itself. A catch-all at the
 * root matches anything, so it adds no label: what only it matches is "other".
 */
export function setKnownRoutes(manifest: Record<string, ManifestRoute | undefined>, ownPaths: string[] = []) {
  const fullPath = (id: string | undefined): string[] => {
    const route = id ? manifest[id] : undefined;
    if (!route) return [];
    return [...fullPath(route.parentId), ...(route.path ?? "").split("/").filter(Boolean)];
  };
  const patterns = new Map<string, string[]>();
  for (const id of Object.keys(manifest)) {
    const segments = fullPath(id);
    if (segments[0] === "*") continue;
    patterns.set(`/${segments.join("/")}`, segments);
  }
  for (const path of ownPaths) patterns.set(path, path.split("/").filter(Boolean));
  knownRoutes = [...patterns].map(([label, segments]) => ({ label, segments })).sort(bySpecificity);
}

function matches(route: KnownRoute, parts: string[]) {
  const { segments } = route;
  for (let i = 0; i < segments.length; i++) {
    if (segments[i] === "*") return true;
    if (i >= parts.length) return false;
    if (!segments[i]!.startsWith(":") && segments[i] !== parts[i]) return false;
  }
  return segments.length === parts.length;
}

/** A bounded route label: the URL pattern of the known route that serves the path, else "other". */
export function routeLabel(pathname: string) {
  const parts = pathname.split("/").filter(Boolean);
  return knownRoutes.find((route) => matches(route, parts))?.label ?? "other";
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
