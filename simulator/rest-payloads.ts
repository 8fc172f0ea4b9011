import type { BulkOperationState } from "./bulk-operations";
import {
  formatCents,
  type GeneratedCustomer,
  type GeneratedLineItem,
  type GeneratedOrder,
  type GeneratedProduct,
  type MailingAddress,
} from "./generator";
import { gid } from "./shop-data";
import type { SimulatedShop } from "./store";

/**
 * Webhook payloads as Shopify sends them for the pinned version: the REST
 * representation, snake_case fields and numeric ids, every field of
 * Shopify's documented example (tests/fixtures/webhooks holds one per topic
 * and simulator/rest-payloads.test.ts compares the shapes).
 */

const TAX_TITLE = "Tax";

function moneySet(cents: number, currency: string) {
  const money = { amount: formatCents(cents), currency_code: currency };
  return { shop_money: money, presentment_money: money };
}

const consentState = (state: string) => state.toLowerCase();

function addressPayload(address: MailingAddress, customerId?: number) {
  return {
    ...(customerId === undefined ? {} : { id: customerId * 10 + 1, customer_id: customerId }),
    first_name: address.firstName,
    last_name: address.lastName,
    company: null,
    address1: address.address1,
    address2: null,
    city: address.city,
    province: address.province,
    country: address.country,
    zip: address.zip,
    phone: address.phone,
    name: `${address.firstName} ${address.lastName}`,
    province_code: address.provinceCode,
    country_code: address.countryCode,
    ...(customerId === undefined ? {} : { country_name: address.country, default: true }),
  };
}

function orderAddressPayload(address: MailingAddress) {
  const { name, ...rest } = addressPayload(address);
  return { ...rest, name, latitude: null, longitude: null };
}

export function customerPayload(customer: GeneratedCustomer, currency = "USD") {
  const updatedAt = customer.updatedAt.toISOString();
  return {
    id: customer.id,
    email: customer.email,
    created_at: customer.createdAt.toISOString(),
    updated_at: updatedAt,
    first_name: customer.firstName,
    last_name: customer.lastName,
    state: "enabled",
    note: null,
    verified_email: true,
    multipass_identifier: null,
    tax_exempt: false,
    tags: customer.tags.join(", "),
    currency,
    phone: customer.phone,
    addresses: [addressPayload(customer.defaultAddress, customer.id)],
    tax_exemptions: [],
    email_marketing_consent: {
      state: consentState(customer.emailMarketingState),
      opt_in_level: "single_opt_in",
      consent_updated_at: updatedAt,
    },
    sms_marketing_consent: customer.phone
      ? {
          state: consentState(customer.smsMarketingState),
          opt_in_level: "single_opt_in",
          consent_updated_at: null,
          consent_collected_from: "OTHER",
        }
      : null,
    admin_graphql_api_id: gid("Customer", customer.id),
    default_address: addressPayload(customer.defaultAddress, customer.id),
  };
}

function lineItemPayload(item: GeneratedLineItem, currency: string, vendor: string | null) {
  return {
    id: item.id,
    admin_graphql_api_id: gid("LineItem", item.id),
    attributed_staffs: [],
    current_quantity: item.quantity,
    fulfillable_quantity: item.quantity,
    fulfillment_service: "manual",
    fulfillment_status: null,
    gift_card: false,
    grams: 0,
    name: item.variantTitle ? `${item.title} - ${item.variantTitle}` : item.title,
    price: formatCents(item.unitPriceCents),
    price_set: moneySet(item.unitPriceCents, currency),
    product_exists: true,
    product_id: item.productId,
    properties: [],
    quantity: item.quantity,
    requires_shipping: true,
    sku: item.sku,
    taxable: true,
    title: item.title,
    total_discount: formatCents(0),
    total_discount_set: moneySet(0, currency),
    variant_id: item.variantId,
    variant_inventory_management: "shopify",
    variant_title: item.variantTitle,
    vendor,
    tax_lines: [],
    duties: [],
    // The order's discount code, allocated to its lines, as Shopify reports it.
    discount_allocations:
      item.discountCents > 0
        ? [
            {
              amount: formatCents(item.discountCents),
              amount_set: moneySet(item.discountCents, currency),
              discount_application_index: 0,
            },
          ]
        : [],
  };
}

export function orderPayload(
  order: GeneratedOrder,
  customer: GeneratedCustomer | undefined,
  vendorOf: (item: GeneratedLineItem) => string | null = () => null,
) {
  const currency = order.currencyCode;
  const set = (cents: number) => moneySet(cents, currency);
  const lineItemsCents = order.lineItems.reduce((sum, item) => sum + item.unitPriceCents * item.quantity, 0);
  const currentTotal = order.totalCents - order.refundedCents;
  const created = order.createdAt.toISOString();
  return {
    id: order.id,
    admin_graphql_api_id: gid("Order", order.id),
    app_id: 580111,
    browser_ip: null,
    buyer_accepts_marketing: customer?.emailMarketingState === "SUBSCRIBED",
    cancel_reason: null,
    cancelled_at: null,
    cart_token: null,
    checkout_id: order.id + 1,
    checkout_token: `checkout-${order.id}`,
    client_details: null,
    closed_at: null,
    confirmation_number: `SIM${order.id.toString(36).toUpperCase()}`,
    confirmed: true,
    contact_email: order.email,
    created_at: created,
    currency,
    current_subtotal_price: formatCents(order.subtotalCents),
    current_subtotal_price_set: set(order.subtotalCents),
    current_total_additional_fees_set: null,
    current_total_discounts: formatCents(order.discountCents),
    current_total_discounts_set: set(order.discountCents),
    current_total_duties_set: null,
    current_total_price: formatCents(currentTotal),
    current_total_price_set: set(currentTotal),
    current_total_tax: formatCents(order.taxCents),
    current_total_tax_set: set(order.taxCents),
    customer_locale: customer?.locale ?? null,
    device_id: null,
    discount_codes: order.discountCode
      ? [{ code: order.discountCode, amount: formatCents(order.discountCents), type: "percentage" }]
      : [],
    duties_included: false,
    email: order.email,
    estimated_taxes: false,
    financial_status: order.financialStatus.toLowerCase(),
    fulfillment_status: null,
    landing_site: null,
    landing_site_ref: null,
    location_id: null,
    merchant_business_entity_id: null,
    merchant_of_record_app_id: null,
    name: order.name,
    note: null,
    note_attributes: [],
    number: order.index + 1,
    order_number: 1000 + order.index + 1,
    order_status_url: null,
    original_total_additional_fees_set: null,
    original_total_duties_set: null,
    payment_gateway_names: [...new Set(order.transactions.map((transaction) => transaction.gateway))],
    phone: order.phone,
    po_number: null,
    presentment_currency: currency,
    processed_at: order.processedAt.toISOString(),
    reference: null,
    referring_site: null,
    source_identifier: null,
    source_name: "web",
    source_url: null,
    subtotal_price: formatCents(order.subtotalCents),
    subtotal_price_set: set(order.subtotalCents),
    tags: order.tags.join(", "),
    tax_exempt: false,
    tax_lines: [
      {
        price: formatCents(order.taxCents),
        rate: 0,
        title: TAX_TITLE,
        price_set: set(order.taxCents),
        channel_liable: false,
      },
    ],
    taxes_included: false,
    test: false,
    token: `token-${order.id}`,
    total_cash_rounding_payment_adjustment_set: set(0),
    total_cash_rounding_refund_adjustment_set: set(0),
    total_discounts: formatCents(order.discountCents),
    total_discounts_set: set(order.discountCents),
    total_line_items_price: formatCents(lineItemsCents),
    total_line_items_price_set: set(lineItemsCents),
    total_outstanding: formatCents(0),
    total_price: formatCents(order.totalCents),
    total_price_set: set(order.totalCents),
    total_shipping_price_set: set(order.shippingCents),
    total_tax: formatCents(order.taxCents),
    total_tax_set: set(order.taxCents),
    total_tip_received: formatCents(0),
    total_weight: 0,
    updated_at: order.updatedAt.toISOString(),
    user_id: null,
    billing_address: orderAddressPayload(order.shippingAddress),
    customer: customer ? orderCustomerPayload(customer, currency) : null,
    discount_applications: order.discountCode
      ? [
          {
            target_type: "line_item",
            type: "discount_code",
            value: "0.0",
            value_type: "percentage",
            allocation_method: "across",
            target_selection: "all",
            code: order.discountCode,
          },
        ]
      : [],
    fulfillments: [],
    line_items: order.lineItems.map((item) => lineItemPayload(item, currency, vendorOf(item))),
    payment_terms: null,
    refunds: [],
    shipping_address: orderAddressPayload(order.shippingAddress),
    shipping_lines: [
      {
        id: order.id + 2,
        carrier_identifier: null,
        code: "Standard",
        current_discounted_price_set: set(order.shippingCents),
        discounted_price: formatCents(order.shippingCents),
        discounted_price_set: set(order.shippingCents),
        is_removed: false,
        phone: null,
        price: formatCents(order.shippingCents),
        price_set: set(order.shippingCents),
        requested_fulfillment_service_id: null,
        source: "shopify",
        title: "Standard",
        tax_lines: [],
        discount_allocations: [],
      },
    ],
  };
}

/** The customer inside an order: the customer's fields less its address list. */
function orderCustomerPayload(customer: GeneratedCustomer, currency: string) {
  const { addresses: _addresses, ...rest } = customerPayload(customer, currency);
  return rest;
}

export function productPayload(product: GeneratedProduct) {
  const created = product.createdAt.toISOString();
  const updated = new Date().toISOString();
  const optionValue = (variant: GeneratedProduct["variants"][number], position: number) =>
    variant.selectedOptions[position]?.value ?? null;
  return {
    admin_graphql_api_id: gid("Product", product.id),
    body_html: `<p>${product.description}</p>`,
    created_at: created,
    handle: product.handle,
    id: product.id,
    product_type: product.productType,
    published_at: product.status === "ACTIVE" ? created : null,
    template_suffix: null,
    title: product.title,
    updated_at: updated,
    vendor: product.vendor,
    status: product.status.toLowerCase(),
    published_scope: "web",
    tags: product.tags.join(", "),
    variants: product.variants.map((variant, position) => ({
      admin_graphql_api_id: gid("ProductVariant", variant.id),
      barcode: null,
      compare_at_price: variant.compareAtPriceCents === null ? null : formatCents(variant.compareAtPriceCents),
      created_at: created,
      id: variant.id,
      inventory_policy: "deny",
      position: position + 1,
      price: formatCents(variant.priceCents),
      product_id: product.id,
      sku: variant.sku,
      taxable: true,
      title: variant.title,
      updated_at: updated,
      option1: optionValue(variant, 0),
      option2: optionValue(variant, 1),
      option3: optionValue(variant, 2),
      image_id: null,
      inventory_item_id: variant.id + 1,
      inventory_quantity: 0,
      old_inventory_quantity: 0,
    })),
    options: product.options.map((option, position) => ({
      name: option.name,
      id: product.id * 10 + position,
      product_id: product.id,
      position: position + 1,
      values: option.values,
    })),
    images: [],
    image: null,
    media: [],
    variant_gids: product.variants.map((variant) => ({
      admin_graphql_api_id: gid("ProductVariant", variant.id),
      updated_at: updated,
    })),
    has_variants_that_requires_components: false,
    category: null,
  };
}

export function shopPayload(shop: SimulatedShop, shopId: number) {
  return {
    id: shopId,
    name: shop.name,
    email: shop.email,
    domain: shop.domain,
    province: null,
    country: null,
    address1: null,
    zip: null,
    city: null,
    source: null,
    phone: null,
    latitude: null,
    longitude: null,
    primary_locale: "en",
    address2: null,
    created_at: shop.createdAt,
    updated_at: shop.createdAt,
    country_code: null,
    country_name: null,
    currency: shop.currencyCode,
    customer_email: shop.email,
    timezone: `(GMT) ${shop.ianaTimezone}`,
    iana_timezone: shop.ianaTimezone,
    shop_owner: shop.name,
    money_format: "${{amount}}",
    money_with_currency_format: `\${{amount}} ${shop.currencyCode}`,
    weight_unit: "kg",
    province_code: null,
    taxes_included: false,
    auto_configure_tax_inclusivity: null,
    tax_shipping: null,
    county_taxes: true,
    plan_display_name: shop.planDisplayName,
    plan_name: shop.shopifyPlus ? "shopify_plus" : "professional",
    has_discounts: true,
    has_gift_cards: false,
    myshopify_domain: shop.domain,
    google_apps_domain: null,
    google_apps_login_enabled: null,
    money_in_emails_format: "${{amount}}",
    money_with_currency_in_emails_format: `\${{amount}} ${shop.currencyCode}`,
    eligible_for_payments: true,
    requires_extra_payments_agreement: false,
    password_enabled: false,
    has_storefront: true,
    finances: true,
    primary_location_id: shopId * 10,
    checkout_api_supported: true,
    multi_location_enabled: true,
    setup_required: false,
    pre_launch_enabled: false,
    enabled_presentment_currencies: [shop.currencyCode],
    marketing_sms_consent_enabled_at_checkout: false,
    transactional_sms_disabled: false,
  };
}

export function scopesUpdatePayload(shopId: number, previous: string[], current: string[]) {
  return { id: shopId * 1000 + 1, shop_id: shopId, previous, current, updated_at: new Date().toISOString() };
}

export function bulkFinishPayload(operation: BulkOperationState) {
  return {
    admin_graphql_api_id: operation.id,
    completed_at: operation.completedAt,
    created_at: operation.createdAt,
    error_code: operation.errorCode?.toLowerCase() ?? null,
    status: operation.status.toLowerCase(),
    type: operation.type.toLowerCase(),
  };
}

interface PrivacySubject {
  id: number;
  email: string;
  phone: string | null;
}

export function dataRequestPayload(
  shopId: number,
  shop: string,
  customer: PrivacySubject,
  orders: number[],
  requestId: number,
) {
  return {
    shop_id: shopId,
    shop_domain: shop,
    orders_requested: orders,
    customer: { id: customer.id, email: customer.email, phone: customer.phone },
    data_request: { id: requestId },
  };
}

export function customerRedactPayload(shopId: number, shop: string, customer: PrivacySubject, orders: number[]) {
  return {
    shop_id: shopId,
    shop_domain: shop,
    customer: { id: customer.id, email: customer.email, phone: customer.phone },
    orders_to_redact: orders,
  };
}

export function shopRedactPayload(shopId: number, shop: string) {
  return { shop_id: shopId, shop_domain: shop };
}
