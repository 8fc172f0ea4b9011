import { GraphQLError } from "graphql";
import { formatCents, type GeneratedCustomer, type GeneratedOrder, type GeneratedProduct } from "./generator";
import { digestOf, jsonValueOf, METAFIELD_TYPES, type StoredDefinition, type StoredMetafield } from "./metafields";
import { compileSearch, type Searchable } from "./search-query";
import { gid, parseGid, type ShopData } from "./shop-data";
import type { ShopRuntime } from "./shop-runtime";

/**
 * Resolvers of the simulated Admin API: plain view objects whose fields
 * graphql-js reads directly, with functions for what costs work to build.
 */

/** The consent record names a state that was never set NEVER_SUBSCRIBED, unlike the deprecated field. */
export function smsConsentState(state: string) {
  return state === "NOT_SUBSCRIBED" ? "NEVER_SUBSCRIBED" : state;
}

export const MAX_PAGE_SIZE = 250;
/** Shopify's limit on any input array (https://shopify.dev/docs/api/usage/limits). */
export const MAX_INPUT_ARRAY_SIZE = 250;
/** customerSegmentMembers pages hold up to 1,000 members. */
export const MAX_SEGMENT_MEMBERS_PAGE_SIZE = 1000;

export interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
  query?: string | null;
  reverse?: boolean | null;
}

export interface ResolverContext {
  /** Bulk operations may leave out first/last on nested connections and get every item. */
  bulk: boolean;
  searchWarnings: { field: string; message: string }[];
}

function encodeCursor(index: number) {
  return Buffer.from(JSON.stringify({ last_id: index })).toString("base64url");
}

function decodeCursor(cursor: string): number {
  try {
    const { last_id: index } = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { last_id: number };
    if (Number.isInteger(index)) return index;
  } catch {
    // fall through
  }
  throw new GraphQLError(`Invalid cursor for current pagination sort.`, { extensions: { code: "BAD_REQUEST" } });
}

/**
 * A connection over records addressed by index, scanning from the cursor and
 * keeping those that match the search; total work over all pages is linear.
 */
function connection<T extends Searchable>(
  args: ConnectionArgs,
  count: number,
  at: (index: number) => T | undefined,
  view: (record: T) => unknown,
  context: ResolverContext,
  maxPageSize = MAX_PAGE_SIZE,
) {
  const size = args.first ?? args.last;
  if (size === undefined || size === null) {
    if (!context.bulk)
      throw new GraphQLError("you must provide one of first or last", { extensions: { code: "BAD_REQUEST" } });
  } else if (size < 0 || size > maxPageSize) {
    throw new GraphQLError(`The first and last arguments must be between 0 and ${maxPageSize}.`, {
      extensions: { code: "BAD_REQUEST" },
    });
  }
  const search = compileSearch(args.query);
  context.searchWarnings.push(...search.warnings);
  const backwards = Boolean(args.last !== undefined && args.last !== null) !== Boolean(args.reverse);
  const step = backwards ? -1 : 1;
  const cursor = args.after ?? args.before;
  let index = cursor ? decodeCursor(cursor) + step : backwards ? count - 1 : 0;
  const limit = size ?? Number.POSITIVE_INFINITY;
  const found: { index: number; record: T }[] = [];
  let hasMore = false;
  for (; index >= 0 && index < count; index += step) {
    const record = at(index);
    if (!record || !search.matches(record)) continue;
    if (found.length === limit) {
      hasMore = true;
      break;
    }
    found.push({ index, record });
  }
  const ordered = args.last !== undefined && args.last !== null ? found.reverse() : found;
  const edges = ordered.map(({ index: position, record }) => ({ cursor: encodeCursor(position), node: view(record) }));
  return {
    edges,
    nodes: edges.map((edge) => edge.node),
    pageInfo: {
      hasNextPage: args.last ? Boolean(cursor) : hasMore,
      hasPreviousPage: args.last ? hasMore : Boolean(cursor),
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}

function listConnection<T>(items: T[], args: ConnectionArgs, context: ResolverContext) {
  const records = items.map((item) => ({ item, createdAt: new Date(0), updatedAt: new Date(0) }));
  return connection(
    args,
    records.length,
    (i) => records[i],
    (record) => record.item,
    context,
  );
}

export class AdminViews {
  constructor(private readonly runtime: ShopRuntime) {}

  private get data(): ShopData {
    return this.runtime.data;
  }

  private get currency() {
    return this.runtime.shop.currencyCode;
  }

  money(cents: number) {
    return { amount: formatCents(cents), currencyCode: this.currency };
  }

  bag(cents: number) {
    const money = this.money(cents);
    return { shopMoney: money, presentmentMoney: money };
  }

  metafield(metafield: StoredMetafield) {
    return {
      __typename: "Metafield",
      id: gid("Metafield", metafield.id),
      legacyResourceId: String(metafield.id),
      namespace: metafield.namespace,
      key: metafield.key,
      type: metafield.type,
      value: metafield.value,
      jsonValue: jsonValueOf(metafield),
      compareDigest: digestOf(metafield.value),
      ownerType: "CUSTOMER",
      owner: () => this.node(metafield.ownerId),
      definition: () => {
        const definition = this.runtime.metafields.definition("CUSTOMER", metafield.namespace, metafield.key);
        return definition ? this.metafieldDefinition(definition) : null;
      },
      createdAt: metafield.createdAt,
      updatedAt: metafield.updatedAt,
    };
  }

  metafieldDefinition(definition: StoredDefinition) {
    const type = METAFIELD_TYPES[definition.type]!;
    return {
      __typename: "MetafieldDefinition",
      id: definition.id,
      namespace: definition.namespace,
      key: definition.key,
      name: definition.name,
      description: definition.description,
      ownerType: definition.ownerType,
      type: {
        name: definition.type,
        category: type.category,
        supportedValidations: type.validations.map((name) => ({ name, type: definition.type })),
        supportsDefinitionMigrations: true,
      },
      access: definition.access,
      validations: definition.validations.map(({ name, value }) => ({
        name,
        type: name === "choices" ? "list.single_line_text_field" : definition.type,
        value,
      })),
      validationStatus: "ALL_VALID",
      pinnedPosition: null,
      useAsCollectionCondition: false,
      metafieldsCount: () => this.runtime.metafields.countOf(definition),
    };
  }

  /** Customer.metafield / metafields (and the same on a segment member). */
  private metafieldFields(ownerId: string) {
    const store = this.runtime.metafields;
    return {
      metafield: ({ namespace, key }: { namespace?: string | null; key: string }) => {
        const found = store.get(ownerId, namespace, key);
        return found ? this.metafield(found) : null;
      },
      metafields: (
        args: ConnectionArgs & { namespace?: string | null; keys?: string[] | null },
        context: ResolverContext,
      ) =>
        listConnection(
          store.list(ownerId, args.namespace, args.keys).map((m) => this.metafield(m)),
          { ...args, query: null },
          context,
        ),
    };
  }

  customer(record: GeneratedCustomer) {
    const stats = () => this.data.customerStats(record.index);
    return {
      __typename: "Customer",
      ...this.metafieldFields(gid("Customer", record.id)),
      id: gid("Customer", record.id),
      legacyResourceId: String(record.id),
      firstName: record.firstName,
      lastName: record.lastName,
      displayName: `${record.firstName} ${record.lastName}`,
      email: record.email,
      phone: record.phone,
      defaultEmailAddress: { emailAddress: record.email, marketingState: record.emailMarketingState },
      defaultPhoneNumber: record.phone
        ? {
            phoneNumber: record.phone,
            marketingState: record.smsMarketingState,
            smsMarketingConsent: {
              state: smsConsentState(record.smsMarketingState),
              updatedAt: record.createdAt.toISOString(),
            },
          }
        : null,
      defaultAddress: { ...record.defaultAddress, countryCodeV2: record.defaultAddress.countryCode },
      locale: record.locale,
      state: "ENABLED",
      verifiedEmail: true,
      tags: record.tags,
      numberOfOrders: () => String(stats().orders),
      amountSpent: () => this.money(stats().spentCents),
      createdAt: record.createdAt.toISOString(),
      updatedAt: record.updatedAt.toISOString(),
    };
  }

  variant(product: GeneratedProduct, variantIndex: number) {
    const variant = product.variants[variantIndex]!;
    return {
      __typename: "ProductVariant",
      id: gid("ProductVariant", variant.id),
      title: variant.title,
      sku: variant.sku,
      price: formatCents(variant.priceCents),
      compareAtPrice: variant.compareAtPriceCents === null ? null : formatCents(variant.compareAtPriceCents),
      selectedOptions: variant.selectedOptions,
      product: () => this.product(product),
    };
  }

  product(record: GeneratedProduct) {
    return {
      __typename: "Product",
      id: gid("Product", record.id),
      legacyResourceId: String(record.id),
      title: record.title,
      handle: record.handle,
      description: record.description,
      descriptionHtml: `<p>${record.description}</p>`,
      productType: record.productType,
      vendor: record.vendor,
      tags: record.tags,
      status: record.status,
      options: record.options.map((option, i) => ({ id: gid("ProductOption", record.id * 10 + i), ...option })),
      featuredImage: { url: record.imageUrl, altText: record.title },
      featuredMedia: {
        __typename: "MediaImage",
        id: gid("MediaImage", record.id),
        preview: { image: { url: record.imageUrl, altText: record.title }, status: "READY" },
        image: { url: record.imageUrl, altText: record.title },
      },
      variants: (args: ConnectionArgs, context: ResolverContext) =>
        listConnection(
          record.variants.map((_, i) => this.variant(record, i)),
          args,
          context,
        ),
      createdAt: record.createdAt.toISOString(),
      updatedAt: record.updatedAt.toISOString(),
    };
  }

  order(record: GeneratedOrder) {
    const code = record.discountCode;
    const codeApplication = code
      ? {
          __typename: "DiscountCodeApplication",
          code,
          index: 1,
          // A product code discounts each entitled line; an order code is spread across the lines.
          allocationMethod: record.discountTarget === "ENTITLED" ? "EACH" : "ACROSS",
          targetSelection: record.discountTarget,
          targetType: "LINE_ITEM",
        }
      : null;
    const automaticApplication = {
      __typename: "AutomaticDiscountApplication",
      title: "Bundle sale",
      index: 0,
      allocationMethod: "EACH",
      targetSelection: "ENTITLED",
      targetType: "LINE_ITEM",
    };
    const lineItems = () =>
      record.lineItems.map((item) => {
        const product = this.data.product(item.productIndex)!;
        const variantIndex = product.variants.findIndex((variant) => variant.id === item.variantId);
        const originalTotal = item.unitPriceCents * item.quantity;
        const allocations = [
          ...(item.automaticDiscountCents > 0
            ? [{ allocatedAmountSet: this.bag(item.automaticDiscountCents), discountApplication: automaticApplication }]
            : []),
          ...(codeApplication && item.discountCents - item.automaticDiscountCents > 0
            ? [
                {
                  allocatedAmountSet: this.bag(item.lineCodeDiscountCents + item.orderDiscountCents),
                  discountApplication: codeApplication,
                },
              ]
            : []),
        ];
        return {
          __typename: "LineItem",
          id: gid("LineItem", item.id),
          title: item.title,
          variantTitle: item.variantTitle,
          sku: item.sku,
          quantity: item.quantity,
          originalUnitPriceSet: this.bag(item.unitPriceCents),
          originalTotalSet: this.bag(originalTotal),
          // As on Shopify: order-level discounts are never in these two, code discounts only when asked for.
          totalDiscountSet: this.bag(item.automaticDiscountCents + item.lineCodeDiscountCents),
          discountedTotalSet: ({ withCodeDiscounts }: { withCodeDiscounts?: boolean | null }) =>
            this.bag(
              originalTotal - item.automaticDiscountCents - (withCodeDiscounts ? item.lineCodeDiscountCents : 0),
            ),
          discountAllocations: allocations,
          variant: () => this.variant(product, variantIndex),
          product: () => this.product(product),
        };
      });
    const refunded = record.refundedCents > 0;
    return {
      __typename: "Order",
      id: gid("Order", record.id),
      legacyResourceId: String(record.id),
      name: record.name,
      email: record.email,
      phone: record.phone,
      createdAt: record.createdAt.toISOString(),
      processedAt: record.processedAt.toISOString(),
      updatedAt: record.updatedAt.toISOString(),
      cancelledAt: null,
      currencyCode: record.currencyCode,
      customer: () => (record.customerIndex === null ? null : this.customer(this.data.customer(record.customerIndex)!)),
      displayFinancialStatus: record.financialStatus,
      discountCodes: record.discountCode ? [record.discountCode] : [],
      tags: record.tags,
      taxesIncluded: false,
      subtotalPriceSet: this.bag(record.subtotalCents),
      currentSubtotalPriceSet: this.bag(record.subtotalCents - record.refundedLineCents),
      totalDiscountsSet: this.bag(record.discountCents),
      totalShippingPriceSet: this.bag(record.shippingCents),
      totalTaxSet: this.bag(record.taxCents),
      currentTotalTaxSet: this.bag(record.taxCents - record.refundedTaxCents),
      totalPriceSet: this.bag(record.totalCents),
      totalRefundedSet: this.bag(record.refundedCents),
      totalRefundedShippingSet: this.bag(record.refundedShippingCents),
      refunds: (args: { first?: number | null }) =>
        (refunded
          ? [
              {
                __typename: "Refund",
                id: gid("Refund", record.id),
                createdAt: record.refundedAt!.toISOString(),
                processedAt: record.refundedAt!.toISOString(),
                note: null,
                totalRefundedSet: this.bag(record.refundedCents),
              },
            ]
          : []
        ).slice(0, args.first ?? undefined),
      shippingAddress: { ...record.shippingAddress, countryCodeV2: record.shippingAddress.countryCode },
      lineItems: (args: ConnectionArgs, context: ResolverContext) => listConnection(lineItems(), args, context),
      transactions: (args: { first?: number | null }) =>
        record.transactions.slice(0, args.first ?? undefined).map((transaction) => ({
          __typename: "OrderTransaction",
          id: gid("OrderTransaction", transaction.id),
          kind: transaction.kind,
          status: transaction.status,
          gateway: transaction.gateway,
          amountSet: this.bag(transaction.amountCents),
          processedAt: transaction.processedAt.toISOString(),
          createdAt: transaction.processedAt.toISOString(),
        })),
    };
  }

  listOf<T>(items: T[], args: ConnectionArgs, context: ResolverContext) {
    return listConnection(items, args, context);
  }

  customers(args: ConnectionArgs, context: ResolverContext) {
    return connection(
      args,
      this.data.customerCount,
      (i) => this.data.customer(i),
      (r) => this.customer(r),
      context,
    );
  }

  products(args: ConnectionArgs, context: ResolverContext) {
    return connection(
      args,
      this.data.productCount,
      (i) => this.data.product(i),
      (r) => this.product(r),
      context,
    );
  }

  orders(args: ConnectionArgs, context: ResolverContext) {
    return connection(
      args,
      this.data.orderCount,
      (i) => this.data.order(i),
      (r) => this.order(r),
      context,
    );
  }

  /** The members of a segment query, paged by up to 1,000, with the count of all of them. */
  segmentMembers(args: ConnectionArgs, matches: (record: GeneratedCustomer) => boolean, context: ResolverContext) {
    const page = connection(
      { ...args, query: null },
      this.data.customerCount,
      (i) => {
        const record = this.data.customer(i);
        return record && matches(record) ? record : undefined;
      },
      (record) => ({
        ...this.customer(record),
        __typename: "CustomerSegmentMember",
        id: gid("CustomerSegmentMember", record.id),
      }),
      context,
      MAX_SEGMENT_MEMBERS_PAGE_SIZE,
    );
    return {
      ...page,
      totalCount: () => {
        let count = 0;
        for (let i = 0; i < this.data.customerCount; i++) {
          const record = this.data.customer(i);
          if (record && matches(record)) count++;
        }
        return count;
      },
    };
  }

  /** Any object by GID, or undefined. */
  node(id: string): unknown {
    const parsed = parseGid(id);
    if (!parsed) return undefined;
    switch (parsed.type) {
      case "Customer": {
        const record = this.data.customer(this.data.customerIndexOf(parsed.id));
        return record && this.customer(record);
      }
      case "Product": {
        const record = this.data.product(this.data.productIndexOf(parsed.id));
        return record && this.product(record);
      }
      case "Order": {
        const record = this.data.order(this.data.orderIndexOf(parsed.id));
        return record && this.order(record);
      }
      case "BulkOperation":
        return this.runtime.bulkOperationView(id);
      case "Segment":
        return this.runtime.segments.get(id);
      case "WebPixel":
        return this.runtime.webPixel?.id === id ? this.runtime.webPixel : undefined;
      default:
        return undefined;
    }
  }
}

/** Shopify's default cap on counts: beyond it a count is only a floor. */
export const COUNT_LIMIT = 10_000;

/**
 * A count as Shopify answers it: at most `limit` (10,000 unless asked otherwise), then
 * `AT_LEAST` that many; `limit: null` counts everything exactly.
 */
export function countOf<T extends Searchable>(
  count: number,
  at: (i: number) => T | undefined,
  args: { query?: string | null; limit?: number | null },
) {
  const search = compileSearch(args.query);
  const limit = args.limit === undefined ? COUNT_LIMIT : args.limit;
  if (limit !== null && limit < 0)
    throw new GraphQLError("limit must be at least 0.", { extensions: { code: "BAD_REQUEST" } });
  let matching = 0;
  for (let i = 0; i < count; i++) {
    const record = at(i);
    if (!record || !search.matches(record)) continue;
    if (limit !== null && matching === limit) return { count: limit, precision: "AT_LEAST" };
    matching++;
  }
  return { count: matching, precision: "EXACT" };
}
