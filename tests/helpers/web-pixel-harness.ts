import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import type {
  Cart,
  CartLine,
  Checkout,
  CheckoutLineItem,
  Collection,
  Context,
  Customer,
  MailingAddress,
  MoneyV2,
  PixelEvents,
  ProductVariant,
  RegisterInit,
} from "@shopify/web-pixels-extension";
import { build } from "esbuild";
import type { Page } from "playwright-core";
import type { TrackedEventName } from "../../extensions/web-pixel/src/collector";

/**
 * Runs the real web pixel extension (bundled with the real @shopify/web-pixels-extension) in a Chromium web worker,
 * as Shopify's strict sandbox does, behind a stand-in for the Web Pixels runtime, and plays a shopping session on it.
 */

const PIXEL_ENTRY = fileURLToPath(new URL("../../extensions/web-pixel/src/index.ts", import.meta.url));

let bundled: Promise<string> | undefined;

/** The extension as one IIFE script, @shopify/web-pixels-extension included; built once per process. */
export function bundleWebPixel(): Promise<string> {
  bundled ??= build({
    entryPoints: [PIXEL_ENTRY],
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2020",
    write: false,
    logLevel: "silent",
  }).then(
    (result) => result.outputFiles[0]!.text,
    (error: unknown) => {
      bundled = undefined;
      throw error;
    },
  );
  return bundled;
}

type EventData<K extends TrackedEventName> = PixelEvents[K]["data"];

/** One thing the shopper (or the consent banner) does. */
export type PixelSessionStep =
  | { [K in TrackedEventName]: { publish: K; url: string; data: EventData<K> } }[TrackedEventName]
  /** The visitor answers the consent banner: visitorConsentCollected with this analyticsProcessingAllowed. */
  | { consent: boolean }
  | { pauseMs: number };

export interface PixelSessionOptions {
  ingestUrl: string;
  accountId: string;
  /** init.customerPrivacy.analyticsProcessingAllowed when the pixel starts. */
  consent: boolean;
  /** Defaults to shoppingSession(). */
  session?: PixelSessionStep[];
  /** Defaults to a fresh UUID. */
  clientId?: string;
  /** init.data.customer: a logged-in customer; null (the default) for a guest. */
  customer?: Customer | null;
  /** How long to wait for every event published with consent to be delivered (2xx). Default 15 s. */
  timeoutMs?: number;
  /** When no event is expected to be delivered, how long to watch for stray requests. Default 4 s. */
  quietMs?: number;
}

export interface PublishedPixelEvent {
  id: string;
  name: TrackedEventName;
  timestamp: string;
  /** Whether analytics processing was allowed when it was published. */
  consented: boolean;
}

/** A request the pixel made, as seen from inside the worker. */
export interface PixelRequest {
  url: string;
  method: string;
  body: string | null;
  keepalive: boolean;
  credentials: string | null;
  mode: string | null;
  contentType: string | null;
  /** 0 when the request failed without a response (network or CORS error). */
  status: number;
  eventIds: string[];
}

export interface PixelSessionResult {
  clientId: string;
  /** Origin of the harness page, hence the Origin header of the pixel's requests. */
  pageOrigin: string;
  /** The event names the extension subscribed to. */
  subscribedEvents: string[];
  published: PublishedPixelEvent[];
  publishedEventIds: string[];
  /** Ids of the events published while analytics was allowed (assumes consent, once given, is not withdrawn). */
  expectedEventIds: string[];
  /** Ids of the events in requests answered with 2xx, in order. */
  deliveredEventIds: string[];
  requests: PixelRequest[];
  /** The HTTP status of each completed request, in order; 0 for a failed one. */
  statuses: number[];
}

type WorkerCommand =
  | { type: "start"; bundleUrl: string; settings: Record<string, string>; init: RegisterInit }
  | { type: "publish"; event: Record<string, unknown> }
  | { type: "consent"; customerPrivacy: RegisterInit["customerPrivacy"] };

type RequestReport = { type: "request"; error?: string } & Omit<PixelRequest, "eventIds">;

type WorkerReport =
  | { type: "ready"; extensions: number; subscribedEvents: string[] }
  | RequestReport
  | { type: "error"; message: string };

interface HarnessWindow {
  pixelHarness: {
    reports: WorkerReport[];
    start(command: WorkerCommand): void;
    post(command: WorkerCommand): void;
    stop(): void;
  };
}

const STOREFRONT = "https://microsegment-harness.myshopify.com";

const money = (amount: number, currencyCode = "CAD"): MoneyV2 => ({ amount, currencyCode });

const smokyTea: ProductVariant = {
  id: "45102934",
  title: "100 g",
  untranslatedTitle: "100 g",
  sku: "TEA-LAP-100",
  image: { src: "https://cdn.shopify.com/s/files/1/0001/tea.jpg" },
  price: money(18.5),
  product: {
    id: "8822101",
    title: "Smoky Lapsang Tea",
    untranslatedTitle: "Smoky Lapsang Tea",
    type: "Tea",
    vendor: "Northern Leaf",
    url: "/products/smoky-lapsang-tea",
  },
};

const stonewareMug: ProductVariant = {
  id: "45102977",
  title: "Slate",
  untranslatedTitle: "Slate",
  sku: "MUG-SLATE",
  image: { src: "https://cdn.shopify.com/s/files/1/0001/mug.jpg" },
  price: money(24),
  product: {
    id: "8822102",
    title: "Stoneware Mug",
    untranslatedTitle: "Stoneware Mug",
    type: "Drinkware",
    vendor: "Northern Leaf",
    url: "/products/stoneware-mug",
  },
};

/** Contact details present in the session's payloads; none of them may leave the pixel. */
export const SESSION_PII = [
  "ada.lovelace@example.com",
  "+16135550123",
  "Ada",
  "Lovelace",
  "12 Analytical Row",
  "K1A 0B1",
];

const buyerAddress: MailingAddress = {
  address1: "12 Analytical Row",
  address2: null,
  city: "Ottawa",
  country: "Canada",
  countryCode: "CA",
  firstName: "Ada",
  lastName: "Lovelace",
  phone: "+16135550123",
  province: "Ontario",
  provinceCode: "ON",
  zip: "K1A 0B1",
};

const cartLine = (merchandise: ProductVariant, quantity: number): CartLine => ({
  merchandise,
  quantity,
  cost: { totalAmount: money(merchandise.price.amount * quantity) },
});

const lineItem = (variant: ProductVariant, quantity: number): CheckoutLineItem => ({
  id: `gid://shopify/CheckoutLineItem/${variant.id}`,
  title: variant.product.title,
  quantity,
  variant,
  finalLinePrice: money(variant.price.amount * quantity),
  discountAllocations: [],
  properties: [],
  sellingPlanAllocation: null,
});

function checkout(order: Checkout["order"]): Checkout {
  const lineItems = [lineItem(smokyTea, 2), lineItem(stonewareMug, 1)];
  const subtotal = lineItems.reduce((sum, item) => sum + item.finalLinePrice.amount, 0);
  return {
    token: "c1-7f3e2a9b5d4c",
    attributes: [],
    billingAddress: buyerAddress,
    shippingAddress: buyerAddress,
    buyerAcceptsEmailMarketing: false,
    buyerAcceptsSmsMarketing: false,
    currencyCode: "CAD",
    delivery: { selectedDeliveryOptions: [] },
    discountApplications: [],
    discountsAmount: money(0),
    email: "ada.lovelace@example.com",
    phone: "+16135550123",
    smsMarketingPhone: null,
    lineItems,
    localization: { country: { isoCode: "CA" }, language: { isoCode: "en-CA" }, market: { handle: "ca", id: "1" } },
    order,
    shippingLine: { price: money(9) },
    subtotalPrice: money(subtotal),
    totalTax: money(7.87),
    totalPrice: money(subtotal + 9 + 7.87),
    transactions: [],
  };
}

/**
 * A guest's visit ending in a purchase: the eleven standard events of issue #6, with a pause in the middle long
 * enough for the pixel's timer to send the browsing events on their own.
 */
export function shoppingSession(ids: { orderId?: string; customerId?: string } = {}): PixelSessionStep[] {
  const { orderId = "5550001234", customerId = "7001234" } = ids;
  const teas: Collection = { id: "471002", title: "Teas", productVariants: [smokyTea] };
  const cart: Cart = {
    id: "gid://shopify/Cart/c1-7f3e2a9b5d4c",
    attributes: [],
    cost: { totalAmount: money(61) },
    lines: [cartLine(smokyTea, 2), cartLine(stonewareMug, 1)],
    totalQuantity: 3,
  };
  return [
    { publish: "page_viewed", url: `${STOREFRONT}/`, data: {} },
    { publish: "page_viewed", url: `${STOREFRONT}/pages/about`, data: {} },
    { publish: "collection_viewed", url: `${STOREFRONT}/collections/teas`, data: { collection: teas } },
    {
      publish: "search_submitted",
      url: `${STOREFRONT}/search?q=smoky`,
      data: { searchResult: { query: "smoky", productVariants: [smokyTea] } },
    },
    { publish: "product_viewed", url: `${STOREFRONT}/products/smoky-lapsang-tea`, data: { productVariant: smokyTea } },
    { pauseMs: 2_500 },
    {
      publish: "product_added_to_cart",
      url: `${STOREFRONT}/products/smoky-lapsang-tea`,
      data: { cartLine: cartLine(smokyTea, 3) },
    },
    { publish: "product_removed_from_cart", url: `${STOREFRONT}/cart`, data: { cartLine: cartLine(smokyTea, 1) } },
    {
      publish: "product_added_to_cart",
      url: `${STOREFRONT}/products/stoneware-mug`,
      data: { cartLine: cartLine(stonewareMug, 1) },
    },
    { publish: "cart_viewed", url: `${STOREFRONT}/cart`, data: { cart } },
    { publish: "checkout_started", url: `${STOREFRONT}/checkouts/cn/c1`, data: { checkout: checkout(null) } },
    {
      publish: "checkout_completed",
      url: `${STOREFRONT}/checkouts/cn/c1/thank-you`,
      data: { checkout: checkout({ id: orderId, customer: { id: customerId, isFirstOrder: true } }) },
    },
  ];
}

function pixelContext(href: string): Context {
  const url = new URL(href);
  const location = {
    hash: url.hash,
    host: url.host,
    hostname: url.hostname,
    href: url.href,
    origin: url.origin,
    pathname: url.pathname,
    port: url.port,
    protocol: url.protocol,
    search: url.search,
  };
  return {
    document: { characterSet: "UTF-8", location, referrer: `${STOREFRONT}/`, title: "Northern Leaf" },
    navigator: {
      cookieEnabled: true,
      language: "en-CA",
      languages: ["en-CA", "en"],
      userAgent:
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
    },
    window: {
      innerHeight: 900,
      innerWidth: 1280,
      outerHeight: 1000,
      outerWidth: 1280,
      location,
      origin: url.origin,
      pageXOffset: 0,
      pageYOffset: 0,
      scrollX: 0,
      scrollY: 0,
      screenX: 0,
      screenY: 0,
      screen: { height: 1080, width: 1920 },
    },
  };
}

const privacy = (analyticsProcessingAllowed: boolean): RegisterInit["customerPrivacy"] => ({
  analyticsProcessingAllowed,
  marketingAllowed: false,
  preferencesProcessingAllowed: false,
  saleOfDataAllowed: false,
});

// Plain JavaScript, not serialized TypeScript functions: it must survive whatever transpiler runs the test.
const HARNESS_PAGE = String.raw`<!doctype html>
<html>
  <head><meta charset="utf-8" /><title>Web pixel harness</title></head>
  <body>
    <script>
      let worker;
      window.pixelHarness = {
        reports: [],
        start(command) {
          worker = new Worker("/sandbox-worker.js");
          worker.onmessage = (event) => window.pixelHarness.reports.push(event.data);
          worker.onerror = (event) => window.pixelHarness.reports.push({ type: "error", message: String(event.message) });
          worker.postMessage(command);
        },
        post(command) {
          worker.postMessage(command);
        },
        stop() {
          worker?.terminate();
        },
      };
    </script>
  </body>
</html>`;

/** The stand-in for Shopify's strict sandbox: the globals and API object the real runtime gives an app pixel. */
const SANDBOX_WORKER = String.raw`"use strict";
const extensions = [];
const analyticsSubscribers = new Map();
const privacySubscribers = new Map();
const report = (message) => self.postMessage(message);

self.shopify = {
  extend(extensionPoint, extension) {
    if (extensionPoint !== "WebPixel::Render") throw new Error("unknown extension point " + extensionPoint);
    extensions.push(extension);
  },
};

const nativeFetch = self.fetch.bind(self);
self.fetch = async (input, init = {}) => {
  const request = {
    url: String(input),
    method: init.method ?? "GET",
    body: typeof init.body === "string" ? init.body : null,
    keepalive: init.keepalive === true,
    credentials: init.credentials ?? null,
    mode: init.mode ?? null,
    contentType: new Headers(init.headers).get("content-type"),
  };
  try {
    const response = await nativeFetch(input, init);
    report({ type: "request", ...request, status: response.status });
    return response;
  } catch (error) {
    report({ type: "request", ...request, status: 0, error: String(error) });
    throw error;
  }
};

function subscribe(registry, name, callback) {
  if (!registry.has(name)) registry.set(name, new Set());
  registry.get(name).add(callback);
  return () => registry.get(name).delete(callback);
}

function dispatch(registry, names, payload) {
  for (const name of names) {
    for (const callback of registry.get(name) ?? []) {
      try {
        Promise.resolve(callback(structuredClone(payload))).catch((error) =>
          report({ type: "error", message: name + " subscriber failed: " + (error?.stack ?? error) }),
        );
      } catch (error) {
        report({ type: "error", message: name + " subscriber threw: " + (error?.stack ?? error) });
      }
    }
  }
}

function memoryStorage() {
  const items = new Map();
  return {
    clear: async () => items.clear(),
    getItem: async (key) => (items.has(key) ? items.get(key) : null),
    key: async (index) => [...items.keys()][index] ?? null,
    length: async () => items.size,
    removeItem: async (key) => void items.delete(key),
    setItem: async (key, value) => void items.set(key, String(value)),
  };
}

function cookieJar() {
  const cookies = new Map();
  return {
    get: async (name) =>
      name === undefined ? [...cookies].map(([key, value]) => key + "=" + value).join("; ") : (cookies.get(name) ?? ""),
    set: async (cookieOrName, value) => {
      const pair = value === undefined ? cookieOrName.split(";")[0] : cookieOrName + "=" + value;
      const separator = pair.indexOf("=");
      cookies.set(pair.slice(0, separator).trim(), pair.slice(separator + 1).trim());
      return pair;
    },
  };
}

self.addEventListener("unhandledrejection", (event) => report({ type: "error", message: String(event.reason) }));

self.onmessage = ({ data: command }) => {
  if (command.type === "start") {
    importScripts(command.bundleUrl);
    const api = {
      analytics: { subscribe: (name, callback) => subscribe(analyticsSubscribers, name, callback) },
      browser: {
        cookie: cookieJar(),
        localStorage: memoryStorage(),
        sessionStorage: memoryStorage(),
        sendBeacon: (url, body) =>
          self.fetch(url, { method: "POST", body, keepalive: true }).then(() => true, () => false),
      },
      customerPrivacy: { subscribe: (name, callback) => subscribe(privacySubscribers, name, callback) },
      init: command.init,
      settings: command.settings,
      _pixelInfo: { id: "harness", type: "APP", runtimeContext: "STRICT", status: "connected" },
    };
    for (const extension of extensions) extension(api);
    report({ type: "ready", extensions: extensions.length, subscribedEvents: [...analyticsSubscribers.keys()] });
  } else if (command.type === "publish") {
    dispatch(analyticsSubscribers, [command.event.name, "all_standard_events", "all_events"], command.event);
  } else if (command.type === "consent") {
    dispatch(privacySubscribers, ["visitorConsentCollected"], { customerPrivacy: command.customerPrivacy });
  }
};
`;

/** Serves the harness page, the sandbox worker and the bundle from their own origin, apart from the collector's. */
async function serveHarness(bundle: string): Promise<{ origin: string; close(): Promise<void> }> {
  const files: Record<string, [string, string]> = {
    "/": ["text/html; charset=utf-8", HARNESS_PAGE],
    "/sandbox-worker.js": ["text/javascript; charset=utf-8", SANDBOX_WORKER],
    "/web-pixel.js": ["text/javascript; charset=utf-8", bundle],
  };
  const server: Server = createServer((request, response) => {
    const file = files[new URL(request.url ?? "/", "http://harness").pathname];
    if (!file) return void response.writeHead(404).end();
    response.writeHead(200, { "Content-Type": file[0], "Cache-Control": "no-store" }).end(file[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function toPixelRequest(report: RequestReport): PixelRequest {
  const { url, method, body, keepalive, credentials, mode, contentType, status } = report;
  return { url, method, body, keepalive, credentials, mode, contentType, status, eventIds: eventIdsIn(body) };
}

function deliveredEventIds(requests: PixelRequest[]): string[] {
  return requests.filter(({ status }) => status >= 200 && status < 300).flatMap((request) => request.eventIds);
}

function eventIdsIn(body: string | null): string[] {
  try {
    const parsed = JSON.parse(body ?? "") as { events?: Array<{ id?: unknown }> };
    return (parsed.events ?? []).map((event) => String(event.id));
  } catch {
    return [];
  }
}

/**
 * Loads the harness page in `page`, starts the extension in a dedicated worker with `settings` {accountID,
 * ingestUrl} and the given consent, plays `session`, and waits until every event published with consent was
 * delivered (or `timeoutMs` passed; or, when none is expected, `quietMs`). Throws if the extension or the
 * runtime stand-in fails. The worker is terminated before it returns.
 */
export async function runPixelSession(page: Page, options: PixelSessionOptions): Promise<PixelSessionResult> {
  const { ingestUrl, accountId, timeoutMs = 15_000, quietMs = 4_000 } = options;
  const clientId = options.clientId ?? randomUUID();
  const steps = options.session ?? shoppingSession();
  const harness = await serveHarness(await bundleWebPixel());

  const post = (command: WorkerCommand) =>
    page.evaluate((message) => (window as unknown as HarnessWindow).pixelHarness.post(message), command);
  const reports = async () => {
    const all = await page.evaluate(() => (window as unknown as HarnessWindow).pixelHarness.reports);
    const failure = all.find((report) => report.type === "error");
    if (failure) throw new Error(`web pixel harness: ${failure.message}`);
    return all;
  };

  try {
    await page.goto(`${harness.origin}/`);
    await page.evaluate((message) => (window as unknown as HarnessWindow).pixelHarness.start(message), {
      type: "start",
      bundleUrl: `${harness.origin}/web-pixel.js`,
      settings: { accountID: accountId, ingestUrl },
      init: {
        context: pixelContext(`${STOREFRONT}/`),
        data: {
          customer: options.customer ?? null,
          cart: null,
          shop: {
            name: "Northern Leaf",
            myshopifyDomain: new URL(STOREFRONT).host,
            countryCode: "CA",
            storefrontUrl: STOREFRONT,
            paymentSettings: { currencyCode: "CAD" },
          },
          purchasingCompany: null,
        },
        customerPrivacy: privacy(options.consent),
      },
    } satisfies WorkerCommand);

    const readyBy = Date.now() + 10_000;
    let ready = (await reports()).find((report) => report.type === "ready");
    while (!ready) {
      if (Date.now() > readyBy) throw new Error("web pixel harness: the extension did not start");
      await sleep(50);
      ready = (await reports()).find((report) => report.type === "ready");
    }
    if (ready.extensions !== 1) throw new Error(`web pixel harness: ${ready.extensions} extensions registered`);

    const published: PublishedPixelEvent[] = [];
    let consent = options.consent;
    for (const step of steps) {
      if ("pauseMs" in step) {
        await sleep(step.pauseMs);
      } else if ("consent" in step) {
        consent = step.consent;
        await post({ type: "consent", customerPrivacy: privacy(consent) });
      } else {
        const event = {
          id: `sh-${randomUUID()}`,
          name: step.publish,
          type: "standard",
          seq: published.length + 1,
          timestamp: new Date().toISOString(),
          clientId,
          context: pixelContext(step.url),
          data: step.data,
        };
        published.push({ id: event.id, name: event.name, timestamp: event.timestamp, consented: consent });
        await post({ type: "publish", event });
      }
    }

    const expectedEventIds = published.filter((event) => event.consented).map((event) => event.id);
    const waitUntil = Date.now() + (expectedEventIds.length > 0 ? timeoutMs : quietMs);
    let requests: PixelRequest[] = [];
    while (true) {
      requests = (await reports()).flatMap((report) => (report.type === "request" ? [toPixelRequest(report)] : []));
      const delivered = new Set(deliveredEventIds(requests));
      if (expectedEventIds.length > 0 && expectedEventIds.every((id) => delivered.has(id))) break;
      if (Date.now() > waitUntil) break;
      await sleep(100);
    }

    return {
      clientId,
      pageOrigin: harness.origin,
      subscribedEvents: ready.subscribedEvents,
      published,
      publishedEventIds: published.map((event) => event.id),
      expectedEventIds,
      deliveredEventIds: deliveredEventIds(requests),
      requests,
      statuses: requests.map((request) => request.status),
    };
  } finally {
    await page.evaluate(() => (window as unknown as HarnessWindow).pixelHarness?.stop()).catch(() => {});
    await harness.close();
  }
}
