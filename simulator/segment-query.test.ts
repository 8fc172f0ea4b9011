import { describe, expect, it } from "vitest";
import { segmentQueryForTag, tagForSegmentKey } from "../app/services/segment-sync.server";
import { segmentQueryProblem } from "./segment-query";

describe("the simulator's segment query language (2026-10)", () => {
  it("accepts the queries the app writes for its segments", () => {
    for (const key of ["rfm:champions", "micro:vendor-affinity:Alder Works", "cadence:lapsing"]) {
      const query = segmentQueryForTag(tagForSegmentKey(key));
      expect(segmentQueryProblem(query), query).toBeUndefined();
    }
  });

  it("accepts clauses, connectives, date offsets and functions written with MATCHES", () => {
    for (const query of [
      "customer_tags CONTAINS 'vip'",
      "customer_tags NOT CONTAINS 'wholesale' AND number_of_orders >= 3",
      "(amount_spent > 100.50 OR number_of_orders BETWEEN 2 AND 5) AND email_subscription_status = 'SUBSCRIBED'",
      "last_order_date > -90d AND first_order_date <= 2026-01-31",
      "customer_added_date >= today OR abandoned_checkout_date IS NOT NULL",
      "products_purchased MATCHES (id = 1012, date > -30d)",
      "products_purchased MATCHES (quantity != 5)",
      "shopify_email.opened MATCHES ()",
      "orders_placed NOT MATCHES (count >= 2, date > -12m)",
      "products_purchased MATCHES (id = (101, 102))",
    ]) {
      expect(segmentQueryProblem(query), query).toBeUndefined();
    }
  });

  it("refuses the syntax 2026-10 replaced: = true functions and the deprecated named dates", () => {
    expect(segmentQueryProblem("products_purchased(quantity: 5) = true")).toMatch(/MATCHES/);
    expect(segmentQueryProblem("shopify_email.opened() = true")).toMatch(/MATCHES/);
    expect(segmentQueryProblem("last_order_date > 90_days_ago")).toMatch(/deprecated.*-90d/);
    expect(segmentQueryProblem("products_purchased MATCHES (date > 12_months_ago)")).toMatch(/-12m/);
  });

  it("refuses what is not a segment query", () => {
    expect(segmentQueryProblem("drop table customers")).toBeDefined();
    expect(segmentQueryProblem("customer_tags = 'vip'")).toMatch(/CONTAINS/);
    expect(segmentQueryProblem("number_of_orders > 'many'")).toMatch(/number/);
    expect(segmentQueryProblem("customer_tags CONTAINS 'vip' AND")).toBeDefined();
    expect(segmentQueryProblem("")).toBeDefined();
  });
});
