import type { IncomingMessage, ServerResponse } from "node:http";
import { BlockList, isIP } from "node:net";
import type { TLSSocket } from "node:tls";
import { loadConfig } from "../config.server";

/**
 * Headers every answer carries whatever produced it (Remix, a static file, the
 * pixel, /metrics), set by server.ts before the handler runs, and the framing
 * rule of documents, set by entry.server.
 */

const HSTS = "max-age=31536000; includeSubDomains";

function trustedProxies() {
  const list = new BlockList();
  for (const entry of loadConfig().TRUSTED_PROXIES) {
    if (entry === "loopback") {
      list.addSubnet("127.0.0.0", 8, "ipv4");
      list.addAddress("::1", "ipv6");
      continue;
    }
    const [address, bits] = entry.split("/") as [string, string | undefined];
    const family = isIP(address) === 6 ? "ipv6" : "ipv4";
    if (bits === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(bits), family);
  }
  return list;
}

let proxies: BlockList | undefined;

function fromTrustedProxy(address: string | undefined) {
  if (!address) return false;
  proxies ??= trustedProxies();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return proxies.check(mapped[1]!, "ipv4");
  return proxies.check(address, isIP(address) === 6 ? "ipv6" : "ipv4");
}

/** "https" when the connection is TLS, or a configured proxy says it received the request over TLS. */
export function requestProtocol(req: IncomingMessage): "http" | "https" {
  if ((req.socket as TLSSocket).encrypted) return "https";
  const forwarded = req.headers["x-forwarded-proto"];
  if (typeof forwarded !== "string" || !fromTrustedProxy(req.socket.remoteAddress)) return "http";
  return forwarded.split(",")[0]!.trim().toLowerCase() === "https" ? "https" : "http";
}

/** nosniff on everything; HSTS only when the browser reached us over HTTPS (it ignores HSTS over HTTP anyway). */
export function setTransportHeaders(req: IncomingMessage, res: ServerResponse) {
  res.setHeader("x-content-type-options", "nosniff");
  if (requestProtocol(req) === "https") res.setHeader("strict-transport-security", HSTS);
}

/**
 * Pages Shopify Admin frames: the app under /app and the library's pages under
 * /auth that run inside the frame (session-token bounce, exit-iframe). The rest
 * (/, /auth/login, error pages elsewhere) is never framed by anyone.
 */
export function isEmbeddedPath(pathname: string) {
  if (pathname === "/app" || pathname.startsWith("/app/")) return true;
  return pathname.startsWith("/auth/") && pathname !== "/auth/login";
}

/** Documents outside the embedded app refuse every frame; inside it the library's frame-ancestors stay. */
export function setDocumentFramePolicy(request: Request, headers: Headers) {
  if (isEmbeddedPath(new URL(request.url).pathname)) return;
  headers.set("Content-Security-Policy", "frame-ancestors 'none'");
  headers.set("X-Frame-Options", "DENY");
}
