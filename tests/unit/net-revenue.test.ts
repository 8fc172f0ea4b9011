import { describe, expect, it } from "vitest";
import { lineNetRevenue, orderNetRevenue } from "../../app/services/net-revenue.server";

/**
 * Net revenue on an order worked out by hand, in Shopify's own fields. Two lines:
 * - A: 2 × 50.00 = 100.00, an automatic 10% sale (10.00, line-level, always in discountedTotalSet) and a
 *   product code SHOES5 of 4.50 (line-level code: in discountedTotalSet only withCodeDiscounts);
 * - B: 1 × 40.00, no line discount.
 * An order-level code WELCOME10 takes 10% of what the lines then cost (85.50 + 40.00 = 125.50): 12.55,
 * allocated 8.55 to A and 4.00 to B, and never in discountedTotalSet.
 * Lines net: A 100.00 − 10.00 − 4.50 − 8.55 = 76.95; B 40.00 − 4.00 = 36.00; together 112.95.
 * Shipping 7.99 and tax 13% on the lines (14.68) are not revenue.
 */
const money = (amount: string) => ({ shopMoney: { amount, currencyCode: "CAD" } });
const orderLevel = { targetSelection: "ALL" };
const lineLevel = { targetSelection: "ENTITLED" };

const lineA = {
  discountedTotalSet: money("85.50"),
  discountAllocations: [
    { allocatedAmountSet: money("10.00"), discountApplication: lineLevel },
    { allocatedAmountSet: money("4.50"), discountApplication: lineLevel },
    { allocatedAmountSet: money("8.55"), discountApplication: orderLevel },
  ],
};
const lineB = {
  discountedTotalSet: money("40.00"),
  discountAllocations: [{ allocatedAmountSet: money("4.00"), discountApplication: orderLevel }],
};
const order = {
  taxesIncluded: false,
  subtotalPriceSet: money("112.95"),
  currentSubtotalPriceSet: money("112.95"),
  totalTaxSet: money("14.68"),
  currentTotalTaxSet: money("14.68"),
  totalRefundedSet: money("0.00"),
  totalRefundedShippingSet: money("0.00"),
};

describe("net revenue", () => {
  it("takes a line's order-level allocations off the price after its own discounts", () => {
    expect(lineNetRevenue(lineA)).toBe("76.95");
    expect(lineNetRevenue(lineB)).toBe("36.00");
  });

  it("is the lines after every discount, without shipping or tax", () => {
    expect(orderNetRevenue(order)).toBe("112.95");
  });

  it("subtracts a refunded line, and neither its tax nor refunded shipping a second time", () => {
    // Line B returned: 36.00 and its tax 4.68 back, and the shipping refunded too: 48.67 in all.
    const refunded = {
      ...order,
      currentSubtotalPriceSet: money("76.95"),
      currentTotalTaxSet: money("10.00"),
      totalRefundedSet: money("48.67"),
      totalRefundedShippingSet: money("7.99"),
    };
    expect(orderNetRevenue(refunded)).toBe("76.95");
  });

  it("subtracts a refund of an amount that returned no line", () => {
    expect(orderNetRevenue({ ...order, totalRefundedSet: money("20.00") })).toBe("92.95");
  });

  it("takes the tax out where the shop's prices include it", () => {
    // The same lines priced with tax in: 112.95 of which 12.99 is tax.
    const included = { ...order, taxesIncluded: true, totalTaxSet: money("12.99"), currentTotalTaxSet: money("12.99") };
    expect(orderNetRevenue(included)).toBe("99.96");
  });

  it("is nothing, never less, once everything was refunded", () => {
    const full = {
      ...order,
      currentSubtotalPriceSet: money("0.00"),
      currentTotalTaxSet: money("0.00"),
      totalRefundedSet: money("135.62"),
      totalRefundedShippingSet: money("7.99"),
    };
    expect(orderNetRevenue(full)).toBe("0.00");
    expect(orderNetRevenue({ ...order, totalRefundedSet: money("500.00") })).toBe("0.00");
  });

  it("keeps currencies with three decimals exact", () => {
    expect(
      lineNetRevenue({
        discountedTotalSet: money("10.125"),
        discountAllocations: [{ allocatedAmountSet: money("0.001"), discountApplication: orderLevel }],
      }),
    ).toBe("10.124");
  });
});
