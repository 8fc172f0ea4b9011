import {
  ADJECTIVES,
  CUSTOMER_TAGS,
  DISCOUNT_CODES,
  FIRST_NAMES,
  LAST_NAMES,
  OPTION_VALUES,
  PLACES,
  PRODUCT_TAGS,
  PRODUCT_TYPES,
  STREETS,
  VENDORS,
} from "./catalog";
import { Random } from "./random";

/**
 * A deterministic synthetic shop. Every record is generated from (seed,
 * index) alone, so the store is a stream: any size, any order, nothing held
 * in memory but three small index arrays. Its shape follows real shops: most
 * buyers order once and a minority repeat (purchase propensity is Pareto
 * distributed), prices are log-normal, orders peak in November–December and
 * on weekends, ids grow with time, some orders are guest checkouts, some are
 * discounted and some refunded.
 */

export interface StoreSpec {
  seed: number;
  customers: number;
  products: number;
  orders: number;
  /** First order date. Customers may sign up up to 60 days earlier. */
  start: Date;
  /** Last order date (exclusive). */
  end: Date;
  currencyCode: string;
}

export const STORE_SIZES = {
  tiny: { customers: 40, products: 12, orders: 150 },
  small: { customers: 500, products: 60, orders: 3_000 },
  medium: { customers: 5_000, products: 400, orders: 50_000 },
  bench: { customers: 50_000, products: 10_000, orders: 300_000 },
  benchSmall: { customers: 12_500, products: 2_500, orders: 75_000 },
  large: { customers: 100_000, products: 20_000, orders: 1_000_000 },
} as const;

export type StoreSizeName = keyof typeof STORE_SIZES;

export function storeSpec(size: StoreSizeName, overrides: Partial<StoreSpec> = {}): StoreSpec {
  const end = overrides.end ?? startOfUtcDay(new Date());
  return {
    seed: 1,
    ...STORE_SIZES[size],
    start: new Date(end.getTime() - 2.5 * 365 * DAY_MS),
    end,
    currencyCode: "USD",
    ...overrides,
  };
}

export interface MailingAddress {
  firstName: string;
  lastName: string;
  address1: string;
  city: string;
  province: string;
  provinceCode: string;
  country: string;
  countryCode: string;
  zip: string;
  phone: string | null;
}

export type MarketingState = "SUBSCRIBED" | "NOT_SUBSCRIBED" | "UNSUBSCRIBED";

export interface GeneratedCustomer {
  index: number;
  id: number;
  firstName: string;
  lastName: string;
  email: string;
  phone: string | null;
  createdAt: Date;
  updatedAt: Date;
  tags: string[];
  emailMarketingState: MarketingState;
  smsMarketingState: MarketingState;
  locale: string;
  defaultAddress: MailingAddress;
}

export interface GeneratedVariant {
  id: number;
  title: string;
  sku: string;
  priceCents: number;
  compareAtPriceCents: number | null;
  selectedOptions: { name: string; value: string }[];
}

export interface GeneratedProduct {
  index: number;
  id: number;
  title: string;
  handle: string;
  description: string;
  productType: string;
  vendor: string;
  tags: string[];
  status: "ACTIVE" | "ARCHIVED";
  createdAt: Date;
  updatedAt: Date;
  options: { name: string; values: string[] }[];
  variants: GeneratedVariant[];
  imageUrl: string;
}

export interface GeneratedLineItem {
  id: number;
  productIndex: number;
  productId: number;
  variantId: number;
  title: string;
  variantTitle: string;
  sku: string;
  quantity: number;
  unitPriceCents: number;
  /** Every discount on the line: automatic, line-level code and its share of an order-level code. */
  discountCents: number;
  /** An automatic line discount (a sale), always in Shopify's discountedTotalSet. */
  automaticDiscountCents: number;
  /** A product (line-level) code discount: in discountedTotalSet only withCodeDiscounts. */
  lineCodeDiscountCents: number;
  /** This line's allocation of an order-level code discount: never in discountedTotalSet. */
  orderDiscountCents: number;
  /** What the app counts as the line's net revenue: its price after every discount. */
  netCents: number;
}

export type TransactionKind = "SALE" | "REFUND";

export interface GeneratedTransaction {
  id: number;
  kind: TransactionKind;
  status: "SUCCESS";
  gateway: string;
  amountCents: number;
  processedAt: Date;
}

export interface GeneratedOrder {
  index: number;
  id: number;
  name: string;
  createdAt: Date;
  processedAt: Date;
  updatedAt: Date;
  customerIndex: number | null;
  email: string;
  phone: string | null;
  currencyCode: string;
  discountCode: string | null;
  /** ENTITLED: the code discounts each line (line-level); ALL: the whole order (order-level, allocated). */
  discountTarget: "ALL" | "ENTITLED" | null;
  subtotalCents: number;
  discountCents: number;
  shippingCents: number;
  taxCents: number;
  totalCents: number;
  refundedCents: number;
  /** A full refund returns every line, their tax and the shipping; a partial one is an amount only. */
  refundedShippingCents: number;
  refundedLineCents: number;
  refundedTaxCents: number;
  refundedAt: Date | null;
  /** Net revenue as the app defines it: lines after every discount, refunds out, shipping and tax out. */
  netCents: number;
  financialStatus: "PAID" | "PARTIALLY_REFUNDED" | "REFUNDED";
  shippingAddress: MailingAddress;
  lineItems: GeneratedLineItem[];
  transactions: GeneratedTransaction[];
  tags: string[];
}

const DAY_MS = 86_400_000;
const CUSTOMER_LEAD_DAYS = 60;
const GUEST_SHARE = 0.06;
const TAX_RATE = 0.07;
const AUTOMATIC_DISCOUNT_PERCENT = 10;
const MIN_REPEAT_GAP_MS = 7 * 86_400_000;

export const ID_BASE = {
  customer: 7_100_000_000_000,
  product: 8_200_000_000_000,
  variant: 4_400_000_000_000,
  order: 5_600_000_000_000,
  lineItem: 13_000_000_000_000,
  transaction: 9_300_000_000_000,
} as const;

export function startOfUtcDay(date: Date) {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}

export function formatCents(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const absolute = Math.abs(cents);
  return `${sign}${Math.floor(absolute / 100)}.${String(absolute % 100).padStart(2, "0")}`;
}

/** Relative order volume on a given day: seasonal peak in Nov–Dec, busier weekends. */
function dayIntensity(day: Date): number {
  const month = day.getUTCMonth();
  const date = day.getUTCDate();
  const weekday = day.getUTCDay();
  let intensity = 1 + 0.25 * Math.cos(((day.getUTCMonth() - 11.5) / 12) * 2 * Math.PI);
  if (month === 10 && date >= 20) intensity *= 2.4; // Black Friday / Cyber Monday season
  if (month === 11 && date <= 20) intensity *= 1.8; // holiday gifting
  if (weekday === 0 || weekday === 6) intensity *= 1.25;
  return intensity;
}

function binarySearch(cumulative: Float64Array, target: number, length = cumulative.length): number {
  let low = 0;
  let high = length - 1;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (cumulative[mid]! > target) high = mid;
    else low = mid + 1;
  }
  return low;
}

function mailingAddress(
  random: Random,
  firstName: string,
  lastName: string,
  place: (typeof PLACES)[number],
  phone: string | null,
): MailingAddress {
  const { city, province, provinceCode, country, countryCode, zip } = place;
  return {
    firstName,
    lastName,
    address1: `${random.int(1, 9999)} ${random.pick(STREETS)}`,
    city,
    province,
    provinceCode,
    country,
    countryCode,
    zip,
    phone,
  };
}

function slugify(text: string) {
  return text
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

export class StoreGenerator {
  private readonly productPopularity: Float64Array;
  private readonly dayCumulative: Float64Array;
  private readonly days: number;
  private readonly customerStart: number;
  private readonly customerSpan: number;
  private readonly orderCustomer: Int32Array;

  constructor(readonly spec: StoreSpec) {
    this.days = Math.max(1, Math.round((spec.end.getTime() - spec.start.getTime()) / DAY_MS));
    this.dayCumulative = new Float64Array(this.days);
    let total = 0;
    for (let d = 0; d < this.days; d++) {
      total += dayIntensity(new Date(spec.start.getTime() + d * DAY_MS));
      this.dayCumulative[d] = total;
    }
    this.customerStart = spec.start.getTime() - CUSTOMER_LEAD_DAYS * DAY_MS;
    this.customerSpan = spec.end.getTime() - this.customerStart;

    // Who placed each order, decided in one pass over time (4 bytes an
    // order). A customer who signed up places a first order soon after,
    // unless they are among the 15% who never buy; every other order is a
    // repeat purchase by an existing buyer, drawn by purchase propensity:
    // low for most, a capped Pareto tail for the loyal minority.
    const weights = new Float64Array(spec.customers);
    const neverBuys = new Uint8Array(spec.customers);
    for (let j = 0; j < spec.customers; j++) {
      const random = new Random(spec.seed, "customer-weight", j);
      neverBuys[j] = random.chance(0.15) ? 1 : 0;
      weights[j] = neverBuys[j] ? 0 : random.chance(0.75) ? 0.04 * random.next() : Math.min(80, random.pareto(1.4));
    }
    this.orderCustomer = new Int32Array(spec.orders);
    const lastOrderAt = new Float64Array(spec.customers);
    const buyerWeights = new Float64Array(spec.customers);
    let buyers = 0;
    let buyerTotal = 0;
    let nextSignup = 0;
    for (let i = 0; i < spec.orders; i++) {
      const random = new Random(spec.seed, "order-customer", i);
      const orderTime = this.orderCreatedAt(i).getTime();
      const available = this.customersCreatedBefore(orderTime);
      while (nextSignup < available && neverBuys[nextSignup]) nextSignup++;
      let customer = -1;
      if (!random.chance(GUEST_SHARE)) {
        if (nextSignup < available && (buyerTotal === 0 || random.chance(0.9))) {
          customer = nextSignup++;
        } else if (buyerTotal > 0) {
          // Even the most loyal buyer orders at most once a week.
          for (let attempt = 0; attempt < 4 && customer < 0; attempt++) {
            const candidate = binarySearch(buyerWeights, random.next() * buyerTotal, buyers);
            if (orderTime - lastOrderAt[candidate]! >= MIN_REPEAT_GAP_MS) customer = candidate;
          }
        }
        if (customer >= buyers) {
          for (let j = buyers; j <= customer; j++) {
            buyerTotal += weights[j]!;
            buyerWeights[j] = buyerTotal;
          }
          buyers = customer + 1;
        }
      }
      if (customer >= 0) lastOrderAt[customer] = orderTime;
      this.orderCustomer[i] = customer;
    }

    // Zipf-like product popularity over a shuffled order of products.
    this.productPopularity = new Float64Array(spec.products);
    let cumulative = 0;
    for (let k = 0; k < spec.products; k++) {
      const rank = 1 + new Random(spec.seed, "product-rank", k).int(0, spec.products - 1);
      cumulative += 1 / Math.pow(rank, 0.9);
      this.productPopularity[k] = cumulative;
    }
  }

  customerCreatedAt(index: number): Date {
    const jitter = new Random(this.spec.seed, "customer-created", index).next();
    const fraction = Math.pow((index + jitter) / this.spec.customers, 0.8);
    return new Date(Math.floor(this.customerStart + fraction * this.customerSpan));
  }

  /** How many customers exist at a time: exactly those with index below the result. */
  private customersCreatedBefore(time: number): number {
    const fraction = Math.min(1, Math.max(0, (time - this.customerStart) / this.customerSpan));
    return Math.min(this.spec.customers, Math.floor(this.spec.customers * Math.pow(fraction, 1.25)));
  }

  orderCreatedAt(index: number): Date {
    const jitter = new Random(this.spec.seed, "order-time", index).next();
    const target = ((index + jitter) / this.spec.orders) * this.dayCumulative[this.days - 1]!;
    const day = binarySearch(this.dayCumulative, target);
    const dayStart = day === 0 ? 0 : this.dayCumulative[day - 1]!;
    const withinDay = (target - dayStart) / (this.dayCumulative[day]! - dayStart);
    return new Date(this.spec.start.getTime() + (day + withinDay) * DAY_MS);
  }

  customer(index: number): GeneratedCustomer {
    const random = new Random(this.spec.seed, "customer", index);
    const firstName = random.pick(FIRST_NAMES);
    const lastName = random.pick(LAST_NAMES);
    const place = random.pick(PLACES);
    const createdAt = this.customerCreatedAt(index);
    const phone = random.chance(0.7)
      ? `+1555${String(1_000_000 + ((index * 7919) % 9_000_000)).padStart(7, "0")}`
      : null;
    const updatedLater = random.chance(0.15);
    const updatedAt = updatedLater
      ? new Date(createdAt.getTime() + random.next() * Math.max(0, this.spec.end.getTime() - createdAt.getTime()))
      : new Date(createdAt.getTime() + random.int(0, 5_000));
    const tags = CUSTOMER_TAGS.filter(() => random.chance(0.08));
    const consent = random.next();
    return {
      index,
      id: ID_BASE.customer + index,
      firstName,
      lastName,
      email: `${slugify(firstName)}.${slugify(lastName)}.${index}@example.com`,
      phone,
      createdAt,
      updatedAt,
      tags,
      emailMarketingState: consent < 0.45 ? "SUBSCRIBED" : consent < 0.9 ? "NOT_SUBSCRIBED" : "UNSUBSCRIBED",
      smsMarketingState: random.chance(0.15) ? "SUBSCRIBED" : "NOT_SUBSCRIBED",
      locale: place.countryCode === "DE" ? "de" : "en",
      defaultAddress: mailingAddress(random, firstName, lastName, place, phone),
    };
  }

  private readonly productCache = new Map<number, GeneratedProduct>();

  /** Products are few and every order line needs one, so they are kept once generated. */
  product(index: number): GeneratedProduct {
    let product = this.productCache.get(index);
    if (!product) {
      product = this.generateProduct(index);
      this.productCache.set(index, product);
    }
    return product;
  }

  private generateProduct(index: number): GeneratedProduct {
    const random = new Random(this.spec.seed, "product", index);
    const kind = random.pick(PRODUCT_TYPES);
    const title = `${random.pick(ADJECTIVES)} ${kind.type} ${index + 1}`;
    const basePriceCents = Math.max(300, Math.round(random.logNormal(kind.median, 0.35) * 100) - 1);
    const options = kind.options.map((name) => {
      const values = OPTION_VALUES[name]!;
      const count = random.int(1, values.length);
      return { name, values: values.slice(0, count) };
    });
    const combinations = options.reduce<{ name: string; value: string }[][]>(
      (acc, option) => acc.flatMap((combo) => option.values.map((value) => [...combo, { name: option.name, value }])),
      [[]],
    );
    const variants = combinations.slice(0, 6).map((selectedOptions, v) => {
      const priceCents = basePriceCents + (selectedOptions.some((o) => o.value === "XL") ? 500 : 0);
      return {
        id: ID_BASE.variant + index * 8 + v,
        title: selectedOptions.map((o) => o.value).join(" / "),
        sku: `${slugify(kind.type).toUpperCase().slice(0, 4)}-${index + 1}-${v + 1}`,
        priceCents,
        compareAtPriceCents: random.chance(0.2) ? Math.round(priceCents * 1.25) : null,
        selectedOptions,
      };
    });
    const addedLate = random.chance(0.3);
    const createdAt = new Date(
      this.customerStart + (addedLate ? random.next() * 0.9 * this.customerSpan : random.next() * 30 * DAY_MS),
    );
    const vendor = random.pick(VENDORS);
    return {
      index,
      id: ID_BASE.product + index,
      title,
      handle: `${slugify(title)}`,
      description: `The ${title} by ${vendor}: a ${kind.type.toLowerCase()} made for ${random.pick([
        "weekend trips",
        "city commutes",
        "long trails",
        "cold mornings",
        "everyday wear",
      ])}, in ${random.pick(["recycled", "organic", "durable", "lightweight", "weatherproof"])} materials.`,
      productType: kind.type,
      vendor,
      tags: PRODUCT_TAGS.filter(() => random.chance(0.15)),
      status: random.chance(0.04) ? "ARCHIVED" : "ACTIVE",
      createdAt,
      updatedAt: new Date(createdAt.getTime() + random.next() * 20 * DAY_MS),
      options,
      variants,
      imageUrl: `https://images.microsegment.test/products/${index + 1}.jpg`,
    };
  }

  order(index: number): GeneratedOrder {
    const random = new Random(this.spec.seed, "order", index);
    const createdAt = this.orderCreatedAt(index);
    const assigned = this.orderCustomer[index]!;
    const customerIndex = assigned < 0 ? null : assigned;
    const customer = customerIndex === null ? null : this.customer(customerIndex);

    const lineCount = 1 + Math.min(11, random.poisson(2.3));
    const lineItems: GeneratedLineItem[] = [];
    const totalPopularity = this.productPopularity[this.spec.products - 1]!;
    for (let l = 0; l < lineCount; l++) {
      const productIndex = binarySearch(this.productPopularity, random.next() * totalPopularity);
      const product = this.product(productIndex);
      const variant = random.pick(product.variants);
      const quantity = random.chance(0.82) ? 1 : random.chance(0.8) ? 2 : random.int(3, 6);
      lineItems.push({
        id: ID_BASE.lineItem + index * 16 + l,
        productIndex,
        productId: product.id,
        variantId: variant.id,
        title: product.title,
        variantTitle: variant.title,
        sku: variant.sku,
        quantity,
        unitPriceCents: variant.priceCents,
        discountCents: 0,
        automaticDiscountCents: 0,
        lineCodeDiscountCents: 0,
        orderDiscountCents: 0,
        netCents: 0,
      });
    }
    const subtotalBeforeDiscount = lineItems.reduce((sum, item) => sum + item.unitPriceCents * item.quantity, 0);
    const discount = random.chance(0.2) ? random.pick(DISCOUNT_CODES) : null;
    // Draws of their own, so that the order's other figures keep their values.
    const discounts = new Random(this.spec.seed, "order-discounts", index);
    const discountTarget = discount ? (discounts.chance(0.5) ? "ENTITLED" : "ALL") : null;
    if (discounts.chance(0.08)) {
      const item = discounts.pick(lineItems);
      item.automaticDiscountCents = Math.round((item.unitPriceCents * item.quantity * AUTOMATIC_DISCOUNT_PERCENT) / 100);
    }
    let discountCents = 0;
    for (const item of lineItems) {
      const afterAutomatic = item.unitPriceCents * item.quantity - item.automaticDiscountCents;
      const codeCents = discount ? Math.round((afterAutomatic * discount.percent) / 100) : 0;
      if (discountTarget === "ENTITLED") item.lineCodeDiscountCents = codeCents;
      else item.orderDiscountCents = codeCents;
      item.discountCents = item.automaticDiscountCents + codeCents;
      item.netCents = item.unitPriceCents * item.quantity - item.discountCents;
      discountCents += item.discountCents;
    }
    const subtotalCents = subtotalBeforeDiscount - discountCents;
    const shippingCents = subtotalCents >= 7500 ? 0 : 599;
    const taxCents = Math.round(subtotalCents * TAX_RATE);
    const totalCents = subtotalCents + shippingCents + taxCents;

    const transactions: GeneratedTransaction[] = [
      {
        id: ID_BASE.transaction + index * 4,
        kind: "SALE",
        status: "SUCCESS",
        gateway: random.chance(0.85) ? "shopify_payments" : "paypal",
        amountCents: totalCents,
        processedAt: createdAt,
      },
    ];
    let refundedCents = 0;
    let refundedAt: Date | null = null;
    let updatedAt = new Date(createdAt.getTime() + random.int(1_000, 3 * 3_600_000));
    const refundAt = new Date(createdAt.getTime() + random.int(2, 30) * DAY_MS);
    if (random.chance(0.05) && refundAt < this.spec.end) {
      refundedCents = random.chance(0.5) ? totalCents : Math.round(totalCents * (0.2 + 0.5 * random.next()));
      transactions.push({
        id: ID_BASE.transaction + index * 4 + 1,
        kind: "REFUND",
        status: "SUCCESS",
        gateway: transactions[0]!.gateway,
        amountCents: refundedCents,
        processedAt: refundAt,
      });
      updatedAt = refundAt;
      refundedAt = refundAt;
    }
    const fullRefund = refundedCents > 0 && refundedCents === totalCents;
    const refundedLineCents = fullRefund ? subtotalCents : 0;
    const refundedTaxCents = fullRefund ? taxCents : 0;
    const refundedShippingCents = fullRefund ? shippingCents : 0;
    // A partial refund returns no line: all of it comes off the merchandise, never below nothing.
    const netCents = fullRefund ? 0 : Math.max(0, subtotalCents - refundedCents);
    const guestFirst = random.pick(FIRST_NAMES);
    const guestLast = random.pick(LAST_NAMES);
    const place = random.pick(PLACES);
    const shippingAddress = customer?.defaultAddress ?? mailingAddress(random, guestFirst, guestLast, place, null);
    return {
      index,
      id: ID_BASE.order + index,
      name: `#${1001 + index}`,
      createdAt,
      processedAt: createdAt,
      updatedAt,
      customerIndex,
      email: customer?.email ?? `${slugify(guestFirst)}.guest.${index}@example.net`,
      phone: customer?.phone ?? null,
      currencyCode: this.spec.currencyCode,
      discountCode: discount?.code ?? null,
      discountTarget,
      subtotalCents,
      discountCents,
      shippingCents,
      taxCents,
      totalCents,
      refundedCents,
      refundedShippingCents,
      refundedLineCents,
      refundedTaxCents,
      refundedAt,
      netCents,
      financialStatus: refundedCents === 0 ? "PAID" : refundedCents === totalCents ? "REFUNDED" : "PARTIALLY_REFUNDED",
      shippingAddress,
      lineItems,
      transactions,
      tags: discount ? ["discounted"] : [],
    };
  }

  *customers(from = 0, to = this.spec.customers): Generator<GeneratedCustomer> {
    for (let j = from; j < to; j++) yield this.customer(j);
  }

  *products(from = 0, to = this.spec.products): Generator<GeneratedProduct> {
    for (let k = from; k < to; k++) yield this.product(k);
  }

  *orders(from = 0, to = this.spec.orders): Generator<GeneratedOrder> {
    for (let i = from; i < to; i++) yield this.order(i);
  }
}
