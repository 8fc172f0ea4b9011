import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Config } from "../config.server";
import { logger } from "../logger.server";

/**
 * What the HTTP server lets a client hold: how long it may take to send its headers and its whole request,
 * how many connections may be open, and how large a body each route reads. Bodies are refused from their
 * Content-Length before a byte is read, and cut while streaming when they run past it.
 */

// How often Node looks for requests past their timeouts (its default, 30 s, would let a slow client
// keep a connection up to 30 s beyond them).
const TIMEOUT_CHECK_INTERVAL_MS = 1000;
const DROP_LOG_INTERVAL_MS = 10_000;
// Longer than the 60 s idle timeout of common load balancers, so they never reuse a connection just closed.
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export const serverOptions = { connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS };

/** Timeouts and the connection cap, from the settings; refused connections are counted in one log line now and then. */
export function applyServerLimits(server: Server, config: Config) {
  server.headersTimeout = config.HTTP_HEADERS_TIMEOUT_MS;
  server.requestTimeout = config.HTTP_REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.maxConnections = config.HTTP_MAX_CONNECTIONS;
  let dropped = 0;
  let lastLog = 0;
  server.on("drop", () => {
    dropped++;
    const now = Date.now();
    if (now - lastLog < DROP_LOG_INTERVAL_MS) return;
    logger.warn({ dropped, limit: config.HTTP_MAX_CONNECTIONS }, "connections refused: too many open");
    lastLog = now;
    dropped = 0;
  });
}

/** Routes that read a body, by path prefix, and how large a body each may send. Every other path reads none. */
export function bodyLimits(config: Config, routes: { pixelPath: string; pixelLimit: number; webhookPaths: string[] }) {
  const webhookPaths = new Set(routes.webhookPaths);
  const formAndJsonPrefixes = ["/app", "/api", "/auth", "/ops"];
  return (pathname: string) => {
    if (pathname === routes.pixelPath) return routes.pixelLimit;
    if (webhookPaths.has(pathname)) return config.WEBHOOK_MAX_BODY_BYTES;
    const reads = formAndJsonPrefixes.some((prefix) => pathname === prefix || pathname.startsWith(`${prefix}/`));
    return reads ? config.MAX_BODY_BYTES : 0;
  };
}

/** Whether the request says it sends more than the limit (a body without a length counts as more than 0). */
export function declaresMoreThan(req: IncomingMessage, limit: number) {
  const length = req.headers["content-length"];
  if (length !== undefined) return Number(length) > limit || Number.isNaN(Number(length));
  return limit === 0 && req.headers["transfer-encoding"] !== undefined;
}

/** The body, or undefined when it runs past the limit (the rest is then not read). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  if (declaresMoreThan(req, limit)) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received <= limit) return void chunks.push(chunk);
      req.off("data", onData);
      req.pause();
      resolve(undefined);
    };
    req.on("data", onData);
    req.on("end", () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received)));
    req.on("error", reject);
  });
}

/** 413 for a body past its route's limit; the connection closes, so the rest is never read. */
export function refuseTooLarge(res: ServerResponse, limit: number, headers: Record<string, string> = {}) {
  res.shouldKeepAlive = false;
  res.writeHead(413, { ...headers, "content-type": "application/json", connection: "close" });
  res.end(JSON.stringify({ error: `request body larger than ${limit} bytes` }));
}
