import { formatCents, type GeneratedCustomer, type GeneratedOrder, type GeneratedProduct } from "./generator";
import { gid } from "./shop-data";
import type { SimulatedShop } from "./store";

/** Webhook payloads carry the REST representation, with snake_case fields and numeric ids. */

export function customerPayload(customer: GeneratedCustomer) {
  return {
    id: customer.id,
    admin_graphql_api_id: gid("Customer", customer.id),
    email: customer.email,
    first_name: customer.firstName,
    last_name: customer.lastName,
    phone: customer.phone,
    created_at: customer.createdAt.toISOString(),
    updated_at: customer.updatedAt.toISOString(),
    tags: customer.tags.join(", "),
    state: "enabled",
    verified_email: true,
    currency: "USD",
    email_marketing_consent: { state: customer.emailMarketingState.toLowerCase(), opt_in_level: "single_opt_in" },
    default_address: {
      first_name: customer.defaultAddress.firstName,
      last_name: customer.defaultAddress.lastName,
      address1: customer.defaultAddress.address1,
      city: customer.defaultAddress.city,
      province: customer.defaultAddress.province,
      country: customer.defaultAddress.country,
      zip: customer.defaultAddress.zip,
      phone: customer.defaultAddress.phone,
      country_code: customer.defaultAddress.countryCode,
      default: true,
    },
  };
}

export function orderPayload(order: GeneratedOrder, customer: GeneratedCustomer | undefined) {
  return {
    id: order.id,
    admin_graphql_api_id: gid("Order", order.id),
    name: order.name,
    email: order.email,
    phone: order.phone,
    created_at: order.createdAt.toISOString(),
    updated_at: order.updatedAt.toISOString(),
    processed_at: order.processedAt.toISOString(),
    currency: order.currencyCode,
    financial_status: order.financialStatus.toLowerCase(),
    subtotal_price: formatCents(order.subtotalCents),
    total_discounts: formatCents(order.discountCents),
    total_tax: formatCents(order.taxCents),
    total_price: formatCents(order.totalCents),
    discount_codes: order.discountCode ? [{ code: order.discountCode, type: "percentage" }] : [],
    customer: customer ? customerPayload(customer) : null,
    line_items: order.lineItems.map((item) => ({
      id: item.id,
      admin_graphql_api_id: gid("LineItem", item.id),
      product_id: item.productId,
      variant_id: item.variantId,
      title: item.title,
      variant_title: item.variantTitle,
      sku: item.sku,
      quantity: item.quantity,
      price: formatCents(item.unitPriceCents),
      total_discount: formatCents(item.discountCents),
    })),
    shipping_address: {
      first_name: order.shippingAddress.firstName,
      last_name: order.shippingAddress.lastName,
      address1: order.shippingAddress.address1,
      city: order.shippingAddress.city,
      country_code: order.shippingAddress.countryCode,
      zip: order.shippingAddress.zip,
    },
  };
}

export function productPayload(product: GeneratedProduct) {
  return {
    id: product.id,
    admin_graphql_api_id: gid("Product", product.id),
    title: product.title,
    handle: product.handle,
    body_html: `<p>${product.description}</p>`,
    product_type: product.productType,
    vendor: product.vendor,
    tags: product.tags.join(", "),
    status: product.status.toLowerCase(),
    created_at: product.createdAt.toISOString(),
    updated_at: new Date().toISOString(),
    variants: product.variants.map((variant) => ({
      id: variant.id,
      admin_graphql_api_id: gid("ProductVariant", variant.id),
      product_id: product.id,
      title: variant.title,
      sku: variant.sku,
      price: formatCents(variant.priceCents),
    })),
  };
}

export function shopPayload(shop: SimulatedShop, shopId: number) {
  return {
    id: shopId,
    name: shop.name,
    email: shop.email,
    domain: shop.domain,
    myshopify_domain: shop.domain,
    currency: shop.currencyCode,
    iana_timezone: shop.ianaTimezone,
    plan_display_name: shop.planDisplayName,
  };
}
