import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  createCollector,
  toWireEvent,
  type CollectorOptions,
  type PixelEventInput,
  type WireBatch,
} from "../../extensions/web-pixel/src/collector";

const INGEST_URL = "https://app.example.com/api/pixel/events";
const PII = ["ada@example.com", "+16135551111", "Ada", "Lovelace", "12 Analytical Row", "K1A 0B1"];
const WIRE_DATA_KEYS = [
  "productId",
  "variantId",
  "productTitle",
  "productType",
  "vendor",
  "price",
  "currency",
  "quantity",
  "collectionId",
  "collectionTitle",
  "query",
  "cartTotal",
  "checkoutToken",
  "orderId",
  "customerId",
  "itemCount",
];

let sequence = 0;

function pixelEvent(name: string, data: Record<string, unknown> = {}, href = "https://shop.example/"): PixelEventInput {
  sequence += 1;
  return {
    id: `evt-${sequence}`,
    name,
    timestamp: new Date(Date.UTC(2026, 0, 1, 12, 0, sequence)).toISOString(),
    clientId: "client-1",
    context: { document: { location: { href } } },
    data,
  };
}

const variant = {
  id: "4001",
  title: "Large",
  sku: "TEA-L",
  price: { amount: 19.99, currencyCode: "CAD" },
  image: { src: "https://cdn.example/tea.jpg" },
  product: { id: "301", title: "Smoky Tea", type: "Tea", vendor: "Leaf & Co", url: "/products/smoky-tea" },
};

const address = { address1: "12 Analytical Row", zip: "K1A 0B1", firstName: "Ada", lastName: "Lovelace" };

const checkout = (orderId: string | null) => ({
  token: "chk-token-1",
  currencyCode: "CAD",
  email: "ada@example.com",
  phone: "+16135551111",
  smsMarketingPhone: "+16135551111",
  billingAddress: address,
  shippingAddress: address,
  totalPrice: { amount: 44.5, currencyCode: "CAD" },
  subtotalPrice: { amount: 39.98, currencyCode: "CAD" },
  lineItems: [
    { id: "li-1", quantity: 2, title: "Smoky Tea", variant },
    { id: "li-2", quantity: 1, title: "Mug", variant: { ...variant, id: "4002" } },
  ],
  order: orderId ? { id: orderId, customer: { id: "9001", isFirstOrder: true } } : null,
});

const loggedInCustomer = {
  id: "9001",
  email: "ada@example.com",
  phone: "+16135551111",
  firstName: "Ada",
  lastName: "Lovelace",
};

describe("toWireEvent", () => {
  it("maps page_viewed to its URL only, plus the logged-in customer", () => {
    const event = pixelEvent("page_viewed", {}, "https://shop.example/pages/about");
    expect(toWireEvent(event)).toEqual({
      id: event.id,
      name: "page_viewed",
      timestamp: event.timestamp,
      clientId: "client-1",
      url: "https://shop.example/pages/about",
    });
    expect(toWireEvent(event, loggedInCustomer.id)?.data).toEqual({ customerId: "gid://shopify/Customer/9001" });
  });

  it("maps product_viewed with numeric ids turned into GIDs", () => {
    expect(toWireEvent(pixelEvent("product_viewed", { productVariant: variant }))?.data).toEqual({
      productId: "gid://shopify/Product/301",
      variantId: "gid://shopify/ProductVariant/4001",
      productTitle: "Smoky Tea",
      productType: "Tea",
      vendor: "Leaf & Co",
      price: "19.99",
      currency: "CAD",
    });
  });

  it("keeps ids that are already GIDs of the right type and drops ids of another shape", () => {
    const productVariant = {
      ...variant,
      id: "gid://shopify/ProductVariant/4001",
      product: { ...variant.product, id: "gid://shopify/Collection/301" },
    };
    const data = toWireEvent(pixelEvent("product_viewed", { productVariant }))?.data;
    expect(data?.variantId).toBe("gid://shopify/ProductVariant/4001");
    expect(data).not.toHaveProperty("productId");
  });

  it("maps collection_viewed", () => {
    const collection = { id: "77", title: "Teas", productVariants: [variant] };
    expect(toWireEvent(pixelEvent("collection_viewed", { collection }))?.data).toEqual({
      collectionId: "gid://shopify/Collection/77",
      collectionTitle: "Teas",
    });
  });

  it("maps search_submitted and caps the query at 200 characters", () => {
    const searchResult = { query: "smoky ".repeat(50), productVariants: [variant] };
    const data = toWireEvent(pixelEvent("search_submitted", { searchResult }))?.data;
    expect(data?.query).toBe("smoky ".repeat(50).slice(0, 200));
  });

  it.each(["product_added_to_cart", "product_removed_from_cart"])("maps %s with the quantity", (name) => {
    const cartLine = {
      quantity: 2,
      merchandise: variant,
      cost: { totalAmount: { amount: 39.98, currencyCode: "CAD" } },
    };
    expect(toWireEvent(pixelEvent(name, { cartLine }))?.data).toEqual({
      productId: "gid://shopify/Product/301",
      variantId: "gid://shopify/ProductVariant/4001",
      productTitle: "Smoky Tea",
      productType: "Tea",
      vendor: "Leaf & Co",
      price: "19.99",
      currency: "CAD",
      quantity: 2,
    });
  });

  it("maps cart_viewed to its total and number of lines", () => {
    const cart = {
      id: "cart-1",
      totalQuantity: 3,
      cost: { totalAmount: { amount: 59.97, currencyCode: "CAD" } },
      lines: [
        { quantity: 2, merchandise: variant },
        { quantity: 1, merchandise: variant },
      ],
    };
    expect(toWireEvent(pixelEvent("cart_viewed", { cart }))?.data).toEqual({
      cartTotal: "59.97",
      currency: "CAD",
      itemCount: 2,
    });
  });

  it("maps checkout_started without order or contact details", () => {
    const wire = toWireEvent(pixelEvent("checkout_started", { checkout: checkout(null) }));
    expect(wire?.data).toEqual({ checkoutToken: "chk-token-1", cartTotal: "44.5", currency: "CAD", itemCount: 2 });
    for (const value of PII) expect(JSON.stringify(wire)).not.toContain(value);
  });

  it("maps checkout_completed with the order and its customer, and no contact details", () => {
    const wire = toWireEvent(pixelEvent("checkout_completed", { checkout: checkout("5001") }));
    expect(wire?.data).toEqual({
      checkoutToken: "chk-token-1",
      cartTotal: "44.5",
      currency: "CAD",
      itemCount: 2,
      orderId: "gid://shopify/Order/5001",
      customerId: "gid://shopify/Customer/9001",
    });
    for (const value of PII) expect(JSON.stringify(wire)).not.toContain(value);
  });

  it("caps the URL at 2048 characters and omits it when absent", () => {
    const longUrl = `https://shop.example/search?q=${"x".repeat(3000)}`;
    expect(toWireEvent(pixelEvent("page_viewed", {}, longUrl))?.url).toBe(longUrl.slice(0, 2048));
    expect(toWireEvent({ ...pixelEvent("page_viewed"), context: null })).not.toHaveProperty("url");
  });

  it("ignores events we do not track and events without the required fields", () => {
    expect(toWireEvent(pixelEvent("checkout_contact_info_submitted", { checkout: checkout(null) }))).toBeUndefined();
    expect(toWireEvent({ ...pixelEvent("page_viewed"), clientId: undefined })).toBeUndefined();
    expect(toWireEvent({ ...pixelEvent("page_viewed"), id: "" })).toBeUndefined();
  });
});

describe("createCollector", () => {
  let statuses: Array<number | "network-error">;
  let fetchMock: ReturnType<typeof vi.fn<typeof fetch>>;

  const batches = () => fetchMock.mock.calls.map(([, init]) => JSON.parse(String(init?.body)) as WireBatch);
  const sentEventIds = () => batches().flatMap((batch) => batch.events.map((event) => event.id));

  function collector(options: Partial<CollectorOptions> = {}) {
    return createCollector({
      accountId: "acct-123",
      ingestUrl: INGEST_URL,
      analyticsAllowed: true,
      fetch: fetchMock,
      ...options,
    });
  }

  beforeEach(() => {
    vi.useFakeTimers();
    statuses = [];
    fetchMock = vi.fn<typeof fetch>(async () => {
      const status = statuses.shift() ?? 204;
      if (status === "network-error") throw new TypeError("Failed to fetch");
      return new Response(null, { status });
    });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("posts a text/plain, credential-less keepalive request in the wire format", async () => {
    const pixel = collector({ loggedInCustomerId: "9001" });
    const event = pixelEvent("product_viewed", { productVariant: variant });
    pixel.track(event);
    await vi.advanceTimersByTimeAsync(2_000);

    expect(fetchMock).toHaveBeenCalledTimes(1);
    const [url, init] = fetchMock.mock.calls[0]!;
    expect(url).toBe(INGEST_URL);
    expect(init).toMatchObject({
      method: "POST",
      keepalive: true,
      credentials: "omit",
      mode: "cors",
      headers: { "Content-Type": "text/plain;charset=UTF-8" },
    });
    const [batch] = batches();
    expect(batch).toEqual({ accountId: "acct-123", events: [toWireEvent(event, "9001")] });
    expect(Object.keys(batch!.events[0]!.data!).every((key) => WIRE_DATA_KEYS.includes(key))).toBe(true);
  });

  it("sends a batch 2 s after its first event, not before", async () => {
    const pixel = collector();
    pixel.track(pixelEvent("page_viewed"));
    await vi.advanceTimersByTimeAsync(1_500);
    pixel.track(pixelEvent("product_viewed", { productVariant: variant }));
    await vi.advanceTimersByTimeAsync(499);
    expect(fetchMock).not.toHaveBeenCalled();

    await vi.advanceTimersByTimeAsync(1);
    expect(batches().map((batch) => batch.events.length)).toEqual([2]);
  });

  it("sends full batches of 20 at once and the rest on the timer", async () => {
    const pixel = collector();
    for (let i = 0; i < 45; i++) pixel.track(pixelEvent("page_viewed"));
    await vi.advanceTimersByTimeAsync(0);
    expect(batches().map((batch) => batch.events.length)).toEqual([20, 20]);

    await vi.advanceTimersByTimeAsync(2_000);
    expect(batches().map((batch) => batch.events.length)).toEqual([20, 20, 5]);
  });

  it("keeps each request body under 50 KB", async () => {
    const pixel = collector();
    const bulky = { ...variant, product: { ...variant.product, title: "T".repeat(8_000) } };
    for (let i = 0; i < 15; i++) pixel.track(pixelEvent("product_viewed", { productVariant: bulky }));
    await vi.advanceTimersByTimeAsync(2_000);

    const bodies = fetchMock.mock.calls.map(([, init]) => new TextEncoder().encode(String(init?.body)).length);
    expect(bodies.length).toBeGreaterThan(1);
    for (const bytes of bodies) expect(bytes).toBeLessThanOrEqual(50_000);
    expect(sentEventIds()).toHaveLength(15);
  });

  it("sends at once on checkout_completed, with everything queued before it", async () => {
    const pixel = collector();
    pixel.track(pixelEvent("checkout_started", { checkout: checkout(null) }));
    pixel.track(pixelEvent("checkout_completed", { checkout: checkout("5001") }));
    await vi.advanceTimersByTimeAsync(0);

    expect(batches().map((batch) => batch.events.map((event) => event.name))).toEqual([
      ["checkout_started", "checkout_completed"],
    ]);
  });

  describe("consent", () => {
    it("neither sends nor queues anything while analytics is not allowed", async () => {
      const pixel = collector({ analyticsAllowed: false });
      pixel.track(pixelEvent("page_viewed"));
      pixel.track(pixelEvent("checkout_completed", { checkout: checkout("5001") }));
      await vi.advanceTimersByTimeAsync(60_000);
      expect(fetchMock).not.toHaveBeenCalled();

      pixel.setAnalyticsAllowed(true);
      pixel.flush();
      await vi.advanceTimersByTimeAsync(60_000);
      expect(fetchMock).not.toHaveBeenCalled();
    });

    it("sends the events that follow a later grant", async () => {
      const pixel = collector({ analyticsAllowed: false });
      pixel.track(pixelEvent("page_viewed"));
      pixel.setAnalyticsAllowed(true);
      const afterGrant = pixelEvent("product_viewed", { productVariant: variant });
      pixel.track(afterGrant);
      await vi.advanceTimersByTimeAsync(2_000);

      expect(sentEventIds()).toEqual([afterGrant.id]);
    });

    it("drops the queue when consent is withdrawn", async () => {
      const pixel = collector();
      pixel.track(pixelEvent("page_viewed"));
      pixel.track(pixelEvent("product_viewed", { productVariant: variant }));
      pixel.setAnalyticsAllowed(false);
      pixel.track(pixelEvent("cart_viewed"));
      await vi.advanceTimersByTimeAsync(60_000);

      expect(fetchMock).not.toHaveBeenCalled();
    });

    it("drops a batch waiting for a retry when consent is withdrawn", async () => {
      statuses = [503];
      const pixel = collector();
      pixel.track(pixelEvent("checkout_completed", { checkout: checkout("5001") }));
      await vi.advanceTimersByTimeAsync(0);
      pixel.setAnalyticsAllowed(false);
      await vi.advanceTimersByTimeAsync(60_000);

      expect(fetchMock).toHaveBeenCalledTimes(1);
    });
  });

  describe("delivery failures", () => {
    it.each([503, 500, 429, "network-error" as const])(
      "retries a batch after %s with growing delays",
      async (failure) => {
        statuses = [failure, failure, 204];
        const pixel = collector();
        pixel.track(pixelEvent("checkout_completed", { checkout: checkout("5001") }));
        await vi.advanceTimersByTimeAsync(0);
        expect(fetchMock).toHaveBeenCalledTimes(1);

        await vi.advanceTimersByTimeAsync(999);
        expect(fetchMock).toHaveBeenCalledTimes(1);
        await vi.advanceTimersByTimeAsync(1);
        expect(fetchMock).toHaveBeenCalledTimes(2);

        await vi.advanceTimersByTimeAsync(3_999);
        expect(fetchMock).toHaveBeenCalledTimes(2);
        await vi.advanceTimersByTimeAsync(1);
        expect(fetchMock).toHaveBeenCalledTimes(3);

        await vi.advanceTimersByTimeAsync(60_000);
        expect(fetchMock).toHaveBeenCalledTimes(3);
        expect(new Set(fetchMock.mock.calls.map(([, init]) => init?.body)).size).toBe(1);
      },
    );

    it("gives up on a batch after a few attempts and goes on with the next", async () => {
      statuses = [500, 500, 500, 500];
      const pixel = collector();
      pixel.track(pixelEvent("checkout_completed", { checkout: checkout("5001") }));
      const later = pixelEvent("page_viewed");
      pixel.track(later);
      await vi.advanceTimersByTimeAsync(120_000);

      expect(fetchMock).toHaveBeenCalledTimes(5);
      expect(
        batches()
          .at(-1)
          ?.events.map((event) => event.id),
      ).toEqual([later.id]);
    });

    it("drops a batch the collector rejects with 400 and sends the next one", async () => {
      statuses = [400];
      const pixel = collector();
      pixel.track(pixelEvent("checkout_completed", { checkout: checkout("5001") }));
      await vi.advanceTimersByTimeAsync(60_000);
      expect(fetchMock).toHaveBeenCalledTimes(1);

      const next = pixelEvent("page_viewed");
      pixel.track(next);
      await vi.advanceTimersByTimeAsync(2_000);
      expect(fetchMock).toHaveBeenCalledTimes(2);
      expect(batches()[1]?.events.map((event) => event.id)).toEqual([next.id]);
    });
  });
});
