import type { PrismaClient } from "@prisma/client";

/**
 * A shop's customers, products and orders written straight into the store
 * tables with SQL, for segmentation tests that need volume rather than a
 * pull. Deterministic: customer i's orders, products and discounts follow
 * from the order number alone. Low customer numbers order more often, so
 * there are one-time buyers and regulars.
 */
export async function seedSyntheticShop(
  prisma: PrismaClient,
  shop: string,
  options: { customers: number; orders: number; products?: number; end?: Date },
) {
  const products = options.products ?? 40;
  const end = (options.end ?? new Date("2026-11-01T00:00:00Z")).toISOString();
  await prisma.$executeRaw`
    INSERT INTO "Customer" (shop, id, "legacyId", "firstName", "lastName", email, tags, "shopifyCreatedAt", "shopifyUpdatedAt")
    SELECT ${shop}, 'gid://shopify/Customer/' || c, c, 'First' || c, 'Last' || c, 'person' || c || '@example.com',
           ARRAY[]::text[], now(), now()
    FROM generate_series(1, ${options.customers}::int) c`;
  await prisma.$executeRaw`
    INSERT INTO "Product" (shop, id, "legacyId", title, "productType", vendor, "shopifyCreatedAt", "shopifyUpdatedAt")
    SELECT ${shop}, 'gid://shopify/Product/' || k, k, 'Product ' || k,
           (ARRAY['Jackets', 'Boots', 'Socks', 'Hats', 'Gloves', 'Tents', 'Backpacks', 'Shirts'])[1 + k % 8],
           (ARRAY['Northwind', 'Summit', 'Tidewater', 'Ridgeline'])[1 + k % 4], now(), now()
    FROM generate_series(1, ${products}::int) k`;
  await prisma.$executeRaw`
    INSERT INTO "Order" (shop, id, "legacyId", name, "customerId", "currencyCode", "discountCodes", "totalPrice",
                         "totalRefunded", "netRevenue", "processedAt", "shopifyCreatedAt", "shopifyUpdatedAt")
    SELECT ${shop}, 'gid://shopify/Order/' || i, i, '#' || i,
           'gid://shopify/Customer/' || (1 + floor(${options.customers}::int * power(((i * 2654435761) % 4294967296)::float8 / 4294967296, 2)))::bigint,
           'USD', CASE WHEN i % 5 = 0 THEN ARRAY['SAVE10'] ELSE ARRAY[]::text[] END, 10 + (i * 31) % 290, 0, 10 + (i * 31) % 290,
           ${end}::timestamptz AT TIME ZONE 'UTC' - ((i * 104729) % 900) * interval '1 day', now(), now()
    FROM generate_series(1::bigint, ${options.orders}::bigint) i`;
  await prisma.$executeRaw`
    INSERT INTO "OrderLineItem" (shop, id, "orderId", "productId", title, quantity, "originalUnitPrice",
                                 "totalDiscount", "discountedTotal", "netRevenue")
    SELECT ${shop}, 'gid://shopify/LineItem/' || i, 'gid://shopify/Order/' || i,
           'gid://shopify/Product/' || (1 + (i * 13) % ${products}::int), 'Item', 1, 10 + (i * 31) % 290, 0, 10 + (i * 31) % 290, 10 + (i * 31) % 290
    FROM generate_series(1::bigint, ${options.orders}::bigint) i`;
}
