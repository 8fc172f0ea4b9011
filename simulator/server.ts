import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { readFileSync } from "node:fs";
import { executeAdminQuery } from "./admin-graphql";
import { localAdminPage } from "./local-admin";
import { signSessionToken } from "./session-token";
import { InvalidSessionTokenError, verifySessionToken } from "./session-token";
import { SimulatorStore } from "./store";

/**
 * A local stand-in for the parts of Shopify the app talks to. Requests
 * arrive through the app's simulator transport, which names the target shop
 * in the x-simulated-shop header.
 */

export interface SimulatorOptions {
  apiKey: string;
  apiSecret: string;
  scopes: string;
  store?: SimulatorStore;
  /** Lifetime of expiring offline access tokens, in seconds (Shopify: 1 hour). */
  accessTokenLifetime?: number;
  /** Added latency of every Admin API answer, for tests of slow networks and shutdown. */
  adminLatencyMs?: number;
  /** The app's URL, for the local Admin page that frames it. */
  appUrl?: string;
}

const APP_BRIDGE_STAND_IN = readFileSync(new URL("./public/app-bridge.js", import.meta.url));

const ONLINE_TOKEN_LIFETIME = 24 * 3600;
const REFRESH_TOKEN_LIFETIME = 90 * 24 * 3600;
const ADMIN_GRAPHQL_PATH = /^\/admin\/api\/(\d{4}-\d{2}|unstable)\/graphql\.json$/;

const tokenRequest = z.discriminatedUnion("grant_type", [
  z.object({
    grant_type: z.literal("urn:ietf:params:oauth:grant-type:token-exchange"),
    client_id: z.string(),
    client_secret: z.string(),
    subject_token: z.string(),
    subject_token_type: z.literal("urn:ietf:params:oauth:token-type:id_token"),
    requested_token_type: z.enum([
      "urn:shopify:params:oauth:token-type:offline-access-token",
      "urn:shopify:params:oauth:token-type:online-access-token",
    ]),
    expiring: z.enum(["0", "1"]).optional(),
  }),
  z.object({
    grant_type: z.literal("refresh_token"),
    client_id: z.string(),
    client_secret: z.string(),
    refresh_token: z.string(),
  }),
]);

const graphqlRequest = z.object({
  query: z.string(),
  variables: z.record(z.string(), z.unknown()).nullish(),
  operationName: z.string().nullish(),
});

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8") || "null");
}

function targetShop(req: IncomingMessage): string | undefined {
  const named = req.headers["x-simulated-shop"];
  if (typeof named === "string") return named;
  const host = req.headers.host?.split(":")[0];
  return host?.endsWith(".myshopify.com") ? host : undefined;
}

export function createSimulator(options: SimulatorOptions) {
  const store = options.store ?? new SimulatorStore();
  const accessTokenLifetime = options.accessTokenLifetime ?? 3600;
  const events = new EventEmitter<{ adminRequest: [shop: string] }>();

  function issueOffline(shop: string, expiring: boolean) {
    const access = store.issueToken("offline", shop, options.scopes, expiring ? accessTokenLifetime : null);
    if (!expiring) return { access_token: access.token, scope: options.scopes };
    const refresh = store.issueToken("refresh", shop, options.scopes, REFRESH_TOKEN_LIFETIME);
    return {
      access_token: access.token,
      scope: options.scopes,
      expires_in: accessTokenLifetime,
      refresh_token: refresh.token,
      refresh_token_expires_in: REFRESH_TOKEN_LIFETIME,
    };
  }

  async function handleToken(req: IncomingMessage, res: ServerResponse, shop: string) {
    const parsed = tokenRequest.safeParse(await readJson(req).catch(() => null));
    if (!parsed.success) return send(res, 400, { error: "invalid_request" });
    const body = parsed.data;
    if (body.client_id !== options.apiKey || body.client_secret !== options.apiSecret) {
      return send(res, 401, { error: "invalid_client" });
    }
    if (!store.shops.has(shop)) return send(res, 404, { error: "shop_not_found" });
    if (body.grant_type === "refresh_token") {
      const refresh = store.validToken(body.refresh_token, ["refresh"]);
      if (!refresh || refresh.shop !== shop) return send(res, 400, { error: "invalid_grant" });
      store.revokeToken(refresh.token);
      return send(res, 200, issueOffline(shop, true));
    }
    let claims;
    try {
      claims = verifySessionToken(body.subject_token, options.apiKey, options.apiSecret);
    } catch (error) {
      if (error instanceof InvalidSessionTokenError) return send(res, 400, { error: "invalid_subject_token" });
      throw error;
    }
    if (new URL(claims.dest).hostname !== shop) return send(res, 400, { error: "invalid_subject_token" });
    if (body.requested_token_type.endsWith("online-access-token")) {
      const online = store.issueToken("online", shop, options.scopes, ONLINE_TOKEN_LIFETIME);
      return send(res, 200, {
        access_token: online.token,
        scope: options.scopes,
        expires_in: ONLINE_TOKEN_LIFETIME,
        associated_user_scope: options.scopes,
        associated_user: {
          id: Number(claims.sub),
          first_name: "Demo",
          last_name: "Owner",
          account_owner: true,
          locale: "en",
          collaborator: false,
          email_verified: true,
        },
      });
    }
    return send(res, 200, issueOffline(shop, body.expiring === "1"));
  }

  async function handleGraphql(req: IncomingMessage, res: ServerResponse, shop: string) {
    const token = req.headers["x-shopify-access-token"];
    const issued = store.validToken(typeof token === "string" ? token : undefined, ["offline", "online"]);
    if (!issued || issued.shop !== shop) {
      return send(res, 401, { errors: "[API] Invalid API key or access token (unrecognized login or wrong password)" });
    }
    const parsed = graphqlRequest.safeParse(await readJson(req).catch(() => null));
    if (!parsed.success) return send(res, 400, { errors: "Invalid JSON body: expected {query, variables}" });
    events.emit("adminRequest", shop);
    if (options.adminLatencyMs) await sleep(options.adminLatencyMs);
    const result = await executeAdminQuery(store, shop, parsed.data.query, parsed.data.variables ?? undefined);
    return send(res, 200, result);
  }

  function handleLocalAdmin(_req: IncomingMessage, res: ServerResponse, url: URL) {
    if (url.pathname === "/app-bridge.js") {
      res.writeHead(200, { "content-type": "text/javascript", "cache-control": "no-cache" });
      return res.end(APP_BRIDGE_STAND_IN);
    }
    const shop = store.shops.get(url.searchParams.get("shop") ?? "") ?? store.shops.values().next().value;
    if (!shop) return send(res, 404, { error: "the simulated store has no shop yet" });
    if (url.pathname === "/admin/local/session-token") {
      const token = signSessionToken({ shop: shop.domain, apiKey: options.apiKey, apiSecret: options.apiSecret });
      return send(res, 200, { token }, { "cache-control": "no-store" });
    }
    if (url.pathname === "/admin/local") {
      if (!options.appUrl) return send(res, 404, { error: "no appUrl configured for the local Admin" });
      const page = localAdminPage(
        { appUrl: options.appUrl, apiKey: options.apiKey, apiSecret: options.apiSecret },
        shop,
        url.searchParams.get("path") ?? "/app",
      );
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      return res.end(page);
    }
    return send(res, 404, { errors: "Not Found" });
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://simulator");
    const shop = targetShop(req);
    const route = async () => {
      if (url.pathname === "/healthz") return send(res, 200, { status: "ok" });
      if (req.method === "GET" && (url.pathname.startsWith("/admin/local") || url.pathname === "/app-bridge.js")) {
        return handleLocalAdmin(req, res, url);
      }
      const isToken = req.method === "POST" && url.pathname === "/admin/oauth/access_token";
      const isGraphql = req.method === "POST" && ADMIN_GRAPHQL_PATH.test(url.pathname);
      if (!isToken && !isGraphql) return send(res, 404, { errors: "Not Found" });
      if (!shop) return send(res, 400, { error: "no shop named (x-simulated-shop header or *.myshopify.com host)" });
      return isToken ? handleToken(req, res, shop) : handleGraphql(req, res, shop);
    };
    route().catch((error) => send(res, 500, { errors: String(error) }));
  });

  return {
    store,
    server,
    events,
    async listen(port = 0, host = "127.0.0.1"): Promise<string> {
      await new Promise<void>((resolve) => server.listen(port, host, resolve));
      return `http://${host}:${(server.address() as AddressInfo).port}`;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
