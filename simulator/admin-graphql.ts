import { buildSchema, graphql, type GraphQLSchema } from "graphql";
import type { SimulatedShop, SimulatorStore } from "./store";

/**
 * The slice of the Admin GraphQL API the app uses, validated by graphql-js:
 * an unknown field or operation is a GraphQL error, as on Shopify.
 */

export const adminSchema: GraphQLSchema = buildSchema(/* GraphQL */ `
  type ShopPlan {
    displayName: String!
    shopifyPlus: Boolean!
    partnerDevelopment: Boolean!
  }

  type Shop {
    id: ID!
    name: String!
    email: String!
    myshopifyDomain: String!
    currencyCode: String!
    ianaTimezone: String!
    plan: ShopPlan!
    createdAt: String!
  }

  type Query {
    shop: Shop!
  }
`);

function shopResolver(shop: SimulatedShop, shopNumber: number) {
  return {
    id: `gid://shopify/Shop/${shopNumber}`,
    name: shop.name,
    email: shop.email,
    myshopifyDomain: shop.domain,
    currencyCode: shop.currencyCode,
    ianaTimezone: shop.ianaTimezone,
    plan: { displayName: shop.planDisplayName, shopifyPlus: shop.shopifyPlus, partnerDevelopment: false },
    createdAt: shop.createdAt,
  };
}

export async function executeAdminQuery(
  store: SimulatorStore,
  shopDomain: string,
  query: string,
  variables: Record<string, unknown> | undefined,
) {
  const shop = store.shops.get(shopDomain);
  if (!shop) return { errors: [{ message: `Unknown shop ${shopDomain}` }] };
  const shopNumber = [...store.shops.keys()].indexOf(shopDomain) + 1;
  return graphql({
    schema: adminSchema,
    source: query,
    variableValues: variables,
    rootValue: { shop: () => shopResolver(shop, shopNumber) },
  });
}
