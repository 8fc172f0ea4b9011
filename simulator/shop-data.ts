import {
  ID_BASE,
  StoreGenerator,
  type GeneratedCustomer,
  type GeneratedOrder,
  type GeneratedProduct,
  type StoreSpec,
} from "./generator";

/**
 * One simulated shop's data: the generated store plus what changed since
 * (tags added or removed, customers and orders created by scenarios). Reads
 * go through here so the API, bulk exports and webhooks agree.
 */

export type ResourceType = "Customer" | "Product" | "ProductVariant" | "Order" | "LineItem" | "OrderTransaction";

export function gid(type: string, id: number | string) {
  return `gid://shopify/${type}/${id}`;
}

export function parseGid(value: string): { type: string; id: number } | undefined {
  const match = /^gid:\/\/shopify\/([A-Za-z]+)\/(\d+)$/.exec(value);
  return match ? { type: match[1]!, id: Number(match[2]) } : undefined;
}

export class ShopData {
  readonly generator: StoreGenerator;
  private readonly customerTags = new Map<number, string[]>();
  private readonly customerUpdatedAt = new Map<number, Date>();
  private readonly extraCustomers: GeneratedCustomer[] = [];
  private readonly extraOrders: GeneratedOrder[] = [];
  private stats?: { orders: Int32Array; spentCents: Float64Array };

  constructor(spec: StoreSpec) {
    this.generator = new StoreGenerator(spec);
  }

  get customerCount() {
    return this.generator.spec.customers + this.extraCustomers.length;
  }

  get productCount() {
    return this.generator.spec.products;
  }

  get orderCount() {
    return this.generator.spec.orders + this.extraOrders.length;
  }

  customer(index: number): GeneratedCustomer | undefined {
    if (index < 0 || index >= this.customerCount) return undefined;
    const base =
      index < this.generator.spec.customers
        ? this.generator.customer(index)
        : this.extraCustomers[index - this.generator.spec.customers]!;
    const tags = this.customerTags.get(index);
    const updatedAt = this.customerUpdatedAt.get(index);
    return tags || updatedAt ? { ...base, tags: tags ?? base.tags, updatedAt: updatedAt ?? base.updatedAt } : base;
  }

  product(index: number): GeneratedProduct | undefined {
    return index >= 0 && index < this.productCount ? this.generator.product(index) : undefined;
  }

  order(index: number): GeneratedOrder | undefined {
    if (index < 0 || index >= this.orderCount) return undefined;
    return index < this.generator.spec.orders
      ? this.generator.order(index)
      : this.extraOrders[index - this.generator.spec.orders];
  }

  customerIndexOf(id: number) {
    return id - ID_BASE.customer;
  }

  productIndexOf(id: number) {
    return id - ID_BASE.product;
  }

  orderIndexOf(id: number) {
    return id - ID_BASE.order;
  }

  /** Orders placed and money spent per customer, computed once on first use. */
  customerStats(index: number): { orders: number; spentCents: number } {
    if (!this.stats || this.stats.orders.length < this.customerCount) {
      const orders = new Int32Array(this.customerCount);
      const spentCents = new Float64Array(this.customerCount);
      for (let i = 0; i < this.orderCount; i++) {
        const order = this.order(i)!;
        if (order.customerIndex === null) continue;
        orders[order.customerIndex]! += 1;
        spentCents[order.customerIndex]! += order.totalCents - order.refundedCents;
      }
      this.stats = { orders, spentCents };
    }
    return { orders: this.stats.orders[index] ?? 0, spentCents: this.stats.spentCents[index] ?? 0 };
  }

  setCustomerTags(index: number, tags: string[], at = new Date()) {
    this.customerTags.set(index, [...new Set(tags)]);
    this.customerUpdatedAt.set(index, at);
  }

  touchCustomer(index: number, at = new Date()) {
    this.customerUpdatedAt.set(index, at);
  }

  /** A customer signing up now (the customers/create scenario). */
  addCustomer(at = new Date()): GeneratedCustomer {
    const index = this.customerCount;
    const template = this.generator.customer(index % this.generator.spec.customers);
    const customer: GeneratedCustomer = {
      ...template,
      index,
      id: ID_BASE.customer + index,
      email: `new.customer.${index}@example.com`,
      createdAt: at,
      updatedAt: at,
      tags: [],
    };
    this.extraCustomers.push(customer);
    this.stats = undefined;
    return customer;
  }

  /** An order placed now (the orders/create scenario), by a customer or a guest. */
  addOrder(customerIndex: number | null, at = new Date()): GeneratedOrder {
    const index = this.orderCount;
    const template = this.generator.order(index % this.generator.spec.orders);
    const customer = customerIndex === null ? undefined : this.customer(customerIndex);
    const order: GeneratedOrder = {
      ...template,
      index,
      id: ID_BASE.order + index,
      name: `#${1001 + index}`,
      createdAt: at,
      processedAt: at,
      updatedAt: at,
      customerIndex: customer ? customerIndex : null,
      email: customer?.email ?? template.email,
      phone: customer?.phone ?? null,
      shippingAddress: customer?.defaultAddress ?? template.shippingAddress,
      refundedCents: 0,
      refundedShippingCents: 0,
      refundedLineCents: 0,
      refundedTaxCents: 0,
      refundedAt: null,
      netCents: template.subtotalCents,
      financialStatus: "PAID",
      lineItems: template.lineItems.map((item, l) => ({ ...item, id: ID_BASE.lineItem + index * 16 + l })),
      transactions: [{ ...template.transactions[0]!, id: ID_BASE.transaction + index * 4, processedAt: at }],
    };
    this.extraOrders.push(order);
    this.stats = undefined;
    return order;
  }
}
