import { z } from "zod";
import type { Resource, Row } from "../models/store-tables.server";
import { FastSchema } from "./compiled-checks.server";
import { lineNetRevenue, orderNetRevenue } from "./net-revenue.server";

/**
 * What a pull asks Shopify for, and how each answer becomes rows. The same
 * node shapes serve paginated pages and bulk JSONL lines; zod checks every
 * record at the boundary (bulk lines, a million at a time, through predicates
 * compiled from the same schemas; see compiled-checks.server.ts).
 */

const money = z.object({ amount: z.string().regex(/^-?\d+(\.\d+)?$/), currencyCode: z.string() });
const moneyBag = z.object({ shopMoney: money });
const gidOf = (type: string) => z.string().regex(new RegExp(`^gid://shopify/${type}/\\d+$`));

const CUSTOMER_FIELDS = `id legacyResourceId firstName lastName
  defaultEmailAddress { emailAddress marketingState }
  defaultPhoneNumber { phoneNumber smsMarketingConsent { state } }
  tags locale numberOfOrders amountSpent { amount currencyCode }
  defaultAddress { address1 city province countryCodeV2 zip }
  createdAt updatedAt`;

export const customerNode = z.object({
  id: gidOf("Customer"),
  legacyResourceId: z.string(),
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  defaultEmailAddress: z.object({ emailAddress: z.string(), marketingState: z.string() }).nullable(),
  defaultPhoneNumber: z
    .object({ phoneNumber: z.string(), smsMarketingConsent: z.object({ state: z.string() }) })
    .nullable(),
  tags: z.array(z.string()),
  locale: z.string().nullable(),
  numberOfOrders: z.string(),
  amountSpent: money,
  defaultAddress: z
    .object({
      address1: z.string().nullable(),
      city: z.string().nullable(),
      province: z.string().nullable(),
      countryCodeV2: z.string().nullable(),
      zip: z.string().nullable(),
    })
    .nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const PRODUCT_FIELDS = `id legacyResourceId title handle description productType vendor tags status
  options { name values } featuredMedia { preview { image { url } } } createdAt updatedAt`;
const VARIANT_FIELDS = `id title sku price compareAtPrice selectedOptions { name value }`;

export const productNode = z.object({
  id: gidOf("Product"),
  legacyResourceId: z.string(),
  title: z.string(),
  handle: z.string().nullable(),
  description: z.string().nullable(),
  productType: z.string().nullable(),
  vendor: z.string().nullable(),
  tags: z.array(z.string()),
  status: z.string().nullable(),
  options: z.array(z.object({ name: z.string(), values: z.array(z.string()) })),
  featuredMedia: z
    .object({ preview: z.object({ image: z.object({ url: z.string() }).nullable() }).nullable() })
    .nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const variantNode = z.object({
  id: gidOf("ProductVariant"),
  title: z.string().nullable(),
  sku: z.string().nullable(),
  price: z.string(),
  compareAtPrice: z.string().nullable(),
  selectedOptions: z.array(z.object({ name: z.string(), value: z.string() })),
});

const ORDER_FIELDS = `id legacyResourceId name email phone currencyCode displayFinancialStatus discountCodes tags
  customer { id } taxesIncluded
  subtotalPriceSet { shopMoney { amount currencyCode } }
  currentSubtotalPriceSet { shopMoney { amount currencyCode } }
  currentTotalTaxSet { shopMoney { amount currencyCode } }
  totalRefundedShippingSet { shopMoney { amount currencyCode } }
  totalDiscountsSet { shopMoney { amount currencyCode } }
  totalShippingPriceSet { shopMoney { amount currencyCode } }
  totalTaxSet { shopMoney { amount currencyCode } }
  totalPriceSet { shopMoney { amount currencyCode } }
  totalRefundedSet { shopMoney { amount currencyCode } }
  shippingAddress { firstName lastName address1 city countryCodeV2 zip }
  transactions(first: 10) { id kind status gateway processedAt amountSet { shopMoney { amount currencyCode } } }
  processedAt cancelledAt createdAt updatedAt`;
const LINE_ITEM_FIELDS = `id title variantTitle sku quantity variant { id } product { id }
  originalUnitPriceSet { shopMoney { amount currencyCode } }
  totalDiscountSet { shopMoney { amount currencyCode } }
  discountedTotalSet(withCodeDiscounts: true) { shopMoney { amount currencyCode } }
  discountAllocations { allocatedAmountSet { shopMoney { amount currencyCode } } discountApplication { targetSelection } }`;

export const transactionNode = z.object({
  id: gidOf("OrderTransaction"),
  kind: z.string(),
  status: z.string(),
  gateway: z.string().nullable(),
  processedAt: z.string().nullable(),
  amountSet: moneyBag,
});

export const orderNode = z.object({
  id: gidOf("Order"),
  legacyResourceId: z.string(),
  name: z.string(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  currencyCode: z.string(),
  displayFinancialStatus: z.string().nullable(),
  discountCodes: z.array(z.string()),
  tags: z.array(z.string()),
  customer: z.object({ id: gidOf("Customer") }).nullable(),
  taxesIncluded: z.boolean(),
  subtotalPriceSet: moneyBag.nullable(),
  currentSubtotalPriceSet: moneyBag,
  currentTotalTaxSet: moneyBag,
  totalRefundedShippingSet: moneyBag,
  totalDiscountsSet: moneyBag.nullable(),
  totalShippingPriceSet: moneyBag,
  totalTaxSet: moneyBag.nullable(),
  totalPriceSet: moneyBag,
  totalRefundedSet: moneyBag,
  shippingAddress: z
    .object({
      firstName: z.string().nullable(),
      lastName: z.string().nullable(),
      address1: z.string().nullable(),
      city: z.string().nullable(),
      countryCodeV2: z.string().nullable(),
      zip: z.string().nullable(),
    })
    .nullable(),
  transactions: z.array(transactionNode),
  processedAt: z.string(),
  cancelledAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const lineItemNode = z.object({
  id: gidOf("LineItem"),
  title: z.string(),
  variantTitle: z.string().nullable(),
  sku: z.string().nullable(),
  quantity: z.number().int(),
  variant: z.object({ id: z.string() }).nullable(),
  product: z.object({ id: z.string() }).nullable(),
  originalUnitPriceSet: moneyBag,
  totalDiscountSet: moneyBag,
  discountedTotalSet: moneyBag,
  discountAllocations: z.array(
    z.object({
      allocatedAmountSet: moneyBag,
      discountApplication: z.object({ targetSelection: z.enum(["ALL", "ENTITLED", "EXPLICIT"]) }),
    }),
  ),
});

const pageInfo = z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable() });
const connectionOf = <T extends z.ZodType>(node: T) => z.object({ nodes: z.array(node), pageInfo });

/**
 * One record of each resource as a pull reads it: the node's fields, its
 * first children, and the schema of the answer. Pages and single-record
 * refreshes (webhooks) share it.
 */
export const RECORD = {
  customers: { type: "Customer", selection: CUSTOMER_FIELDS, node: customerNode },
  products: {
    type: "Product",
    selection: `${PRODUCT_FIELDS} variants(first: 10) { nodes { ${VARIANT_FIELDS} } pageInfo { hasNextPage endCursor } }`,
    node: productNode.extend({ variants: connectionOf(variantNode) }),
  },
  orders: {
    type: "Order",
    selection: `${ORDER_FIELDS} lineItems(first: 10) { nodes { ${LINE_ITEM_FIELDS} } pageInfo { hasNextPage endCursor } }`,
    node: orderNode.extend({ lineItems: connectionOf(lineItemNode) }),
  },
} as const;

export type RecordNode<R extends Resource> = z.infer<(typeof RECORD)[R]["node"]>;

function pageOf<R extends Resource>(resource: R, operation: string, pageSize: number) {
  return {
    pageSize,
    query: `query ${operation}($first: Int!, $after: String, $query: String) {
      ${resource}(first: $first, after: $after, query: $query) { nodes { ${RECORD[resource].selection} } pageInfo { hasNextPage endCursor } }
    }`,
    schema: z.object({ [resource]: connectionOf(RECORD[resource].node) }),
  };
}

/** Paginated queries: one page of a resource. Page sizes keep a page's requested cost under 1,000 points. */
export const PAGINATED = {
  customers: pageOf("customers", "PullCustomers", 150),
  products: pageOf("products", "PullProducts", 35),
  orders: pageOf("orders", "PullOrders", 5),
} as const;

/** For the rare order or product with more children than one page holds. */
export const MORE_LINE_ITEMS = {
  query: `query MoreLineItems($id: ID!, $after: String) {
    order(id: $id) { lineItems(first: 100, after: $after) { nodes { ${LINE_ITEM_FIELDS} } pageInfo { hasNextPage endCursor } } }
  }`,
  schema: z.object({ order: z.object({ lineItems: connectionOf(lineItemNode) }).nullable() }),
};

export const MORE_VARIANTS = {
  query: `query MoreVariants($id: ID!, $after: String) {
    product(id: $id) { variants(first: 100, after: $after) { nodes { ${VARIANT_FIELDS} } pageInfo { hasNextPage endCursor } } }
  }`,
  schema: z.object({ product: z.object({ variants: connectionOf(variantNode) }).nullable() }),
};

/** How many records a paginated pull will read. */
export function countQuery(resource: Resource): string {
  return `query Count($query: String) { ${resource}Count(query: $query, limit: null) { count precision } }`;
}

/** Bulk operation queries. Bulk queries take no variables, so the filter is inlined as a string literal. */
export function bulkQuery(resource: Resource, search: string | null): string {
  const filter = search ? `(query: ${JSON.stringify(search)})` : "";
  switch (resource) {
    case "customers":
      return `{ customers${filter} { edges { node { ${CUSTOMER_FIELDS} } } } }`;
    case "products":
      return `{ products${filter} { edges { node { ${PRODUCT_FIELDS} variants { edges { node { ${VARIANT_FIELDS} } } } } } } }`;
    case "orders":
      return `{ orders${filter} { edges { node { ${ORDER_FIELDS} lineItems { edges { node { ${LINE_ITEM_FIELDS} } } } } } } }`;
  }
}

export function updatedSinceFilter(since: Date | null): string | null {
  return since ? `updated_at:>='${since.toISOString()}'` : null;
}

// --- checking bulk lines ---------------------------------------------------------

/** A node schema for bulk lines: the compiled check on the way in, zod's own message when it fails. */
export class NodeCheck<T extends z.ZodType> {
  private readonly checked: FastSchema<T>;
  constructor(
    readonly type: string,
    readonly schema: T,
  ) {
    this.checked = new FastSchema(schema);
  }

  /** The value, typed, when valid; otherwise the reason, in zod's words. */
  parse(value: unknown): { ok: true; node: z.infer<T> } | { ok: false; reason: string } {
    const result = this.checked.parse(value, "line");
    return result.ok ? { ok: true, node: result.value } : result;
  }
}

/** The node types of bulk lines, by the type in their gid. */
export const BULK_NODES = {
  Customer: new NodeCheck("Customer", customerNode),
  Product: new NodeCheck("Product", productNode),
  ProductVariant: new NodeCheck("ProductVariant", variantNode),
  Order: new NodeCheck("Order", orderNode),
  LineItem: new NodeCheck("LineItem", lineItemNode),
};

// --- rows -------------------------------------------------------------------

export function customerRow(shop: string, node: z.infer<typeof customerNode>): Row<"Customer"> {
  return {
    shop,
    id: node.id,
    legacyId: node.legacyResourceId,
    firstName: node.firstName,
    lastName: node.lastName,
    email: node.defaultEmailAddress?.emailAddress ?? null,
    phone: node.defaultPhoneNumber?.phoneNumber ?? null,
    tags: node.tags,
    emailMarketing: node.defaultEmailAddress?.marketingState ?? null,
    smsMarketing: node.defaultPhoneNumber?.smsMarketingConsent.state ?? null,
    locale: node.locale,
    numberOfOrders: Number(node.numberOfOrders),
    amountSpent: node.amountSpent.amount,
    currencyCode: node.amountSpent.currencyCode,
    city: node.defaultAddress?.city ?? null,
    province: node.defaultAddress?.province ?? null,
    countryCode: node.defaultAddress?.countryCodeV2 ?? null,
    zip: node.defaultAddress?.zip ?? null,
    address1: node.defaultAddress?.address1 ?? null,
    shopifyCreatedAt: node.createdAt,
    shopifyUpdatedAt: node.updatedAt,
  };
}

export function productRow(shop: string, node: z.infer<typeof productNode>): Row<"Product"> {
  return {
    shop,
    id: node.id,
    legacyId: node.legacyResourceId,
    title: node.title,
    handle: node.handle,
    description: node.description,
    productType: node.productType,
    vendor: node.vendor,
    tags: node.tags,
    status: node.status,
    imageUrl: node.featuredMedia?.preview?.image?.url ?? null,
    options: node.options,
    shopifyCreatedAt: node.createdAt,
    shopifyUpdatedAt: node.updatedAt,
  };
}

export function variantRow(shop: string, productId: string, node: z.infer<typeof variantNode>): Row<"ProductVariant"> {
  return {
    shop,
    id: node.id,
    productId,
    title: node.title,
    sku: node.sku,
    price: node.price,
    compareAtPrice: node.compareAtPrice,
    selectedOptions: node.selectedOptions,
  };
}

export function orderRow(shop: string, node: z.infer<typeof orderNode>): Row<"Order"> {
  const address = node.shippingAddress;
  return {
    shop,
    id: node.id,
    legacyId: node.legacyResourceId,
    name: node.name,
    customerId: node.customer?.id ?? null,
    email: node.email,
    phone: node.phone,
    currencyCode: node.currencyCode,
    financialStatus: node.displayFinancialStatus,
    discountCodes: node.discountCodes,
    tags: node.tags,
    subtotal: node.subtotalPriceSet?.shopMoney.amount ?? null,
    totalDiscounts: node.totalDiscountsSet?.shopMoney.amount ?? null,
    totalShipping: node.totalShippingPriceSet.shopMoney.amount,
    totalTax: node.totalTaxSet?.shopMoney.amount ?? null,
    totalPrice: node.totalPriceSet.shopMoney.amount,
    totalRefunded: node.totalRefundedSet.shopMoney.amount,
    netRevenue: orderNetRevenue(node),
    shippingCity: address?.city ?? null,
    shippingCountry: address?.countryCodeV2 ?? null,
    shippingZip: address?.zip ?? null,
    shippingAddress1: address?.address1 ?? null,
    shippingName: address ? [address.firstName, address.lastName].filter(Boolean).join(" ") || null : null,
    processedAt: node.processedAt,
    cancelledAt: node.cancelledAt,
    shopifyCreatedAt: node.createdAt,
    shopifyUpdatedAt: node.updatedAt,
  };
}

export function transactionRow(
  shop: string,
  orderId: string,
  node: z.infer<typeof transactionNode>,
): Row<"OrderTransaction"> {
  return {
    shop,
    id: node.id,
    orderId,
    kind: node.kind,
    status: node.status,
    gateway: node.gateway,
    amount: node.amountSet.shopMoney.amount,
    processedAt: node.processedAt,
  };
}

export function lineItemRow(shop: string, orderId: string, node: z.infer<typeof lineItemNode>): Row<"OrderLineItem"> {
  return {
    shop,
    id: node.id,
    orderId,
    productId: node.product?.id ?? null,
    variantId: node.variant?.id ?? null,
    title: node.title,
    variantTitle: node.variantTitle,
    sku: node.sku,
    quantity: node.quantity,
    originalUnitPrice: node.originalUnitPriceSet.shopMoney.amount,
    totalDiscount: node.totalDiscountSet.shopMoney.amount,
    discountedTotal: node.discountedTotalSet.shopMoney.amount,
    netRevenue: lineNetRevenue(node),
  };
}
