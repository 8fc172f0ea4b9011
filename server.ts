import { randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { createRequestHandler, writeReadableStreamToWritable, type ServerBuild } from "@remix-run/node";
import { loadConfig } from "./app/config.server";
import type { AppLoadContext } from "./app/load-context";
import { logger, requestContext } from "./app/logger.server";
import { queueDepths } from "./app/models/job-queue.server";
import {
  metrics,
  registerQueueDepthGauge,
  routeLabel,
  serveMetrics,
  setKnownRoutes,
} from "./app/services/metrics.server";
import { opsAuthorized, opsEnabled } from "./app/services/ops-auth.server";
import {
  applyServerLimits,
  bodyLimits,
  declaresMoreThan,
  readBody,
  refuseTooLarge,
  serverOptions,
} from "./app/services/http-limits.server";
import { handlePixelEvents, PIXEL_EVENTS_PATH, PIXEL_MAX_BODY_BYTES } from "./app/services/pixel-ingest.server";
import { malformedTarget } from "./app/services/request-input.server";
import { requestProtocol, setTransportHeaders } from "./app/services/security-headers.server";
import { handleWebhook, WEBHOOK_PATHS, webhookTopicOf, type WebhookTopic } from "./app/services/webhooks.server";

/**
 * The HTTP entry point: node:http in front of Remix. It owns what must not
 * depend on React rendering: request ids, access logs, body limits, timeouts,
 * static files and graceful shutdown. Storefront pixel events and webhook
 * deliveries arrive in bursts and skip Remix altogether (the fast path).
 */

const config = loadConfig();
const production = config.NODE_ENV === "production";
const CLIENT_DIR = path.resolve("build/client");
const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;
const SHUTDOWN_GRACE_MS = 10_000;

let draining = false;

const vite = production
  ? undefined
  : await import("vite").then((module) => module.createServer({ server: { middlewareMode: true } }));

const loadBuild = async (): Promise<ServerBuild> =>
  vite
    ? ((await vite.ssrLoadModule("virtual:remix/server-build")) as ServerBuild)
    : ((await import(path.resolve("build/server/index.js"))) as ServerBuild);

const productionBuild = production ? await loadBuild() : undefined;
const handleRemix = createRequestHandler(productionBuild ?? loadBuild, config.NODE_ENV);

// Metrics label requests by the route that serves them; in development the build is there once Vite has made it.
const OWN_PATHS = ["/metrics", PIXEL_EVENTS_PATH, "/assets/*"];
if (productionBuild) setKnownRoutes(productionBuild.routes, OWN_PATHS);
else void loadBuild().then((build) => setKnownRoutes(build.routes, OWN_PATHS));

function toRequest(req: IncomingMessage, res: ServerResponse, body: Buffer | undefined): Request {
  const url = new URL(req.url ?? "/", `${requestProtocol(req)}://${req.headers.host ?? "localhost"}`);
  const controller = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) controller.abort();
  });
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) value.forEach((item) => headers.append(name, item));
    else if (value !== undefined) headers.set(name, value);
  }
  return new Request(url, {
    method: req.method,
    headers,
    body: body && new Uint8Array(body),
    signal: controller.signal,
  });
}

async function sendResponse(res: ServerResponse, response: Response) {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  res.writeHead(response.status, response.statusText, headers);
  if (response.body) await writeReadableStreamToWritable(response.body, res);
  else res.end();
}

async function serveStatic(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  if (!production || (req.method !== "GET" && req.method !== "HEAD")) return false;
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
  } catch {
    return false;
  }
  const file = path.join(CLIENT_DIR, pathname);
  if (!file.startsWith(CLIENT_DIR + path.sep)) return false;
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) return false;
  const types: Record<string, string> = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
  };
  res.writeHead(200, {
    "content-type": types[path.extname(file)] ?? "application/octet-stream",
    "content-length": info.size,
    "cache-control": pathname.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "public, max-age=3600",
  });
  if (req.method === "HEAD") res.end();
  else createReadStream(file).pipe(res);
  return true;
}

registerQueueDepthGauge(queueDepths);

/** The operator page's gate, before Remix: absent without a secret, HTTP Basic with one. */
function operatorAdmitted(req: IncomingMessage, res: ServerResponse) {
  if (!opsEnabled()) res.writeHead(404).end();
  else if (!opsAuthorized(req.headers.authorization)) {
    res.writeHead(401, { "www-authenticate": 'Basic realm="MicroSegment operations", charset="UTF-8"' }).end();
  } else return true;
  return false;
}

const bodyLimitOf = bodyLimits(config, {
  pixelPath: PIXEL_EVENTS_PATH,
  pixelLimit: PIXEL_MAX_BODY_BYTES,
  webhookPaths: WEBHOOK_PATHS,
});

async function handle(req: IncomingMessage, res: ServerResponse, requestId: string, pathname: string) {
  res.setHeader("x-request-id", requestId);
  const malformed = malformedTarget(req.url ?? "/");
  if (malformed) {
    res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: malformed }));
    return;
  }
  const bodyLimit = bodyLimitOf(pathname);
  if (declaresMoreThan(req, bodyLimit)) return refuseTooLarge(res, bodyLimit);
  if (pathname === "/metrics") return serveMetrics(req, res);
  if ((pathname === "/ops" || pathname.startsWith("/ops/")) && !operatorAdmitted(req, res)) return;
  if (await serveStatic(req, res)) return;
  if (vite) {
    const passedOn = await new Promise<boolean>((resolve) => {
      res.once("close", () => resolve(false));
      vite.middlewares(req, res, () => resolve(true));
    });
    if (!passedOn) return;
  }
  let body: Buffer | undefined;
  if (req.method !== "GET" && req.method !== "HEAD") {
    body = await readBody(req, bodyLimit);
    if (!body) return refuseTooLarge(res, bodyLimit);
  }
  const context: AppLoadContext = { requestId, draining: () => draining };
  const response = await handleRemix(toRequest(req, res, body), context);
  await sendResponse(res, response);
}

const isPixelRequest = (url = "") =>
  url.startsWith(PIXEL_EVENTS_PATH) &&
  (url.length === PIXEL_EVENTS_PATH.length || url[PIXEL_EVENTS_PATH.length] === "?");

/** Answers a request whose handler threw: 500 if nothing was sent yet, otherwise the connection is cut. */
function failUnhandled(res: ServerResponse, error: unknown, body: Record<string, string>) {
  logger.error({ err: error }, "unhandled request error");
  if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify(body));
  else res.destroy();
}

const fastPathLatencyByLabels = new Map<string, { observe(seconds: number): void }>();

/** The latency histogram of a fast-path route for a method and status class, looked up once. */
function fastPathLatency(route: string, method: string, status: string) {
  const key = `${route} ${method} ${status}`;
  let histogram = fastPathLatencyByLabels.get(key);
  if (!histogram) {
    histogram = metrics.httpDuration.labels({ method, route, status });
    fastPathLatencyByLabels.set(key, histogram);
  }
  return histogram;
}

/**
 * Storefront events arrive by the thousand a second and webhooks in bursts of thousands, so they skip what
 * every other request gets (a request id, the logging context, an access line): their handlers log their own
 * refusals and failures, and latency is still measured.
 */
function serveFastPath(req: IncomingMessage, res: ServerResponse, route: string, handler: () => Promise<void>) {
  const started = performance.now();
  res.on("finish", () =>
    fastPathLatency(route, req.method ?? "", `${Math.floor(res.statusCode / 100)}xx`).observe(
      (performance.now() - started) / 1000,
    ),
  );
  handler().catch((error: unknown) => failUnhandled(res, error, { error: "Internal server error" }));
}

const server = createServer(serverOptions, (req, res) => {
  setTransportHeaders(req, res);
  if (isPixelRequest(req.url)) return serveFastPath(req, res, PIXEL_EVENTS_PATH, () => handlePixelEvents(req, res));
  const topic: WebhookTopic | undefined = webhookTopicOf(req.url);
  if (topic) return serveFastPath(req, res, `/webhooks/${topic}`, () => handleWebhook(req, res, topic));
  const incoming = req.headers["x-request-id"];
  const requestId = typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  const started = performance.now();
  const pathname = new URL(req.url ?? "/", "http://x").pathname;
  requestContext.run({ requestId }, () => {
    res.on("finish", () => {
      const ms = performance.now() - started;
      metrics.httpDuration.observe(
        { method: req.method ?? "", route: routeLabel(pathname), status: `${Math.floor(res.statusCode / 100)}xx` },
        ms / 1000,
      );
      logger.info(
        {
          method: req.method,
          path: pathname,
          status: res.statusCode,
          ms: Math.round(ms * 10) / 10,
        },
        "request",
      );
    });
    handle(req, res, requestId, pathname).catch((error: unknown) =>
      failUnhandled(res, error, { error: "Internal server error", requestId }),
    );
  });
});

applyServerLimits(server, config);

server.listen(config.PORT, () => {
  const { port } = server.address() as AddressInfo;
  logger.info({ port, mode: config.NODE_ENV }, "app server listening");
});

function shutdown(signal: string) {
  if (draining) return;
  draining = true;
  logger.info({ signal }, "draining: finishing in-flight requests");
  server.close(() => {
    logger.info("app server stopped");
    void vite?.close();
    process.exit(0);
  });
  server.closeIdleConnections();
  setTimeout(() => {
    logger.warn("shutdown grace period over; closing remaining connections");
    server.closeAllConnections();
  }, SHUTDOWN_GRACE_MS).unref();
}

process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
