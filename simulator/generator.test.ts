import { describe, expect, it } from "vitest";
import { formatCents, StoreGenerator, storeSpec } from "./generator";

const end = new Date("2026-11-01T00:00:00Z");

describe("store generator", () => {
  it("is deterministic per seed, and records can be generated in any order", () => {
    const a = new StoreGenerator(storeSpec("small", { end, seed: 7 }));
    const b = new StoreGenerator(storeSpec("small", { end, seed: 7 }));
    const other = new StoreGenerator(storeSpec("small", { end, seed: 8 }));
    expect(b.order(2999)).toEqual(a.order(2999));
    expect(a.customer(123)).toEqual(b.customer(123));
    expect(a.product(5)).toEqual(b.product(5));
    expect(other.customer(123).email).not.toBe(a.customer(123).email);
    const forwards = [...a.orders(0, 50)];
    const backwards = Array.from({ length: 50 }, (_, i) => b.order(49 - i)).reverse();
    expect(backwards).toEqual(forwards);
  });

  it("has a realistic shape: most buyers order once, some repeat, guests exist, spend is heavy-tailed", () => {
    const generator = new StoreGenerator(storeSpec("small", { end }));
    const perCustomer = new Map<number, { orders: number; cents: number }>();
    let guests = 0;
    let previous = 0;
    const months = new Array(12).fill(0);
    for (const order of generator.orders()) {
      expect(order.createdAt.getTime()).toBeGreaterThanOrEqual(previous);
      previous = order.createdAt.getTime();
      months[order.createdAt.getUTCMonth()]++;
      if (order.customerIndex === null) {
        guests++;
        continue;
      }
      expect(generator.customerCreatedAt(order.customerIndex).getTime()).toBeLessThanOrEqual(order.createdAt.getTime());
      const entry = perCustomer.get(order.customerIndex) ?? { orders: 0, cents: 0 };
      entry.orders++;
      entry.cents += order.totalCents;
      perCustomer.set(order.customerIndex, entry);
    }
    const buyers = [...perCustomer.values()];
    const once = buyers.filter((b) => b.orders === 1).length / buyers.length;
    expect(once).toBeGreaterThan(0.5);
    expect(buyers.some((b) => b.orders >= 5)).toBe(true);
    expect(guests).toBeGreaterThan(0);
    const spend = buyers.map((b) => b.cents).sort((x, y) => y - x);
    const topDecile = spend.slice(0, Math.ceil(spend.length / 10)).reduce((s, c) => s + c, 0);
    expect(topDecile / spend.reduce((s, c) => s + c, 0)).toBeGreaterThan(0.3);
    // Holiday peak: November and December outsell February and April.
    expect(months[10] + months[11]).toBeGreaterThan(months[1] + months[3]);
    const first = generator.order(0).createdAt;
    expect(end.getTime() - first.getTime()).toBeGreaterThan(2 * 365 * 86_400_000);
  });

  it("keeps money exact: totals add up in cents, refunds never exceed the sale", () => {
    const generator = new StoreGenerator(storeSpec("small", { end }));
    let refunds = 0;
    let discounts = 0;
    for (const order of generator.orders(0, 2000)) {
      const lines = order.lineItems.reduce(
        (sum, item) => sum + item.unitPriceCents * item.quantity - item.discountCents,
        0,
      );
      expect(order.subtotalCents).toBe(lines);
      expect(order.totalCents).toBe(order.subtotalCents + order.shippingCents + order.taxCents);
      const sale = order.transactions.find((t) => t.kind === "SALE")!;
      expect(sale.amountCents).toBe(order.totalCents);
      expect(order.refundedCents).toBeLessThanOrEqual(order.totalCents);
      if (order.refundedCents > 0) refunds++;
      if (order.discountCode) discounts++;
    }
    expect(refunds).toBeGreaterThan(0);
    expect(discounts).toBeGreaterThan(0);
    expect(formatCents(123456)).toBe("1234.56");
    expect(formatCents(5)).toBe("0.05");
  });

  it("streams a million-order store without holding it", () => {
    const generator = new StoreGenerator(storeSpec("large", { end }));
    const before = process.memoryUsage().heapUsed;
    let count = 0;
    for (const order of generator.orders(0, 20_000)) count += order.lineItems.length > 0 ? 1 : 0;
    const last = generator.order(999_999);
    expect(count).toBe(20_000);
    expect(last.id).toBeGreaterThan(generator.order(0).id);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(200 * 1024 * 1024);
  });
});
