/**
 * The pixel's logic, free of Shopify imports so it can be unit-tested: turns standard pixel events into the
 * collector's wire format, batches them and posts the batches to the app's ingest endpoint.
 */

export const TRACKED_EVENTS = [
  "page_viewed",
  "product_viewed",
  "collection_viewed",
  "search_submitted",
  "product_added_to_cart",
  "product_removed_from_cart",
  "cart_viewed",
  "checkout_started",
  "checkout_completed",
] as const;

export type TrackedEventName = (typeof TRACKED_EVENTS)[number];

export interface WireData {
  productId?: string;
  variantId?: string;
  productTitle?: string;
  productType?: string;
  vendor?: string;
  price?: string;
  currency?: string;
  quantity?: number;
  collectionId?: string;
  collectionTitle?: string;
  query?: string;
  cartTotal?: string;
  checkoutToken?: string;
  orderId?: string;
  customerId?: string;
  itemCount?: number;
}

export interface WireEvent {
  id: string;
  name: TrackedEventName;
  timestamp: string;
  clientId: string;
  url?: string;
  data?: WireData;
}

export interface WireBatch {
  accountId: string;
  events: WireEvent[];
}

type Maybe<T> = T | null | undefined;

interface MoneyInput {
  amount?: Maybe<number | string>;
  currencyCode?: Maybe<string>;
}

interface ProductVariantInput {
  id?: Maybe<string>;
  price?: Maybe<MoneyInput>;
  product?: Maybe<{ id?: Maybe<string>; title?: Maybe<string>; type?: Maybe<string>; vendor?: Maybe<string> }>;
}

interface CartLineInput {
  merchandise?: Maybe<ProductVariantInput>;
  quantity?: Maybe<number>;
}

/** The parts of a standard pixel event (as the Web Pixels API delivers it) that the collector reads. */
export interface PixelEventInput {
  id?: Maybe<string>;
  name?: Maybe<string>;
  timestamp?: Maybe<string>;
  clientId?: Maybe<string>;
  context?: Maybe<{ document?: Maybe<{ location?: Maybe<{ href?: Maybe<string> }> }> }>;
  data?: Maybe<{
    productVariant?: Maybe<ProductVariantInput>;
    cartLine?: Maybe<CartLineInput>;
    collection?: Maybe<{ id?: Maybe<string>; title?: Maybe<string> }>;
    searchResult?: Maybe<{ query?: Maybe<string> }>;
    cart?: Maybe<{ cost?: Maybe<{ totalAmount?: Maybe<MoneyInput> }>; lines?: Maybe<readonly unknown[]> }>;
    checkout?: Maybe<{
      token?: Maybe<string>;
      currencyCode?: Maybe<string>;
      totalPrice?: Maybe<MoneyInput>;
      lineItems?: Maybe<readonly unknown[]>;
      order?: Maybe<{ id?: Maybe<string>; customer?: Maybe<{ id?: Maybe<string> }> }>;
    }>;
  }>;
}

const MAX_URL_LENGTH = 2048;
const MAX_QUERY_LENGTH = 200;

type GidType = "Product" | "ProductVariant" | "Collection" | "Order" | "Customer";

/** The pixel API gives numeric ids in some places and GIDs in others; the wire format wants GIDs everywhere. */
export function toGid(type: GidType, id: unknown): string | undefined {
  if (typeof id === "number" && Number.isSafeInteger(id) && id > 0) return `gid://shopify/${type}/${id}`;
  if (typeof id !== "string") return undefined;
  const trimmed = id.trim();
  if (/^\d+$/.test(trimmed)) return `gid://shopify/${type}/${trimmed}`;
  if (new RegExp(`^gid://shopify/${type}/\\d+$`).test(trimmed)) return trimmed;
  return undefined;
}

function text(value: unknown, maxLength?: number): string | undefined {
  if (typeof value !== "string" || value.length === 0) return undefined;
  return maxLength === undefined ? value : value.slice(0, maxLength);
}

function decimal(value: unknown): string | undefined {
  const asText = typeof value === "number" && Number.isFinite(value) ? String(value) : value;
  return typeof asText === "string" && /^\d+(\.\d+)?$/.test(asText) ? asText : undefined;
}

function integer(value: unknown): number | undefined {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function variantData(variant: Maybe<ProductVariantInput>): WireData {
  if (!variant) return {};
  return {
    productId: toGid("Product", variant.product?.id),
    variantId: toGid("ProductVariant", variant.id),
    productTitle: text(variant.product?.title),
    productType: text(variant.product?.type),
    vendor: text(variant.product?.vendor),
    price: decimal(variant.price?.amount),
    currency: text(variant.price?.currencyCode),
  };
}

function eventData(name: TrackedEventName, data: NonNullable<PixelEventInput["data"]>): WireData {
  switch (name) {
    case "page_viewed":
      return {};
    case "product_viewed":
      return variantData(data.productVariant);
    case "collection_viewed":
      return { collectionId: toGid("Collection", data.collection?.id), collectionTitle: text(data.collection?.title) };
    case "search_submitted":
      return { query: text(data.searchResult?.query, MAX_QUERY_LENGTH) };
    case "product_added_to_cart":
    case "product_removed_from_cart":
      return { ...variantData(data.cartLine?.merchandise), quantity: integer(data.cartLine?.quantity) };
    case "cart_viewed":
      return {
        cartTotal: decimal(data.cart?.cost?.totalAmount?.amount),
        currency: text(data.cart?.cost?.totalAmount?.currencyCode),
        itemCount: integer(data.cart?.lines?.length),
      };
    case "checkout_started":
    case "checkout_completed": {
      const checkout = data.checkout;
      return {
        checkoutToken: text(checkout?.token),
        cartTotal: decimal(checkout?.totalPrice?.amount),
        currency: text(checkout?.currencyCode) ?? text(checkout?.totalPrice?.currencyCode),
        itemCount: integer(checkout?.lineItems?.length),
        orderId: name === "checkout_completed" ? toGid("Order", checkout?.order?.id) : undefined,
        customerId: name === "checkout_completed" ? toGid("Customer", checkout?.order?.customer?.id) : undefined,
      };
    }
  }
}

function withoutUndefined(data: WireData): WireData | undefined {
  const entries = Object.entries(data).filter(([, value]) => value !== undefined);
  return entries.length > 0 ? (Object.fromEntries(entries) as WireData) : undefined;
}

function isTrackedEvent(name: unknown): name is TrackedEventName {
  return typeof name === "string" && (TRACKED_EVENTS as readonly string[]).includes(name);
}

/**
 * Maps one pixel event to the wire format, or undefined when it is not one we track or lacks the fields the
 * collector requires. Only allow-listed fields are copied, so emails, phones, names and addresses never leave.
 */
export function toWireEvent(event: PixelEventInput, loggedInCustomerId?: Maybe<string>): WireEvent | undefined {
  const { name } = event;
  const id = text(event.id);
  const timestamp = text(event.timestamp);
  const clientId = text(event.clientId);
  if (!isTrackedEvent(name) || !id || !timestamp || !clientId) return undefined;
  const data = eventData(name, event.data ?? {});
  data.customerId ??= toGid("Customer", loggedInCustomerId);
  const wire: WireEvent = { id, name, timestamp, clientId };
  const url = text(event.context?.document?.location?.href, MAX_URL_LENGTH);
  if (url) wire.url = url;
  const cleanData = withoutUndefined(data);
  if (cleanData) wire.data = cleanData;
  return wire;
}

export interface CollectorOptions {
  accountId: string;
  ingestUrl: string;
  /** init.customerPrivacy.analyticsProcessingAllowed at registration. */
  analyticsAllowed: boolean;
  /** init.data.customer.id when a customer is logged in. */
  loggedInCustomerId?: Maybe<string>;
  fetch?: typeof fetch;
  flushDelayMs?: number;
  maxBatchEvents?: number;
  maxBatchBytes?: number;
  /** Wait before each retry of a failed batch; its length is the number of retries. */
  retryDelaysMs?: readonly number[];
  /** Batches waiting to be sent (or retried) beyond this many are dropped, oldest first. */
  maxPendingBatches?: number;
}

export interface Collector {
  track(event: PixelEventInput): void;
  setAnalyticsAllowed(allowed: boolean): void;
  /** Sends whatever is queued now instead of when the timer fires. */
  flush(): void;
}

interface PendingBatch {
  body: string;
  failedAttempts: number;
}

type SendOutcome = "sent" | "retry" | "drop";

export const COLLECTOR_DEFAULTS = {
  flushDelayMs: 2_000,
  maxBatchEvents: 20,
  maxBatchBytes: 50_000,
  retryDelaysMs: [1_000, 4_000, 15_000],
  maxPendingBatches: 10,
} as const;

const byteLength = (value: string) => new TextEncoder().encode(value).length;

/**
 * Queues wire events and sends them in batches.
 *
 * The strict sandbox is a web worker without a document, and the Web Pixels API has no page-hide event, so there is
 * no moment to flush "before the page goes away". Batches are therefore sent when full, 2 s after their first event,
 * and at once for checkout_completed (the purchase, often the last event before the buyer leaves); keepalive lets a
 * request already started outlive the worker.
 *
 * One request at a time: keepalive bodies in flight may not exceed 64 KB in total.
 */
export function createCollector(options: CollectorOptions): Collector {
  const {
    accountId,
    ingestUrl,
    loggedInCustomerId,
    fetch: fetchImpl = (input, init) => fetch(input, init),
    flushDelayMs = COLLECTOR_DEFAULTS.flushDelayMs,
    maxBatchEvents = COLLECTOR_DEFAULTS.maxBatchEvents,
    maxBatchBytes = COLLECTOR_DEFAULTS.maxBatchBytes,
    retryDelaysMs = COLLECTOR_DEFAULTS.retryDelaysMs,
    maxPendingBatches = COLLECTOR_DEFAULTS.maxPendingBatches,
  } = options;
  let analyticsAllowed = options.analyticsAllowed;
  const envelopeStart = `{"accountId":${JSON.stringify(accountId)},"events":[`;
  const envelopeBytes = byteLength(envelopeStart) + byteLength("]}");

  let queuedEvents: string[] = [];
  let queuedBytes = envelopeBytes;
  let flushTimer: ReturnType<typeof setTimeout> | undefined;
  let pending: PendingBatch[] = [];
  let sending = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;

  function clearFlushTimer() {
    if (flushTimer !== undefined) clearTimeout(flushTimer);
    flushTimer = undefined;
  }

  function flush() {
    clearFlushTimer();
    if (queuedEvents.length === 0) return;
    pending.push({ body: `${envelopeStart}${queuedEvents.join(",")}]}`, failedAttempts: 0 });
    if (pending.length > maxPendingBatches) pending = pending.slice(-maxPendingBatches);
    queuedEvents = [];
    queuedBytes = envelopeBytes;
    void sendNext();
  }

  async function send(body: string): Promise<SendOutcome> {
    try {
      const response = await fetchImpl(ingestUrl, {
        method: "POST",
        body,
        keepalive: true,
        // A CORS-safelisted content type: no preflight request before every batch.
        headers: { "Content-Type": "text/plain;charset=UTF-8" },
        credentials: "omit",
        mode: "cors",
      });
      if (response.ok) return "sent";
      return response.status >= 500 || response.status === 429 ? "retry" : "drop";
    } catch {
      return "retry";
    }
  }

  async function sendNext(): Promise<void> {
    const batch = pending[0];
    if (sending || retryTimer !== undefined || !batch) return;
    sending = true;
    const outcome = await send(batch.body);
    sending = false;
    // Consent may have been withdrawn (and the batch dropped) while the request was in flight.
    if (pending[0] !== batch) return void sendNext();
    if (outcome === "retry" && batch.failedAttempts < retryDelaysMs.length) {
      const delay = retryDelaysMs[batch.failedAttempts]!;
      batch.failedAttempts += 1;
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        void sendNext();
      }, delay);
      return;
    }
    pending.shift();
    return sendNext();
  }

  function track(event: PixelEventInput) {
    if (!analyticsAllowed) return;
    const wireEvent = toWireEvent(event, loggedInCustomerId);
    if (!wireEvent) return;
    const serialized = JSON.stringify(wireEvent);
    const bytes = byteLength(serialized);
    if (envelopeBytes + bytes > maxBatchBytes) return;
    if (queuedEvents.length > 0 && queuedBytes + 1 + bytes > maxBatchBytes) flush();
    queuedBytes += (queuedEvents.length > 0 ? 1 : 0) + bytes;
    queuedEvents.push(serialized);
    if (queuedEvents.length >= maxBatchEvents || wireEvent.name === "checkout_completed") flush();
    else flushTimer ??= setTimeout(flush, flushDelayMs);
  }

  function setAnalyticsAllowed(allowed: boolean) {
    analyticsAllowed = allowed;
    if (allowed) return;
    clearFlushTimer();
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    retryTimer = undefined;
    queuedEvents = [];
    queuedBytes = envelopeBytes;
    pending = [];
  }

  return { track, setAnalyticsAllowed, flush };
}
