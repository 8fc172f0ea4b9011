import { GraphqlQueryError } from "@shopify/shopify-api";
import { describe, expect, it } from "vitest";
import {
  classify,
  PermanentShopifyError,
  QueryTooCostlyError,
  ThrottledError,
  TransientShopifyError,
} from "../../app/services/admin-api.server";

/** What the library throws, as its GraphQL client shapes it (errors nested under errors.graphQLErrors). */
function graphqlError(code: string) {
  const cost = {
    requestedQueryCost: 752,
    actualQueryCost: null,
    throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 12, restoreRate: 100 },
  };
  return new GraphqlQueryError({
    message: code,
    response: new Response(null, { status: 200 }) as never,
    body: {
      errors: { message: code, graphQLErrors: [{ message: code, extensions: { code } }] },
      extensions: { cost },
    },
  });
}

describe("classify", () => {
  it("recognises THROTTLED in the library's error shape and keeps the throttle status", async () => {
    const error = await classify("classify.myshopify.com", graphqlError("THROTTLED"));
    expect(error).toBeInstanceOf(ThrottledError);
    expect(error).toBeInstanceOf(TransientShopifyError);
    expect((error as ThrottledError).cost?.throttleStatus.currentlyAvailable).toBe(12);
  });

  it("tells a query that can never fit the bucket from other GraphQL errors", async () => {
    expect(await classify("classify.myshopify.com", graphqlError("MAX_COST_EXCEEDED"))).toBeInstanceOf(
      QueryTooCostlyError,
    );
    expect(await classify("classify.myshopify.com", graphqlError("BAD_USER_INPUT"))).toBeInstanceOf(
      PermanentShopifyError,
    );
  });
});
