import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { TRACKED_EVENTS } from "../../extensions/web-pixel/src/collector";
import { loadConfig } from "../config.server";
import { logger } from "../logger.server";
import {
  chargeConnectedAccounts,
  pixelCounterKeys,
  storeEvents,
  type CounterCharge,
  type IdentityClaim,
  type StoredEvent,
} from "../models/pixel.server";
import { addToWindow, deleteWindowsBefore, windowOf } from "../models/rate-limits.server";
import { FastSchema } from "./compiled-checks.server";
import { GroupCommitter } from "./group-commit.server";
import { readBody } from "./http-limits.server";
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
const boundedText = (max: number) => z.string().max(max);

export const pixelEventData = z.strictObject({
  productId: gid("Product").optional(),
  variantId: gid("ProductVariant").optional(),
  productTitle: boundedText(500).optional(),
  productType: boundedText(255).optional(),
  vendor: boundedText(255).optional(),
  price: decimal.optional(),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .optional(),
  quantity: z.number().int().min(0).max(100_000).optional(),
  collectionId: gid("Collection").optional(),
  collectionTitle: boundedText(500).optional(),
  query: boundedText(200).optional(),
  cartTotal: decimal.optional(),
  checkoutToken: boundedText(255).optional(),
  orderId: gid("Order").optional(),
  customerId: gid("Customer").optional(),
  itemCount: z.number().int().min(0).max(10_000).optional(),
});

export const pixelEvent = z.strictObject({
  id: z.string().min(1).max(128),
  name: z.enum(PIXEL_EVENT_NAMES),
  timestamp: z.iso.datetime({ offset: true }),
  clientId: z.string().min(1).max(128),
  url: boundedText(2048).optional(),
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

// Compiled once: every storefront event passes through it.
const checkedPixelRequest = new FastSchema(pixelRequest);

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

  /** Whether any counter is known to be over its limit (most of the time, none is). */
  get anyLimited() {
    return this.limitedKeys.size > 0;
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

/** What a submission asks of each counter: its account's for all its events, each visitor's for theirs. */
function chargesOf(submission: Submission) {
  const counts = new Map<string, number>([[pixelCounterKeys.account(submission.accountId), submission.events.length]]);
  for (const event of submission.events) {
    const key = pixelCounterKeys.visitor(submission.accountId, event.clientId);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

const isAccountKey = (key: string) => key.startsWith("pixel:account:");

function limitOf(key: string) {
  const config = loadConfig();
  return isAccountKey(key) ? config.PIXEL_SHOP_EVENTS_PER_MINUTE : config.PIXEL_CLIENT_EVENTS_PER_MINUTE;
}

function toStored(shop: string, event: PixelEvent): StoredEvent & { shop: string } {
  return {
    shop,
    eventId: event.id,
    name: event.name,
    clientId: event.clientId,
    occurredAt: new Date(event.timestamp),
    url: event.url ?? null,
    data: event.data ?? null,
  };
}

interface Admission {
  outcomes: Outcome[];
  events: (StoredEvent & { shop: string })[];
  claims: (IdentityClaim & { shop: string })[];
  /** Account charges to give back: events charged on the chance they would be stored, then refused. */
  refunds: Map<string, number>;
}

/**
 * A whole group of requests in two round trips, neither inside a transaction that waits for the disk while
 * holding a lock others need: admission (resolve accounts and charge their counters, in an unlogged table)
 * and then storage (one durable statement). Visitors are charged for every attempt, so a flooder stays
 * limited; an account is charged up front for everything its connected visitors send and refunded what is
 * refused, so one flooding visitor cannot use up the budget of all the others. Between a charge and its
 * refund another instance sees the account fuller than it is and may refuse early, never admit too much.
 */
async function commitSubmissions(submissions: Submission[]): Promise<Outcome[]> {
  const now = Date.now();
  const window = windowOf(now, RATE_WINDOW_MS);
  const admission = await admit(submissions, window, now);
  const refunded =
    admission.refunds.size > 0
      ? addToWindow(window.start, admission.refunds).catch((error: unknown) =>
          // Too much charged errs on the safe side; the window ends within a minute anyway.
          logger.warn({ err: error }, "could not refund refused pixel events to their account's counter"),
        )
      : undefined;
  await Promise.all([storeEvents(admission.events, admission.claims), refunded]);
  return admission.outcomes;
}

async function admit(submissions: Submission[], window: { start: Date; end: number }, now: number): Promise<Admission> {
  const retryAfterSeconds = Math.max(1, Math.ceil((window.end - now) / 1000));
  const requested = submissions.map(chargesOf);
  const charges = new Map<string, CounterCharge>();
  requested.forEach((counts, index) => {
    for (const [key, n] of counts) {
      const charge = charges.get(key);
      if (charge) charge.n += n;
      else charges.set(key, { accountId: submissions[index]!.accountId, key, n });
    }
  });
  // Every submission charges its account's counter, so the charges name every account to resolve.
  const { connections, totals } = await chargeConnectedAccounts(window.start, [...charges.values()]);
  // What each counter could still take before this group: its limit less what it held before this group's charge.
  const remaining = new Map<string, number>();
  for (const [key, total] of totals) remaining.set(key, limitOf(key) - (total - charges.get(key)!.n));

  const admission: Admission = { outcomes: [], events: [], claims: [], refunds: new Map() };
  const claims = new Map<string, IdentityClaim & { shop: string }>();
  submissions.forEach((submission, index) => {
    const connection = connections.get(submission.accountId);
    if (!connection || connection.status !== "connected") {
      admission.outcomes[index] = { status: connection ? "disconnected" : "unknown-account" };
      rejections.rememberAccount(submission.accountId, admission.outcomes[index]!, now);
      return;
    }
    const counts = requested[index]!;
    const over = [...counts].filter(([key, n]) => remaining.get(key)! < n).map(([key]) => key);
    if (over.length > 0) {
      admission.outcomes[index] = { status: "rate-limited", retryAfterSeconds };
      for (const key of over) rejections.rememberLimited(key, window.end);
      const accountKey = pixelCounterKeys.account(submission.accountId);
      admission.refunds.set(accountKey, (admission.refunds.get(accountKey) ?? 0) - submission.events.length);
      return;
    }
    for (const [key, n] of counts) remaining.set(key, remaining.get(key)! - n);
    admission.outcomes[index] = { status: "accepted" };
    for (const event of submission.events) {
      admission.events.push(toStored(connection.shop, event));
      // Only a claim: it links the visitor once the app knows this order of this customer (models/pixel).
      if (event.name === "checkout_completed" && event.data?.customerId && event.data.orderId) {
        claims.set(`${connection.shop}|${event.clientId}|${event.data.orderId}`, {
          shop: connection.shop,
          clientId: event.clientId,
          customerId: event.data.customerId,
          orderId: event.data.orderId,
        });
      }
    }
  });
  admission.claims = [...claims.values()];
  return admission;
}

// Several groups may be in flight at once (nothing holds a lock across a disk flush, and PostgreSQL flushes
// concurrent commits together), but a second one starts only once 64 requests wait: each group has a fixed
// cost, so under load fewer, larger groups store more events per second of CPU.
const committer = new GroupCommitter(commitSubmissions, {
  maxBatch: 500,
  maxConcurrent: 4,
  overlapAt: 64,
});

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

const ACCEPTED_HEADERS = { ...CORS_HEADERS, "content-type": "application/json", "cache-control": "no-store" };

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

// The counter of each outcome, looked up once rather than by label for every request.
const eventsCounted = Object.fromEntries(
  (["accepted", "unknown-account", "disconnected", "rate-limited"] as const).map((outcome) => [
    outcome,
    metrics.pixelEvents.labels({ outcome }),
  ]),
) as Record<Outcome["status"], { inc(n: number): void }>;

const UNSTORABLE_ESCAPE = /\\u(?:0000|[dD][89a-fA-F])/;

/**
 * The window an event's own timestamp must fall in, around its arrival: a storefront's clock may be off and
 * the pixel retries for a while, but a year 9999 or 0001 event is not one, and would sit in the shop's history.
 */
function timestampWindow() {
  const config = loadConfig();
  return {
    maxAgeMs: config.PIXEL_EVENT_MAX_AGE_DAYS * 86_400_000,
    maxAheadMs: config.PIXEL_EVENT_MAX_AHEAD_HOURS * 3_600_000,
    explained: `must be at most ${config.PIXEL_EVENT_MAX_AGE_DAYS} days old and at most ${config.PIXEL_EVENT_MAX_AHEAD_HOURS} hours ahead`,
  };
}

let eventWindow: ReturnType<typeof timestampWindow> | undefined;

/** Why the request is refused for an event's timestamp, or undefined when every one is inside the window. */
function timestampOutsideWindow(request: { event?: PixelEvent; events?: PixelEvent[] }, now: number) {
  eventWindow ??= timestampWindow();
  const events = request.events ?? [request.event!];
  for (let index = 0; index < events.length; index++) {
    const at = Date.parse(events[index]!.timestamp);
    if (at < now - eventWindow.maxAgeMs || at > now + eventWindow.maxAheadMs) {
      const field = request.events ? `events.${index}.timestamp` : "event.timestamp";
      return `${field}: ${eventWindow.explained}`;
    }
  }
  return undefined;
}

export async function handlePixelEvents(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method === "OPTIONS") return send(res, 204);
  if (req.method !== "POST") return send(res, 405, { error: "use POST" }, { allow: "POST, OPTIONS" });
  const body = await readBody(req, PIXEL_MAX_BODY_BYTES);
  if (!body) {
    // The rest of an oversized body is not worth reading: answer and close.
    return send(res, 413, { error: `body larger than ${PIXEL_MAX_BODY_BYTES} bytes` }, { connection: "close" });
  }
  const text = body.toString("utf8");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return send(res, 400, { error: "body must be valid JSON" });
  }
  // PostgreSQL's text and jsonb refuse NUL and unpaired surrogates: one such event would fail the whole group it
  // is stored with, so it is refused here, alone. (Our pixel never escapes other characters this way.)
  if (UNSTORABLE_ESCAPE.test(text)) return send(res, 400, { error: "text must be well-formed Unicode without NUL" });
  const parsed = checkedPixelRequest.parse(json, "body");
  if (!parsed.ok) return send(res, 400, { error: parsed.reason });
  const now = Date.now();
  const outside = timestampOutsideWindow(parsed.value, now);
  if (outside) return send(res, 400, { error: outside });
  const submission: Submission = {
    accountId: parsed.value.accountId,
    events: parsed.value.events ?? [parsed.value.event!],
  };

  sweepOldWindows(now);
  const outcome = rejections.account(submission.accountId, now) ?? fastLimit(submission, now);
  const final = outcome ?? (await committer.submit(submission).catch((error: unknown) => error));
  if (final instanceof Error || final === undefined) {
    logger.error({ err: final }, "pixel events could not be stored");
    return send(res, 503, { error: "temporarily unavailable; retry" }, { "retry-after": "1" });
  }
  eventsCounted[(final as Outcome).status].inc(submission.events.length);
  switch ((final as Outcome).status) {
    case "accepted":
      // The common answer, without building its headers each time.
      return void res.writeHead(202, ACCEPTED_HEADERS).end(`{"accepted":${submission.events.length}}`);
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

/** A visitor or account this instance already saw over its limit is refused without a database round trip. */
function fastLimit(submission: Submission, now: number): Outcome | undefined {
  if (!rejections.anyLimited) return undefined;
  for (const key of chargesOf(submission).keys()) {
    const until = rejections.limitedUntil(key, now);
    if (until) return { status: "rate-limited", retryAfterSeconds: Math.max(1, Math.ceil((until - now) / 1000)) };
  }
  return undefined;
}
