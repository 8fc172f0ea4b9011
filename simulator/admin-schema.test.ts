import { buildSchema, printSchema } from "graphql";
import { describe, expect, it } from "vitest";
import { schemaDrift } from "../shopify-schema/checks";
import { loadAdminSchema } from "../shopify-schema/admin-schema";
import { adminSchema } from "./admin-schema";

/**
 * The simulator follows Shopify, never the reverse: every type, field,
 * argument, default, enum value and nullability its SDL declares is
 * Shopify's own for the pinned version, scalars and enums included, and
 * what Shopify deprecates the simulator marks deprecated.
 */
describe("the simulator's Admin schema", () => {
  const shopify = loadAdminSchema();

  it("declares nothing Shopify's schema lacks or types otherwise", () => {
    expect(schemaDrift(adminSchema, shopify)).toEqual([]);
  });

  it("would report a drift: a String where Shopify has an enum, an unknown field, a missing deprecation", () => {
    const drifted = buildSchema(
      printSchema(adminSchema)
        .replace("precision: CountPrecision!", "precision: String!")
        .replace("publicDisplayName: String!", "publicDisplayName: String!\n  planLabel: String")
        .replace(/featuredImage: Image @deprecated\([^)]*\)/, "featuredImage: Image")
        .replace(/reverse: Boolean = false(\)?: CustomerConnection!)/, "reverse: Boolean$1"),
    );
    expect(schemaDrift(drifted, shopify)).toEqual(
      expect.arrayContaining([
        "Count.precision is String!; Shopify has CountPrecision!",
        "ShopPlan.planLabel is not in Shopify's schema",
        'Product.featuredImage is deprecated in Shopify ("Use `featuredMedia` instead.") but not in the simulator',
        "Query.customers(reverse:) defaults to none; Shopify to false",
      ]),
    );
  });
});
