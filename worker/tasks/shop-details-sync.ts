import type { Task } from "graphile-worker";
import { saveShopDetails } from "../../app/models/shop.server";
import { adminGraphql } from "../../app/services/admin-api.server";
import { parsePayload } from "../../app/models/jobs.server";

const SHOP_DETAILS_QUERY = `#graphql
  query ShopDetails {
    shop {
      name
      currencyCode
      ianaTimezone
      plan {
        publicDisplayName
      }
    }
  }
`;

/** After install: fetch and store the shop's name, plan, currency and time zone. */
export const shopDetailsSync: Task = async (rawPayload, helpers) => {
  const { shop } = parsePayload("shop-details-sync", rawPayload);
  const data = await adminGraphql(shop, SHOP_DETAILS_QUERY);
  await saveShopDetails(shop, {
    name: data.shop.name,
    planName: data.shop.plan.publicDisplayName,
    currencyCode: data.shop.currencyCode,
    ianaTimezone: data.shop.ianaTimezone,
  });
  helpers.logger.info(`stored details of ${shop}`);
};
