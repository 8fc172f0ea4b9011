import { parse } from "graphql";
import { describe, expect, it } from "vitest";
import { RESOURCES } from "../../app/models/store-tables.server";
import { PAGINATED } from "../../app/services/pull-queries.server";
import { recordsQuery } from "../../app/services/record-sync.server";
import { adminSchema } from "../../simulator/admin-schema";
import { MAX_QUERY_COST, queryCost } from "../../simulator/query-cost";

/**
 * A pull's page and a refresh's batch of ids fill most of Shopify's single-query cost limit, priced by
 * Shopify's rules (simulator/query-cost.ts), without passing it: a page over it is refused (and sent again
 * halved), one far under it wastes requests. The margin allows for Shopify pricing a field a little higher.
 */
describe("requested query costs", () => {
  const ids = (count: number) => ({ ids: Array.from({ length: count }, (_, i) => `gid://shopify/Node/${i}`) });

  it.each(RESOURCES)("a page of %s costs 85 to 100 percent of the limit", (resource) => {
    const { query, pageSize } = PAGINATED[resource];
    const cost = queryCost(adminSchema, parse(query), { first: pageSize });
    expect(cost).toBeLessThanOrEqual(MAX_QUERY_COST);
    expect(cost).toBeGreaterThanOrEqual(0.85 * MAX_QUERY_COST);
  });

  it.each(RESOURCES)("a refresh of %s asks for a page's worth of ids, within the limit", (resource) => {
    const document = parse(recordsQuery(resource));
    expect(queryCost(adminSchema, document, ids(PAGINATED[resource].pageSize))).toBeLessThanOrEqual(MAX_QUERY_COST);
  });
});
