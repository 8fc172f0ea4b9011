import { describe, expect, it } from "vitest";
import { z } from "zod";
import { compileCheck } from "../../app/services/compiled-checks.server";
import {
  BULK_NODES,
  customerNode,
  lineItemNode,
  orderNode,
  productNode,
  variantNode,
} from "../../app/services/pull-queries.server";
import { COMMON_REPLACEMENTS, mutations, watchZodParses } from "../helpers/zod-agreement";

/**
 * Bulk lines are checked by predicates compiled from the node schemas. They
 * must accept exactly what zod accepts: every field of a real line, mutated
 * every way a broken export could break it, gets the same answer from both.
 */

const money = (amount: string) => ({ shopMoney: { amount, currencyCode: "USD" } });

const SAMPLES: [string, z.ZodType, Record<string, unknown>][] = [
  [
    "Customer",
    customerNode,
    {
      id: "gid://shopify/Customer/7100000000000",
      legacyResourceId: "7100000000000",
      firstName: "Omar",
      lastName: "Lee",
      defaultEmailAddress: { emailAddress: "omar.lee.0@example.com", marketingState: "SUBSCRIBED" },
      defaultPhoneNumber: { phoneNumber: "+15551000000", smsMarketingConsent: { state: "NEVER_SUBSCRIBED" } },
      tags: ["vip", "gift-buyer"],
      locale: "en",
      numberOfOrders: "1",
      amountSpent: { amount: "158.96", currencyCode: "USD" },
      defaultAddress: {
        address1: "1365 Pine Ln",
        city: "Toronto",
        province: "Ontario",
        countryCodeV2: "CA",
        zip: "M5H",
      },
      createdAt: "2024-03-03T12:36:26.052Z",
      updatedAt: "2024-03-03T12:36:28.468Z",
    },
  ],
  [
    "Product",
    productNode,
    {
      id: "gid://shopify/Product/8200000000000",
      legacyResourceId: "8200000000000",
      title: "Alpine Gift Card 1",
      handle: "alpine-gift-card-1",
      description: "A gift card.",
      productType: "Gift Card",
      vendor: "Alder Works",
      tags: [],
      status: "ACTIVE",
      options: [{ name: "Denomination", values: ["25", "50"] }],
      featuredMedia: { preview: { image: { url: "https://images.example/1.jpg" } } },
      createdAt: "2024-03-26T15:53:09.480Z",
      updatedAt: "2024-03-26T23:23:44.999Z",
    },
  ],
  [
    "ProductVariant",
    variantNode,
    {
      id: "gid://shopify/ProductVariant/4400000000000",
      title: "25",
      sku: "GIFT-1-1",
      price: "40.12",
      compareAtPrice: null,
      selectedOptions: [{ name: "Denomination", value: "25" }],
      __parentId: "gid://shopify/Product/8200000000000",
    },
  ],
  [
    "Order",
    orderNode,
    {
      id: "gid://shopify/Order/5600000000000",
      legacyResourceId: "5600000000000",
      name: "#1001",
      email: "omar.lee.0@example.com",
      phone: null,
      currencyCode: "USD",
      displayFinancialStatus: "PAID",
      discountCodes: ["LOYAL20"],
      tags: ["discounted"],
      customer: { id: "gid://shopify/Customer/7100000000000" },
      subtotalPriceSet: money("148.56"),
      totalDiscountsSet: money("37.15"),
      totalShippingPriceSet: money("0.00"),
      totalTaxSet: money("10.40"),
      totalPriceSet: money("158.96"),
      totalRefundedSet: money("0.00"),
      shippingAddress: {
        firstName: "Omar",
        lastName: "Lee",
        address1: "1365 Pine Ln",
        city: "Toronto",
        countryCodeV2: "CA",
        zip: "M5H 2N2",
      },
      transactions: [
        {
          id: "gid://shopify/OrderTransaction/9300000000000",
          kind: "SALE",
          status: "SUCCESS",
          gateway: "shopify_payments",
          processedAt: "2024-05-02T12:01:49.638Z",
          amountSet: money("158.96"),
        },
      ],
      processedAt: "2024-05-02T12:01:49.638Z",
      cancelledAt: null,
      createdAt: "2024-05-02T12:01:49.638Z",
      updatedAt: "2024-05-02T14:26:40.762Z",
    },
  ],
  [
    "LineItem",
    lineItemNode,
    {
      id: "gid://shopify/LineItem/13000000000000",
      title: "Granite Sleeping Bag 4097",
      variantTitle: "-5°C",
      sku: "SLEE-4097-1",
      quantity: 1,
      variant: { id: "gid://shopify/ProductVariant/4400000032768" },
      product: { id: "gid://shopify/Product/8200000004096" },
      originalUnitPriceSet: money("152.08"),
      totalDiscountSet: money("30.42"),
      discountedTotalSet: money("121.66"),
      __parentId: "gid://shopify/Order/5600000000000",
    },
  ],
];

const REPLACEMENTS = [
  ...COMMON_REPLACEMENTS,
  -7,
  "12",
  "-12.50",
  ".5",
  "gid://shopify/Customer/12",
  "gid://shopify/Order/12",
  "gid://shopify/Order/12/",
  "gid://shopify/LineItem/abc",
  ["a"],
  [1],
  [null],
  { id: "gid://shopify/Customer/1" },
];

describe("compiled checks of bulk lines", () => {
  for (const [type, schema, sample] of SAMPLES) {
    it(`agree with zod on every mutation of a ${type} line`, () => {
      const check = compileCheck(schema);
      expect(check(sample)).toBe(true);
      let variants = 0;
      for (const { value, label } of mutations(sample, REPLACEMENTS)) {
        expect(check(value), `${type} with ${label}`).toBe(schema.safeParse(value).success);
        variants++;
      }
      expect(variants).toBeGreaterThan(100);
    });
  }

  it("need zod for none of the node shapes' fields", () => {
    for (const [, schema, sample] of SAMPLES) {
      const check = compileCheck(schema);
      const zodParses = watchZodParses(schema);
      expect(check(sample)).toBe(true);
      zodParses.restore();
      expect(zodParses.calls).toBe(0);
    }
  });

  it("explain a rejection in zod's words, with the field", () => {
    const line = { ...SAMPLES[4]![2], quantity: "1" };
    const result = BULK_NODES.LineItem.parse(line);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/^quantity: .*expected number/i);
    expect(BULK_NODES.LineItem.parse(SAMPLES[4]![2])).toEqual({ ok: true, node: SAMPLES[4]![2] });
  });

  it("leave schemas they do not know to zod", () => {
    const schema = z.object({ email: z.email(), size: z.number().multipleOf(5), name: z.string().trim() });
    const check = compileCheck(schema);
    for (const value of [
      { email: "a@example.com", size: 10, name: "x" },
      { email: "not an address", size: 10, name: "x" },
      { email: "a@example.com", size: 7, name: "x" },
      { email: "a@example.com", size: 10, name: 3 },
    ])
      expect(check(value), JSON.stringify(value)).toBe(schema.safeParse(value).success);
  });
});
