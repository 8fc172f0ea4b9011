import { parse } from "graphql";
import { describe, expect, it } from "vitest";
import { adminSchema } from "./admin-schema";
import { LeakyBucket, queryCost } from "./query-cost";

describe("leaky bucket", () => {
  it("spends, refuses past the limit, refunds and restores at the restore rate", () => {
    let now = 0;
    const bucket = new LeakyBucket(1000, 50, () => now);
    expect(bucket.take(800)).toBe(true);
    expect(bucket.status()).toEqual({ maximumAvailable: 1000, currentlyAvailable: 200, restoreRate: 50 });
    expect(bucket.take(300)).toBe(false);
    expect(bucket.status().currentlyAvailable).toBe(200);
    now += 2000; // 2 s restore 100 points
    expect(bucket.status().currentlyAvailable).toBe(300);
    expect(bucket.take(300)).toBe(true);
    bucket.refund(120);
    expect(bucket.status().currentlyAvailable).toBe(120);
    now += 60_000;
    expect(bucket.status().currentlyAvailable).toBe(1000);
  });
});

describe("calculated query cost", () => {
  it("charges objects 1, scalars 0, and connections 2 plus page size times one item", () => {
    expect(queryCost(adminSchema, parse("{ shop { name currencyCode } }"))).toBe(1);
    expect(queryCost(adminSchema, parse("{ shop { name plan { displayName } } }"))).toBe(2);
    // 2 + 250 × (customer 1 + defaultAddress 1)
    expect(
      queryCost(
        adminSchema,
        parse("{ customers(first: 250) { edges { node { id defaultAddress { city } } } pageInfo { hasNextPage } } }"),
      ),
    ).toBe(502);
    // nested: 2 + 10 × (order 1 + lineItems (2 + 5 × 1))
    expect(
      queryCost(
        adminSchema,
        parse("query($n: Int) { orders(first: $n) { nodes { id lineItems(first: 5) { nodes { id } } } } }"),
        { n: 10 },
      ),
    ).toBe(82);
  });

  it("charges mutations 10 on top", () => {
    // 10 + payload object 1 + a list of objects counted as one item 1
    expect(
      queryCost(
        adminSchema,
        parse('mutation { tagsAdd(id: "gid://shopify/Customer/1", tags: ["a"]) { userErrors { message } } }'),
      ),
    ).toBe(12);
  });

  it("computes the actual cost from what was returned", () => {
    const document = parse("{ customers(first: 250) { nodes { id } } }");
    const data = { customers: { nodes: [{ id: "1" }, { id: "2" }, { id: "3" }] } };
    expect(queryCost(adminSchema, document, {}, { data })).toBe(5);
  });
});
