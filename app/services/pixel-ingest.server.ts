import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { TRACKED_EVENTS } from "../../extensions/web-pixel/src/collector";
import { loadConfig } from "../config.server";
import { withPgTransaction } from "../db.server";
import { logger } from "../logger.server";
import {
  findConnections,
  insertEvents,
  linkIdentities,
  rateLimitKeys,
  type IdentityLink,
  type StoredEvent,
} from "../models/pixel.server";
import { addToWindow, deleteWindowsBefore, windowOf } from "../models/rate-limits.server";
import { GroupCommitter } from "./group-commit.server";
import { metrics } from "./metrics.server";

/**
 * POST /api/pixel/events: the public endpoint the web pixel posts to. Served
 * by node:http directly (server.ts), never through React rendering. Every
 * event is validated, mapped to its shop by the pixel's account id,
 * rate-limited per shop and per visitor, and committed with many others in
 * one transaction before the answer goes out, so an acknowledged event
 * survives a crash right after it.
 */

export const PIXEL_EVENTS_PATH = "/api/pixel/events";
export const PIXEL_MAX_BODY_BYTES = 64 * 1024;
// The extension's own list: what the pixel sends and what this endpoint accepts cannot drift apart.
export const PIXEL_EVENT_NAMES = TRACKED_EVENTS;

const gid = (type: string) => z.string().regex(new RegExp(`^gid://shopify/${type}/\\d{1,20}$`));
const decimal = z.string().regex(/^-?\d{1,15}(\.\d{1,6})?$/, "expected a decimal string");
const text = (max: number) => z.string().max(max);

export const pixelEventData = z.strictObject({
  productId: gid("Product").optional(),
  variantId: gid("ProductVariant").optional(),
  productTitle: text(500).optional(),
  productType: text(255).optional(),
  vendor: text(255).optional(),
  price: decimal.optional(),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .optional(),
  quantity: z.number().int().min(0).max(100_000).optional(),
  collectionId: gid("Collection").optional(),
  collectionTitle: text(500).optional(),
  query: text(200).optional(),
  cartTotal: decimal.optional(),
  checkoutToken: text(255).optional(),
  orderId: gid("Order").optional(),
  customerId: gid("Customer").optional(),
  itemCount: z.number().int().min(0).max(10_000).optional(),
});

export const pixelEvent = z.strictObject({
  id: z.string().min(1).max(128),
  name: z.enum(PIXEL_EVENT_NAMES),
  timestamp: z.iso.datetime({ offset: true }),
  clientId: z.string().min(1).max(128),
  url: text(2048).optional(),
  data: pixelEventData.optional(),
});

const accountId = z
  .string()
  .min(16)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/);

/** The wire format: one event or a batch of up to 100, with the pixel's account id. */
export const pixelRequest = z
  .strictObject({
    accountId,
    events: z.array(pixelEvent).min(1).max(100).optional(),
    event: pixelEvent.optional(),
  })
  .refine((body) => (body.events === undefined) !== (body.event === undefined), {
    message: 'expected either "events" (a batch) or "event" (one)',
    path: ["events"],
  });

export type PixelEvent = z.infer<typeof pixelEvent>;

type Outcome =
  | { status: "accepted" }
  | { status: "unknown-account" }
  | { status: "disconnected" }
  | { status: "rate-limited"; retryAfterSeconds: number };

interface Submission {
  accountId: string;
  events: PixelEvent[];
}

const RATE_WINDOW_MS = 60_000;
const REJECTION_CACHE_MS = 30_000;
const MAX_CACHED_KEYS = 100_000;

/**
 * What this instance already knows to refuse without asking the database:
 * accounts found unknown or disconnected, and counters found over their
 * limit for the rest of their window. Bounded, and only ever a shortcut:
 * the database decides everything else.
 */
class Rejections {
  private accounts = new Map<string, { outcome: Outcome; until: number }>();
  private limitedKeys = new Map<string, number>();

  account(id: string, now: number) {
    const hit = this.accounts.get(id);
    if (hit && hit.until > now) return hit.outcome;
    if (hit) this.accounts.delete(id);
    return undefined;
  }

  rememberAccount(id: string, outcome: Outcome, now: number) {
    if (this.accounts.size >= MAX_CACHED_KEYS) this.accounts.clear();
    this.accounts.set(id, { outcome, until: now + REJECTION_CACHE_MS });
  }

  limitedUntil(key: string, now: number) {
    const until = this.limitedKeys.get(key);
    if (until !== undefined && until > now) return until;
    if (until !== undefined) this.limitedKeys.delete(key);
    return undefined;
  }

  rememberLimited(key: string, until: number) {
    if (this.limitedKeys.size >= MAX_CACHED_KEYS) this.limitedKeys.clear();
    this.limitedKeys.set(key, until);
  }
}

const rejections = new Rejections();

function keysOf(shop: string, events: PixelEvent[]) {
  const counts = new Map<string, number>([[rateLimitKeys.shop(shop), events.length]]);
  for (const event of events) {
    const key = rateLimitKeys.client(shop, event.clientId);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

const isShopKey = (key: string) => key.startsWith("pixel:shop:");

function limitOf(key: string) {
  const config = loadConfig();
  return isShopKey(key) ? config.PIXEL_SHOP_EVENTS_PER_MINUTE : config.PIXEL_CLIENT_EVENTS_PER_MINUTE;
}

function toStored(event: PixelEvent): StoredEvent {
  return {
    eventId: event.id,
    name: event.name,
    clientId: event.clientId,
    occurredAt: new Date(event.timestamp),
    url: event.url ?? null,
    data: event.data ?? null,
  };
}

/** One transaction for a whole group of requests: resolve accounts, count against limits, store. */
async function commitSubmissions(submissions: Submission[]): Promise<Outcome[]> {
  const now = Date.now();
  const window = windowOf(now, RATE_WINDOW_MS);
  const retryAfterSeconds = Math.max(1, Math.ceil((window.end - now) / 1000));
  return withPgTransaction(async (client) => {
    const connections = await findConnections(client, [...new Set(submissions.map((s) => s.accountId))]);
    const outcomes: (Outcome | undefined)[] = [];
    const counted: { index: number; shop: string; keys: Map<string, number> }[] = [];
    const increments = new Map<string, number>();
    submissions.forEach((submission, index) => {
      const connection = connections.get(submission.accountId);
      if (!connection) {
        outcomes[index] = { status: "unknown-account" };
        rejections.rememberAccount(submission.accountId, outcomes[index]!, now);
      } else if (connection.status !== "connected") {
        outcomes[index] = { status: "disconnected" };
        rejections.rememberAccount(submission.accountId, outcomes[index]!, now);
      } else {
        const keys = keysOf(connection.shop, submission.events);
        // Visitors are charged for every attempt (a flooder stays limited); the shop only for what it stores
        // (one flooding visitor must not use up the budget of all the others). The shop's row is still
        // touched here, so that it is locked for the rest of the transaction.
        for (const [key, n] of keys) increments.set(key, (increments.get(key) ?? 0) + (isShopKey(key) ? 0 : n));
        counted.push({ index, shop: connection.shop, keys });
      }
    });

    const totals = await addToWindow(client, window.start, increments);
    // What each key could still take before this group: its total minus what this group added.
    const remaining = new Map<string, number>();
    for (const [key, total] of totals) remaining.set(key, limitOf(key) - (total - increments.get(key)!));
    const admittedToShops = new Map<string, number>();

    const shops: string[] = [];
    const events: StoredEvent[] = [];
    const linkShops: string[] = [];
    const links = new Map<string, IdentityLink & { shop: string }>();
    for (const { index, shop, keys } of counted) {
      const over = [...keys].filter(([key, n]) => remaining.get(key)! < n).map(([key]) => key);
      if (over.length > 0) {
        outcomes[index] = { status: "rate-limited", retryAfterSeconds };
        for (const key of over) rejections.rememberLimited(shortcutKey(submissions[index]!.accountId, key), window.end);
        continue;
      }
      for (const [key, n] of keys) {
        remaining.set(key, remaining.get(key)! - n);
        if (isShopKey(key)) admittedToShops.set(key, (admittedToShops.get(key) ?? 0) + n);
      }
      outcomes[index] = { status: "accepted" };
      for (const event of submissions[index]!.events) {
        shops.push(shop);
        events.push(toStored(event));
        if (event.name === "checkout_completed" && event.data?.customerId) {
          links.set(`${shop}|${event.clientId}`, {
            shop,
            clientId: event.clientId,
            customerId: event.data.customerId,
            orderId: event.data.orderId ?? null,
          });
        }
      }
    }
    await addToWindow(client, window.start, admittedToShops);
    await insertEvents(client, shops, events);
    for (const link of links.values()) linkShops.push(link.shop);
    await linkIdentities(client, linkShops, [...links.values()]);
    return outcomes as Outcome[];
  });
}

// One commit in flight: every batch updates the shop's counter row, so concurrent commits would only queue on
// its lock; meanwhile the next batch gathers.
const committer = new GroupCommitter(commitSubmissions, { maxBatch: 500, maxConcurrent: 1 });

let lastSweep = 0;
function sweepOldWindows(now: number) {
  if (now - lastSweep < 5 * 60_000) return;
  lastSweep = now;
  deleteWindowsBefore(new Date(now - 60 * 60_000)).catch((error: unknown) =>
    logger.warn({ err: error }, "could not sweep old rate-limit windows"),
  );
}

// ---------------------------------------------------------------------------
// HTTP

const CORS_HEADERS = {
  // Pixels post from sandboxed workers and iframes (Origin: null) and send no cookies: any origin, no credentials.
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "POST, OPTIONS",
  "access-control-allow-headers": "content-type",
  "access-control-max-age": "86400",
};

function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  res.writeHead(status, {
    ...CORS_HEADERS,
    ...(payload ? { "content-type": "application/json" } : {}),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(payload);
}

async function readLimited(req: IncomingMessage): Promise<Buffer | undefined> {
  if (Number(req.headers["content-length"] ?? 0) > PIXEL_MAX_BODY_BYTES) return undefined;
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of req) {
    received += (chunk as Buffer).length;
    if (received > PIXEL_MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function describe(error: z.ZodError) {
  const issue = error.issues[0]!;
  return `${issue.path.join(".") || "body"}: ${issue.message}`;
}

export async function handlePixelEvents(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method === "OPTIONS") return send(res, 204);
  if (req.method !== "POST") return send(res, 405, { error: "use POST" }, { allow: "POST, OPTIONS" });
  const body = await readLimited(req);
  if (!body) {
    // The rest of an oversized body is not worth reading: answer and close.
    return send(res, 413, { error: `body larger than ${PIXEL_MAX_BODY_BYTES} bytes` }, { connection: "close" });
  }
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    return send(res, 400, { error: "body must be valid JSON" });
  }
  const parsed = pixelRequest.safeParse(json);
  if (!parsed.success) return send(res, 400, { error: describe(parsed.error) });
  const submission: Submission = {
    accountId: parsed.data.accountId,
    events: parsed.data.events ?? [parsed.data.event!],
  };

  const now = Date.now();
  sweepOldWindows(now);
  const outcome = rejections.account(submission.accountId, now) ?? fastLimit(submission, now);
  const final = outcome ?? (await committer.submit(submission).catch((error: unknown) => error));
  if (final instanceof Error || final === undefined) {
    logger.error({ err: final }, "pixel events could not be stored");
    return send(res, 503, { error: "temporarily unavailable; retry" }, { "retry-after": "1" });
  }
  metrics.pixelEvents.inc({ outcome: (final as Outcome).status }, submission.events.length);
  switch ((final as Outcome).status) {
    case "accepted":
      return send(res, 202, { accepted: submission.events.length });
    case "unknown-account":
      return send(res, 404, { error: "unknown pixel account" });
    case "disconnected":
      return send(res, 410, { error: "this pixel is disconnected" });
    case "rate-limited": {
      const seconds = (final as Extract<Outcome, { status: "rate-limited" }>).retryAfterSeconds;
      return send(res, 429, { error: "too many events; retry later" }, { "retry-after": String(seconds) });
    }
  }
}

/** The shortcut's key for a counter: by account id, which a request carries, rather than shop, which it does not. */
function shortcutKey(accountId: string, counterKey: string) {
  const clientId = counterKey.startsWith("pixel:client:") ? counterKey.split(":").slice(3).join(":") : "";
  return `${accountId}|${clientId}`;
}

/** A shop or visitor this instance already saw over its limit is refused without a database round trip. */
function fastLimit(submission: Submission, now: number): Outcome | undefined {
  const keys = [
    `${submission.accountId}|`,
    ...submission.events.map((event) => `${submission.accountId}|${event.clientId}`),
  ];
  for (const key of keys) {
    const until = rejections.limitedUntil(key, now);
    if (until) return { status: "rate-limited", retryAfterSeconds: Math.max(1, Math.ceil((until - now) / 1000)) };
  }
  return undefined;
}
