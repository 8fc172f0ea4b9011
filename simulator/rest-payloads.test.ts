import { readFileSync } from "node:fs";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { shapeDifferences, webhookFixture } from "../tests/helpers/payload-shape";
import type { BulkOperationState } from "./bulk-operations";
import { storeSpec } from "./generator";
import {
  bulkFinishPayload,
  customerPayload,
  customerRedactPayload,
  dataRequestPayload,
  orderPayload,
  productPayload,
  scopesUpdatePayload,
  shopPayload,
  shopRedactPayload,
} from "./rest-payloads";
import { ShopData } from "./shop-data";
import type { SimulatedShop } from "./store";

/** The simulator's webhook payloads have the shape of Shopify's, topic by topic (tests/fixtures/webhooks). */

const data = new ShopData(storeSpec("tiny", { seed: 3, end: new Date("2026-11-01T00:00:00Z"), currencyCode: "CAD" }));
const shop: SimulatedShop = {
  domain: "shape.myshopify.com",
  name: "Shape Outfitters",
  email: "owner@shape.example",
  currencyCode: "CAD",
  ianaTimezone: "America/Toronto",
  planDisplayName: "Grow",
  shopifyPlus: false,
  createdAt: "2025-01-01T00:00:00.000Z",
};
const withPhone = Array.from({ length: data.customerCount }, (_, i) => data.customer(i)!).find((c) => c.phone)!;
const ordered = data.order(0)!;
const operation = {
  id: "gid://shopify/BulkOperation/1",
  status: "COMPLETED",
  type: "QUERY",
  errorCode: null,
  createdAt: "2026-11-30T16:21:09Z",
  completedAt: "2026-11-30T16:24:41Z",
} as BulkOperationState;

const PAYLOADS: Record<string, () => unknown> = {
  "app/uninstalled": () => shopPayload(shop, 1),
  "app/scopes_update": () => scopesUpdatePayload(1, ["read_customers"], ["read_customers", "read_orders"]),
  "customers/data_request": () => dataRequestPayload(1, shop.domain, withPhone, [ordered.id], 9),
  "customers/redact": () => customerRedactPayload(1, shop.domain, withPhone, [ordered.id]),
  "shop/redact": () => shopRedactPayload(1, shop.domain),
  "orders/create": () => orderPayload(ordered, data.customer(ordered.customerIndex ?? 0), () => "Alder Works"),
  "customers/create": () => customerPayload(withPhone, "CAD"),
  "customers/update": () => customerPayload(withPhone, "CAD"),
  "products/update": () => productPayload(data.product(0)!),
  "bulk_operations/finish": () => bulkFinishPayload(operation),
};

describe("the simulator's webhook payloads", () => {
  it("cover every topic the app subscribes to", () => {
    const toml = parseToml(readFileSync(new URL("../shopify.app.toml", import.meta.url), "utf8")) as {
      webhooks: { subscriptions: { topics?: string[]; compliance_topics?: string[] }[] };
    };
    const topics = toml.webhooks.subscriptions.flatMap((block) => [
      ...(block.topics ?? []),
      ...(block.compliance_topics ?? []),
    ]);
    expect(Object.keys(PAYLOADS).sort()).toEqual(topics.sort());
  });

  it("are compared strictly enough to notice a missing, extra or retyped field", () => {
    expect(
      shapeDifferences({ id: 1, customer: { email: "a@b.c" }, tags: "" }, { id: "1", customer: {}, tag: "" }),
    ).toEqual([
      "$.id: string where Shopify sends number",
      "$.customer.email is missing",
      "$.tags is missing",
      "$.tag is not in Shopify's payload",
    ]);
  });

  for (const [topic, payload] of Object.entries(PAYLOADS)) {
    it(`${topic} has the shape of Shopify's`, async () => {
      expect(shapeDifferences(await webhookFixture(topic), payload())).toEqual([]);
    });
  }
});
