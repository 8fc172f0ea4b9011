/**
 * Net revenue: the one definition of "revenue" behind every figure of the app (RFM's M, spend,
 * average order value, segment revenue, the Dashboard, a customer's page). Computed once, when a
 * record is imported (bulk, paginated or by webhook), and stored with it.
 *
 * A line's net revenue is its price after every discount: Shopify's
 * `discountedTotalSet(withCodeDiscounts: true)` (line-level discounts, automatic and code) minus
 * the line's allocations of order-level discounts (`discountAllocations` whose application targets
 * ALL lines), which Shopify never subtracts from `discountedTotalSet`.
 *
 * An order's net revenue is the sum of its lines' net revenue with refunds taken off, shipping and
 * taxes left out. From the order's own fields: `currentSubtotalPriceSet` (the lines after every
 * discount, less the lines refunded or returned), less its tax when the shop's prices include tax
 * (`taxesIncluded`), less any refund that returned no line (an amount refunded by hand): what was
 * refunded beyond the refunded lines, their tax and the refunded shipping. Never below zero.
 */

/** Amounts to four decimals (the columns' scale), as integers, so sums are exact. */
const SCALE = 4;
const UNIT = 10n ** BigInt(SCALE);

function units(amount: string): bigint {
  const negative = amount.startsWith("-");
  const [whole = "0", fraction = ""] = (negative ? amount.slice(1) : amount).split(".");
  const value = BigInt(whole) * UNIT + BigInt((fraction + "0".repeat(SCALE)).slice(0, SCALE));
  return negative ? -value : value;
}

function decimal(value: bigint): string {
  const negative = value < 0n;
  const absolute = negative ? -value : value;
  const fraction = String(absolute % UNIT)
    .padStart(SCALE, "0")
    .replace(/0{1,2}$/, "");
  return `${negative ? "-" : ""}${absolute / UNIT}.${fraction}`;
}

const atLeastZero = (value: bigint) => (value < 0n ? 0n : value);

type Money = { shopMoney: { amount: string } };

export interface LineRevenueFields {
  /** Asked for with `withCodeDiscounts: true`. */
  discountedTotalSet: Money;
  discountAllocations: { allocatedAmountSet: Money; discountApplication: { targetSelection: string } }[];
}

export interface OrderRevenueFields {
  taxesIncluded: boolean;
  subtotalPriceSet: Money | null;
  currentSubtotalPriceSet: Money;
  totalTaxSet: Money | null;
  currentTotalTaxSet: Money;
  totalRefundedSet: Money;
  totalRefundedShippingSet: Money;
}

/** A line's net revenue, as a decimal string in the shop's currency. */
export function lineNetRevenue(line: LineRevenueFields): string {
  const orderLevel = line.discountAllocations
    .filter((allocation) => allocation.discountApplication.targetSelection === "ALL")
    .reduce((sum, allocation) => sum + units(allocation.allocatedAmountSet.shopMoney.amount), 0n);
  return decimal(atLeastZero(units(line.discountedTotalSet.shopMoney.amount) - orderLevel));
}

/** An order's net revenue, as a decimal string in the shop's currency. */
export function orderNetRevenue(order: OrderRevenueFields): string {
  const current = units(order.currentSubtotalPriceSet.shopMoney.amount);
  const subtotal = order.subtotalPriceSet ? units(order.subtotalPriceSet.shopMoney.amount) : current;
  const currentTax = units(order.currentTotalTaxSet.shopMoney.amount);
  const tax = order.totalTaxSet ? units(order.totalTaxSet.shopMoney.amount) : currentTax;
  // With taxes included the subtotals hold the tax, so the refunded lines' tax is already in their difference.
  const refundedLines = subtotal - current + (order.taxesIncluded ? 0n : tax - currentTax);
  const amountOnlyRefunds = atLeastZero(
    units(order.totalRefundedSet.shopMoney.amount) -
      units(order.totalRefundedShippingSet.shopMoney.amount) -
      refundedLines,
  );
  const includedTax = order.taxesIncluded ? currentTax : 0n;
  return decimal(atLeastZero(current - includedTax - amountOnlyRefunds));
}
