import { describe, expect, it } from "vitest";
import { z } from "zod";
import { compileCheck, FastSchema } from "../../app/services/compiled-checks.server";
import { pixelRequest } from "../../app/services/pixel-ingest.server";
import { COMMON_REPLACEMENTS, mutations, paths, replaced, watchZodParses } from "../helpers/zod-agreement";

/**
 * The storefront endpoint checks every request with a predicate compiled from
 * its zod schema. It must accept exactly what zod accepts: every field of
 * real requests, mutated every way a broken or hostile client could, gets the
 * same answer from both.
 */

const event = {
  id: "evt-0001",
  name: "checkout_completed",
  timestamp: "2026-11-28T10:15:00.123+01:00",
  clientId: "client-abc",
  url: "https://shop.example/checkouts/1",
  data: {
    productId: "gid://shopify/Product/1001",
    variantId: "gid://shopify/ProductVariant/2001",
    productTitle: "Merino beanie",
    productType: "Hats",
    vendor: "Alder Works",
    price: "24.00",
    currency: "CAD",
    quantity: 2,
    collectionId: "gid://shopify/Collection/3",
    collectionTitle: "Winter",
    query: "beanie",
    cartTotal: "48.00",
    checkoutToken: "tok",
    orderId: "gid://shopify/Order/5001",
    customerId: "gid://shopify/Customer/7001",
    itemCount: 2,
  },
};
const SAMPLES = [
  { accountId: "a".repeat(32), event },
  {
    accountId: "acct_0123456789-abcdef",
    events: [event, { ...event, id: "evt-2", name: "page_viewed", data: undefined }],
  },
];

const REPLACEMENTS = [
  ...COMMON_REPLACEMENTS,
  -1,
  100_000,
  100_001,
  "x".repeat(129),
  "x".repeat(2049),
  "CAD",
  "cad",
  "12.50",
  "page_viewed",
  "checkout_started",
  "unknown_event",
  "2026-11-28T10:15:00Z",
  "2026-11-28T10:15:00",
  "2026-11-28",
  "2026-13-28T10:15:00Z",
  "gid://shopify/Product/12",
  "gid://shopify/Order/12/",
  "b".repeat(16),
  "has space in it!!",
  [event],
  Array.from({ length: 101 }, () => event),
  { extra: 1 },
];

describe("the compiled check of storefront requests", () => {
  SAMPLES.forEach((sample, index) => {
    it(`agrees with zod on every mutation of request ${index + 1}`, () => {
      const check = compileCheck(pixelRequest);
      expect(check(sample)).toBe(true);
      let variants = 0;
      for (const { value, label } of mutations(sample, REPLACEMENTS)) {
        expect(check(value), label).toBe(pixelRequest.safeParse(value).success);
        variants++;
      }
      // An unknown key beside every known one: strict objects refuse it.
      for (const path of paths(sample)) {
        const withExtra = replaced(sample, [...path, "unexpected"], "x");
        expect(check(withExtra), `${path.join(".")}.unexpected`).toBe(pixelRequest.safeParse(withExtra).success);
      }
      expect(variants).toBeGreaterThan(500);
    });
  });

  it("needs zod for no part of the request schema", () => {
    const check = compileCheck(pixelRequest);
    const zodParses = watchZodParses(pixelRequest);
    expect(check(SAMPLES[1])).toBe(true);
    expect(check({ ...SAMPLES[0], event: { ...event, name: "nope" } })).toBe(false);
    zodParses.restore();
    expect(zodParses.calls).toBe(0);
  });

  it("applies the request's refinement: one event or a batch, not both or neither", () => {
    const check = compileCheck(pixelRequest);
    expect(check({ accountId: "a".repeat(32), event, events: [event] })).toBe(false);
    expect(check({ accountId: "a".repeat(32) })).toBe(false);
  });

  it("explains a refusal in zod's words, with the field", () => {
    const checked = new FastSchema(pixelRequest);
    const result = checked.parse({ ...SAMPLES[0], event: { ...event, name: "nope" } }, "body");
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/^event\.name: /);
    expect(checked.parse(SAMPLES[0], "body")).toEqual({ ok: true, value: SAMPLES[0] });
    expect(checked.parse("[]", "body")).toMatchObject({ ok: false, reason: expect.stringMatching(/^body: /) });
  });

  it("holds exclusive bounds and non-strict objects to zod's answer", () => {
    const schema = z.object({ n: z.number().gt(0).lt(10), tags: z.array(z.string()).max(2).optional() });
    const check = compileCheck(schema);
    for (const value of [{ n: 0 }, { n: 0.5 }, { n: 10 }, { n: 5, tags: ["a", "b", "c"] }, { n: 5, other: true }])
      expect(check(value), JSON.stringify(value)).toBe(schema.safeParse(value).success);
  });
});
