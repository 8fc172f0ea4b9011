/**
 * The tables a pull writes and their columns, in COPY order. Kept apart from
 * store-data.server.ts, which needs the database and the app's settings, so
 * that the pull benchmark's COPY reference loads exactly these columns.
 */

export type Resource = "customers" | "products" | "orders";
export const RESOURCES: readonly Resource[] = ["customers", "products", "orders"];

export type Value = string | number | boolean | null | string[] | Date | object;

export interface TableSpec {
  table: string;
  columns: readonly string[];
  /** Columns of type json(b): written as JSON even when the value is an array. */
  json?: readonly string[];
}

export const TABLES = {
  Customer: {
    table: "Customer",
    columns: [
      "shop",
      "id",
      "legacyId",
      "firstName",
      "lastName",
      "email",
      "phone",
      "tags",
      "emailMarketing",
      "smsMarketing",
      "locale",
      "numberOfOrders",
      "amountSpent",
      "currencyCode",
      "city",
      "province",
      "countryCode",
      "zip",
      "address1",
      "shopifyCreatedAt",
      "shopifyUpdatedAt",
    ],
  },
  Product: {
    table: "Product",
    columns: [
      "shop",
      "id",
      "legacyId",
      "title",
      "handle",
      "description",
      "productType",
      "vendor",
      "tags",
      "status",
      "imageUrl",
      "options",
      "shopifyCreatedAt",
      "shopifyUpdatedAt",
    ],
    json: ["options"],
  },
  ProductVariant: {
    table: "ProductVariant",
    columns: ["shop", "id", "productId", "title", "sku", "price", "compareAtPrice", "selectedOptions"],
    json: ["selectedOptions"],
  },
  Order: {
    table: "Order",
    columns: [
      "shop",
      "id",
      "legacyId",
      "name",
      "customerId",
      "email",
      "phone",
      "currencyCode",
      "financialStatus",
      "discountCodes",
      "tags",
      "subtotal",
      "totalDiscounts",
      "totalShipping",
      "totalTax",
      "totalPrice",
      "totalRefunded",
      "netRevenue",
      "shippingCity",
      "shippingCountry",
      "shippingZip",
      "shippingAddress1",
      "shippingName",
      "processedAt",
      "cancelledAt",
      "shopifyCreatedAt",
      "shopifyUpdatedAt",
    ],
  },
  OrderLineItem: {
    table: "OrderLineItem",
    columns: [
      "shop",
      "id",
      "orderId",
      "productId",
      "variantId",
      "title",
      "variantTitle",
      "sku",
      "quantity",
      "originalUnitPrice",
      "totalDiscount",
      "discountedTotal",
      "netRevenue",
    ],
  },
  OrderTransaction: {
    table: "OrderTransaction",
    columns: ["shop", "id", "orderId", "kind", "status", "gateway", "amount", "processedAt"],
  },
} as const satisfies Record<string, TableSpec>;

export type TableName = keyof typeof TABLES;
export type Row<T extends TableName> = Record<(typeof TABLES)[T]["columns"][number], Value>;
