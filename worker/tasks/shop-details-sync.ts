import type { Task } from "graphile-worker";
import { z } from "zod";
import { saveShopDetails } from "../../app/models/shop.server";
import { adminGraphql } from "../../app/services/admin-api.server";
import { parsePayload } from "../../app/models/jobs.server";

const SHOP_DETAILS_QUERY = /* GraphQL */ `
  query ShopDetails {
    shop {
      name
      currencyCode
      ianaTimezone
      plan {
        displayName
      }
    }
  }
`;

const shopDetailsResponse = z.object({
  shop: z.object({
    name: z.string(),
    currencyCode: z.string(),
    ianaTimezone: z.string(),
    plan: z.object({ displayName: z.string() }).nullable(),
  }),
});

/** After install: fetch and store the shop's name, plan, currency and time zone. */
export const shopDetailsSync: Task = async (rawPayload, helpers) => {
  const { shop } = parsePayload("shop-details-sync", rawPayload);
  const data = await adminGraphql(shop, SHOP_DETAILS_QUERY, shopDetailsResponse);
  await saveShopDetails(shop, {
    name: data.shop.name,
    planName: data.shop.plan?.displayName ?? null,
    currencyCode: data.shop.currencyCode,
    ianaTimezone: data.shop.ianaTimezone,
  });
  helpers.logger.info(`stored details of ${shop}`);
};
