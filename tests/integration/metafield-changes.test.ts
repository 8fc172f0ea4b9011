import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import { metafieldChangesAfter, type MetafieldChange } from "../../app/models/customer-metafields.server";

/**
 * What a metafield sync sends, read a window of customers at a time against real Postgres: every window
 * together gives exactly the differences between the scores and what was last written, in (customer, key)
 * order, including values of customers no longer scored wherever their ids fall.
 */

const shop = `metafield-changes-${randomUUID().slice(0, 8)}.myshopify.com`;
const customer = (n: number) => `gid://shopify/Customer/${String(n).padStart(4, "0")}`;

async function score(n: number, rfmSegment: string) {
  await prisma.customerScore.create({
    data: {
      shop,
      customerId: customer(n),
      recencyDays: 10,
      frequency: 2,
      monetary: "120.5",
      averageOrderValue: "60.25",
      firstOrderAt: new Date("2026-01-01T00:00:00Z"),
      lastOrderAt: new Date("2026-11-01T00:00:00Z"),
      rScore: 4,
      fScore: 3,
      mScore: 3,
      rfmSegment,
      runId: randomUUID(),
    },
  });
}

describe("metafield changes, a window of customers at a time", () => {
  it("together hold every difference once, in order, and a window reads only its customers", async () => {
    // Customers 2, 4, ..., 24 are scored (rfm_segment only: predictions are not shown).
    for (let n = 2; n <= 24; n += 2) await score(n, n % 4 === 0 ? "champions" : "loyal");
    const written = [
      // Unchanged, changed, and written for customers no longer scored: before, between and after the scored ones.
      { customerId: customer(4), key: "rfm_segment", value: "champions" },
      { customerId: customer(6), key: "rfm_segment", value: "champions" },
      { customerId: customer(1), key: "rfm_segment", value: "loyal" },
      { customerId: customer(11), key: "churn_risk", value: "low" },
      { customerId: customer(30), key: "rfm_segment", value: "loyal" },
      // Scored, but a prediction value is no longer shown.
      { customerId: customer(8), key: "predicted_value", value: "88.00" },
    ];
    await prisma.customerMetafieldValue.createMany({ data: written.map((value) => ({ shop, ...value })) });

    const scope = { shop, predictionsShown: false, timezone: "UTC" };
    const windows: { changes: MetafieldChange[]; lastCustomer: string | null }[] = [];
    let after = "";
    for (;;) {
      const window = await metafieldChangesAfter(scope, after, 5);
      windows.push(window);
      if (window.lastCustomer === null) break;
      after = window.lastCustomer;
    }

    // 12 scored customers, 5 a window: windows end at the 5th and 10th, the last takes the rest.
    expect(windows.map((window) => window.lastCustomer)).toEqual([customer(10), customer(20), null]);
    const changes = windows.flatMap((window) => window.changes);
    const expected: MetafieldChange[] = [
      { customerId: customer(1), key: "rfm_segment", value: null },
      { customerId: customer(2), key: "rfm_segment", value: "loyal" },
      { customerId: customer(6), key: "rfm_segment", value: "loyal" },
      { customerId: customer(8), key: "predicted_value", value: null },
      { customerId: customer(8), key: "rfm_segment", value: "champions" },
      { customerId: customer(10), key: "rfm_segment", value: "loyal" },
      { customerId: customer(11), key: "churn_risk", value: null },
      ...[12, 14, 16, 18, 20, 22, 24].map((n) => ({
        customerId: customer(n),
        key: "rfm_segment" as const,
        value: n % 4 === 0 ? "champions" : "loyal",
      })),
      { customerId: customer(30), key: "rfm_segment", value: null },
    ];
    expect(changes).toEqual(expected);
    // The first window holds customers up to its 5th scored one, and no later one.
    expect(windows[0]!.changes.every((change) => change.customerId <= customer(10))).toBe(true);
  });
});
