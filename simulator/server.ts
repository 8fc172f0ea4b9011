import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { EventEmitter } from "node:events";
import { createReadStream, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parse as parseToml } from "smol-toml";
import { z } from "zod";
import { hostParam, localAdminPage } from "./local-admin";
import {
  customerPayload,
  customerRedactPayload,
  dataRequestPayload,
  orderPayload,
  productPayload,
  scopesUpdatePayload,
  shopPayload,
  shopRedactPayload,
} from "./rest-payloads";
import { InvalidSessionTokenError, signSessionToken, verifySessionToken } from "./session-token";
import { ShopRuntime, STAGED_UPLOAD_MAX_BYTES, STAGED_UPLOADS_PATH } from "./shop-runtime";
import { SimulatorStore } from "./store";
import { WebhookSender, type DeliveryReport } from "./webhooks";

/**
 * A local stand-in for the parts of Shopify the app talks to: OAuth (token
 * exchange, refresh, authorization code), the Admin GraphQL API with cost
 * and throttling, bulk operations and their result files, webhooks, and a
 * local Admin page. The app's requests arrive through its simulator
 * transport, which names the target shop in the x-simulated-shop header.
 */

export interface SimulatorOptions {
  apiKey: string;
  apiSecret: string;
  scopes: string;
  store?: SimulatorStore;
  /** The app's URL: the local Admin frames it and webhooks go there. */
  appUrl?: string;
  /** Lifetime of expiring offline access tokens, in seconds (Shopify: 1 hour). */
  accessTokenLifetime?: number;
  /** Added latency of every Admin API answer. */
  adminLatencyMs?: number;
  /** Leaky bucket of the Admin API (Shopify Standard: restores 100 points a second). */
  bucketSize?: number;
  restoreRate?: number;
  /** Where bulk operation result files and staged uploads are written. */
  dataDir?: string;
  bulkPageDelayMs?: number;
  /** shopify.app.toml whose subscriptions the webhook sender serves. */
  appTomlPath?: string;
  webhookMaxAttempts?: number;
  webhookBaseDelayMs?: number;
  pixelSettingsFields?: string[];
}

const ONLINE_TOKEN_LIFETIME = 24 * 3600;
const REFRESH_TOKEN_LIFETIME = 90 * 24 * 3600;
const ADMIN_GRAPHQL_PATH = /^\/admin\/api\/(\d{4}-\d{2}|unstable)\/graphql\.json$/;
const DEFAULT_PIXEL_EXTENSION_TOML = path.resolve("extensions/web-pixel/shopify.extension.toml");

/** The settings fields the app's web pixel extension declares; webPixelCreate/Update accept exactly these. */
export function pixelSettingsFieldsOf(tomlPath: string): string[] {
  const config = parseToml(readFileSync(tomlPath, "utf8")) as { settings?: { fields?: Record<string, unknown> } };
  return Object.keys(config.settings?.fields ?? {});
}

/**
 * The numeric API client id Shopify gives an app (its reserved metafield
 * namespace is `app--<id>`), derived from the API key so it stays the same
 * across restarts.
 */
export function apiClientIdOf(apiKey: string): string {
  return String(
    1_000_000 + (createHmac("sha256", "api-client-id").update(apiKey).digest().readUInt32BE(0) % 9_000_000),
  );
}

const APP_BRIDGE_STAND_IN = readFileSync(new URL("./public/app-bridge.js", import.meta.url));

const tokenRequest = z.union([
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
  z.object({
    grant_type: z.literal("authorization_code").optional(),
    client_id: z.string(),
    client_secret: z.string(),
    code: z.string(),
    expiring: z.enum(["0", "1"]).optional(),
  }),
]);

const graphqlRequest = z.object({
  query: z.string(),
  variables: z.record(z.string(), z.unknown()).nullish(),
  operationName: z.string().nullish(),
});

export const SIMULATED_EVENTS = [
  "app/uninstalled",
  "app/scopes_update",
  "customers/data_request",
  "customers/redact",
  "shop/redact",
  "orders/create",
  "customers/create",
  "customers/update",
  "products/update",
] as const;
export type SimulatedEvent = (typeof SIMULATED_EVENTS)[number];

const eventRequest = z.object({
  event: z.enum(SIMULATED_EVENTS),
  shop: z.string(),
  customer: z.number().int().nonnegative().optional(),
  product: z.number().int().nonnegative().optional(),
  duplicates: z.number().int().min(0).max(10).optional(),
});

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

async function readBytes(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function readBody(req: IncomingMessage): Promise<string> {
  return (await readBytes(req)).toString("utf8");
}

/** Answers as Google Cloud Storage does to a form POST: XML. */
function sendStorageXml(res: ServerResponse, status: number, xml: string) {
  res.writeHead(status, { "content-type": "application/xml; charset=UTF-8" });
  res.end(`<?xml version='1.0' encoding='UTF-8'?>${xml}`);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  if ((req.headers["content-type"] ?? "").includes("application/x-www-form-urlencoded")) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  return JSON.parse(text || "null");
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
  const events = new EventEmitter<{ adminRequest: [shop: string]; delivery: [report: DeliveryReport] }>();
  const runtimes = new Map<string, ShopRuntime>();
  const authorizationCodes = new Map<string, { shop: string; expiresAt: number }>();
  const faults = new Map<string, { status: number; remaining: number }>();
  let publicUrl = "";
  let appUrl = options.appUrl;
  const dataDir = options.dataDir ?? path.join(tmpdir(), `microsegment-simulator-${process.pid}`);

  const webhooks = new WebhookSender({
    appUrl: () => {
      if (!appUrl) throw new Error("the simulator has no appUrl to deliver webhooks to");
      return appUrl;
    },
    apiSecret: options.apiSecret,
    tomlPath: options.appTomlPath ?? path.resolve("shopify.app.toml"),
    maxAttempts: options.webhookMaxAttempts,
    baseDelayMs: options.webhookBaseDelayMs,
  });

  async function deliver(topic: string, shop: string, payload: unknown, duplicates = 0, waitForRetries = true) {
    // Without an app to deliver to, an event only changes the store.
    if (!appUrl) return [];
    const reports = await webhooks.deliver(topic, shop, payload, { duplicates, waitForRetries });
    for (const report of reports) events.emit("delivery", report);
    return reports;
  }

  function runtime(domain: string): ShopRuntime | undefined {
    const shop = store.shops.get(domain);
    if (!shop) return undefined;
    let existing = runtimes.get(domain);
    if (!existing) {
      existing = new ShopRuntime(shop, {
        bucketSize: options.bucketSize ?? 2000,
        restoreRate: options.restoreRate ?? 100,
        resultsDir: path.join(dataDir, "bulk"),
        uploadsDir: path.join(dataDir, "staged-uploads"),
        publicUrl: () => publicUrl,
        bulkPageDelayMs: options.bulkPageDelayMs ?? 0,
        pixelSettingsFields: options.pixelSettingsFields ?? pixelSettingsFieldsOf(DEFAULT_PIXEL_EXTENSION_TOML),
        apiClientId: apiClientIdOf(options.apiKey),
        notify: (topic, shopDomain, payload) => {
          if (appUrl) void deliver(topic, shopDomain, payload).catch(() => {});
        },
      });
      runtimes.set(domain, existing);
    }
    return existing;
  }

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

  function authorizeRedirect(url: URL, res: ServerResponse) {
    const shop = url.searchParams.get("shop") ?? "";
    const redirectUri = url.searchParams.get("redirect_uri");
    if (url.searchParams.get("client_id") !== options.apiKey || !redirectUri || !store.shops.has(shop)) {
      return send(res, 400, { error: "invalid_request" });
    }
    const code = randomBytes(16).toString("hex");
    authorizationCodes.set(code, { shop, expiresAt: Date.now() + 60_000 });
    const params = new URLSearchParams({
      code,
      host: hostParam(shop),
      shop,
      state: url.searchParams.get("state") ?? "",
      timestamp: String(Math.floor(Date.now() / 1000)),
    });
    const sorted = [...params.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${v}`)
      .join("&");
    params.set("hmac", createHmac("sha256", options.apiSecret).update(sorted).digest("hex"));
    res.writeHead(302, { location: `${redirectUri}?${params}` });
    res.end();
  }

  async function handleToken(req: IncomingMessage, res: ServerResponse, shop: string) {
    const parsed = tokenRequest.safeParse(await readJson(req).catch(() => null));
    if (!parsed.success) return send(res, 400, { error: "invalid_request" });
    const body = parsed.data;
    const secretMatches =
      body.client_secret.length === options.apiSecret.length &&
      timingSafeEqual(Buffer.from(body.client_secret), Buffer.from(options.apiSecret));
    if (body.client_id !== options.apiKey || !secretMatches) return send(res, 401, { error: "invalid_client" });
    if (!store.shops.has(shop)) return send(res, 404, { error: "shop_not_found" });
    if ("code" in body) {
      const grant = authorizationCodes.get(body.code);
      authorizationCodes.delete(body.code);
      if (!grant || grant.shop !== shop || grant.expiresAt < Date.now())
        return send(res, 400, { error: "invalid_grant" });
      return send(res, 200, issueOffline(shop, body.expiring === "1"));
    }
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
    const fault = faults.get(shop);
    if (fault && fault.remaining > 0) {
      fault.remaining--;
      return send(res, fault.status, { errors: "Simulated failure" });
    }
    const parsed = graphqlRequest.safeParse(await readJson(req).catch(() => null));
    if (!parsed.success) return send(res, 400, { errors: "Invalid JSON body: expected {query, variables}" });
    events.emit("adminRequest", shop);
    if (options.adminLatencyMs) await sleep(options.adminLatencyMs);
    const body = await runtime(shop)!.executeAdmin(
      parsed.data.query,
      parsed.data.variables ?? undefined,
      parsed.data.operationName,
    );
    return send(res, 200, body);
  }

  function handleLocalAdmin(res: ServerResponse, url: URL) {
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
      if (!appUrl) return send(res, 404, { error: "no appUrl configured for the local Admin" });
      const page = localAdminPage(
        { appUrl, apiKey: options.apiKey, apiSecret: options.apiSecret },
        shop,
        url.searchParams.get("path") ?? "/app",
      );
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      return res.end(page);
    }
    return send(res, 404, { errors: "Not Found" });
  }

  function handleBulkResult(res: ServerResponse, token: string) {
    for (const shopRuntime of runtimes.values()) {
      const file = shopRuntime.bulkFileFor(token);
      if (file) {
        res.writeHead(200, { "content-type": "application/jsonl" });
        return void createReadStream(file).pipe(res);
      }
    }
    return send(res, 404, { error: "no such result file (or it expired)" });
  }

  /**
   * The multipart form POST of a staged upload: the target's parameters,
   * then the file, which (as on Google Cloud Storage) must be the last field.
   */
  async function handleStagedUpload(req: IncomingMessage, res: ServerResponse) {
    const contentType = req.headers["content-type"] ?? "";
    if (!contentType.startsWith("multipart/form-data")) {
      return sendStorageXml(
        res,
        400,
        "<Error><Code>InvalidArgument</Code><Message>Expected a multipart form.</Message></Error>",
      );
    }
    let form: FormData;
    try {
      const body = await readBytes(req);
      form = await new Request("http://simulator/", {
        method: "POST",
        headers: { "content-type": contentType },
        body: new Uint8Array(body),
      }).formData();
    } catch {
      return sendStorageXml(
        res,
        400,
        "<Error><Code>InvalidArgument</Code><Message>Malformed multipart form.</Message></Error>",
      );
    }
    const key = form.get("key");
    const signature = form.get("x-goog-signature");
    const staged =
      typeof key === "string" && typeof signature === "string"
        ? [...runtimes.values()].map((shopRuntime) => shopRuntime.stagedUpload(key, signature)).find(Boolean)
        : undefined;
    if (!staged) {
      return sendStorageXml(
        res,
        403,
        "<Error><Code>AccessDenied</Code><Message>Invalid key or signature.</Message></Error>",
      );
    }
    const file = form.get("file");
    if (!(file instanceof Blob) || [...form.keys()].at(-1) !== "file") {
      return sendStorageXml(
        res,
        400,
        "<Error><Code>InvalidArgument</Code><Message>The file must be the last field of the form.</Message></Error>",
      );
    }
    if (file.size > STAGED_UPLOAD_MAX_BYTES) {
      return sendStorageXml(
        res,
        400,
        "<Error><Code>EntityTooLarge</Code><Message>Your proposed upload exceeds the maximum allowed size.</Message></Error>",
      );
    }
    await mkdir(path.dirname(staged.file), { recursive: true });
    await writeFile(staged.file, Buffer.from(await file.arrayBuffer()));
    return sendStorageXml(
      res,
      201,
      `<PostResponse><Location>${publicUrl}${STAGED_UPLOADS_PATH}/${staged.key}</Location><Key>${staged.key}</Key></PostResponse>`,
    );
  }

  /** Runs a store event and delivers its webhook, as Shopify would. */
  async function trigger(request: z.infer<typeof eventRequest>, waitForRetries = true) {
    const shopRuntime = runtime(request.shop);
    if (!shopRuntime) throw new Error(`unknown shop ${request.shop}`);
    const data = shopRuntime.data;
    const shopId = 1;
    const customerIndex = request.customer ?? 0;
    const customer = () => {
      const found = data.customer(customerIndex);
      if (!found) throw new Error(`the shop has no customer number ${customerIndex}`);
      return found;
    };
    const ordersOf = (index: number) => {
      const ids: number[] = [];
      for (let i = 0; i < data.orderCount; i++) if (data.order(i)!.customerIndex === index) ids.push(data.order(i)!.id);
      return ids;
    };
    let payload: unknown;
    switch (request.event) {
      case "app/uninstalled":
        store.revokeShopTokens(request.shop);
        // Shopify removes the app's extensions, its web pixel included, with the app.
        shopRuntime.webPixel = undefined;
        payload = shopPayload(shopRuntime.shop, shopId);
        break;
      case "app/scopes_update": {
        // The merchant granted what the app asks for (managed install); before, one scope fewer.
        const current = options.scopes.split(",");
        payload = scopesUpdatePayload(shopId, current.slice(0, -1), current);
        break;
      }
      case "customers/data_request":
        payload = dataRequestPayload(
          shopId,
          request.shop,
          customer(),
          ordersOf(customerIndex),
          Math.floor(Math.random() * 1e9),
        );
        break;
      case "customers/redact":
        payload = customerRedactPayload(shopId, request.shop, customer(), ordersOf(customerIndex));
        break;
      case "shop/redact":
        payload = shopRedactPayload(shopId, request.shop);
        break;
      case "orders/create": {
        const order = data.addOrder(request.customer ?? null);
        const buyer = order.customerIndex === null ? undefined : data.customer(order.customerIndex);
        payload = orderPayload(order, buyer, (item) => data.product(item.productIndex)?.vendor ?? null);
        break;
      }
      case "customers/create":
        payload = customerPayload(data.addCustomer(), shopRuntime.shop.currencyCode);
        break;
      case "customers/update": {
        const subject = customer();
        data.setCustomerTags(customerIndex, [...subject.tags, "updated"]);
        payload = customerPayload(data.customer(customerIndex)!, shopRuntime.shop.currencyCode);
        break;
      }
      case "products/update": {
        const product = data.product(request.product ?? 0);
        if (!product) throw new Error(`the shop has no product number ${request.product}`);
        payload = productPayload(product);
        break;
      }
    }
    return deliver(request.event, request.shop, payload, request.duplicates ?? 0, waitForRetries);
  }

  async function handleEvent(req: IncomingMessage, res: ServerResponse) {
    const parsed = eventRequest.safeParse(await readJson(req).catch(() => null));
    if (!parsed.success) return send(res, 400, { error: parsed.error.issues[0]?.message });
    try {
      // Answers after the first attempt; Shopify-style retries go on in the background.
      return send(res, 200, { deliveries: await trigger(parsed.data, false) });
    } catch (error) {
      return send(res, 422, { error: (error as Error).message });
    }
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://simulator");
    const route = async () => {
      if (url.pathname === "/healthz") return send(res, 200, { status: "ok" });
      if (req.method === "GET" && (url.pathname.startsWith("/admin/local") || url.pathname === "/app-bridge.js")) {
        return handleLocalAdmin(res, url);
      }
      if (req.method === "GET" && url.pathname.startsWith("/bulk-results/")) {
        return handleBulkResult(res, path.basename(url.pathname, ".jsonl"));
      }
      if (req.method === "POST" && url.pathname === "/simulator/events") return handleEvent(req, res);
      if (req.method === "POST" && url.pathname === STAGED_UPLOADS_PATH) return handleStagedUpload(req, res);
      if (req.method === "GET" && url.pathname === "/admin/oauth/authorize") return authorizeRedirect(url, res);
      const isToken = req.method === "POST" && url.pathname === "/admin/oauth/access_token";
      const isGraphql = req.method === "POST" && ADMIN_GRAPHQL_PATH.test(url.pathname);
      if (!isToken && !isGraphql) return send(res, 404, { errors: "Not Found" });
      const shop = targetShop(req);
      if (!shop) return send(res, 400, { error: "no shop named (x-simulated-shop header or *.myshopify.com host)" });
      return isToken ? handleToken(req, res, shop) : handleGraphql(req, res, shop);
    };
    route().catch((error) => send(res, 500, { errors: String(error) }));
  });

  return {
    store,
    server,
    events,
    webhooks,
    runtime,
    trigger,
    setAppUrl(url: string) {
      appUrl = url;
    },
    /** The next `count` Admin API requests of the shop answer with `status`. */
    failAdminRequests(shop: string, status: number, count: number) {
      faults.set(shop, { status, remaining: count });
    },
    async listen(port = 0, host = "127.0.0.1"): Promise<string> {
      await new Promise<void>((resolve) => server.listen(port, host, resolve));
      publicUrl = `http://${host}:${(server.address() as AddressInfo).port}`;
      return publicUrl;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type Simulator = ReturnType<typeof createSimulator>;
