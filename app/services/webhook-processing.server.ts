import type { WebhookDelivery } from "@prisma/client";
import { z } from "zod";
import { enqueueJob, PermanentJobError } from "../models/jobs.server";
import { disconnectPixel } from "../models/pixel.server";
import { buildCustomerExport, recordDataRequestExport, redactCustomer, redactShop } from "../models/privacy.server";
import { cancelActivePulls, continueStepsOfBulkOperation } from "../models/pulls.server";
import { installState, markUninstalled, recordGrantedScopes, type InstallState } from "../models/shop.server";

/**
 * What each webhook topic does, run by the webhook-process task. Every handler is idempotent. What a
 * delivery may do depends on the shop's state, read here rather than at intake: a shop that never installed
 * the app gets nothing done (and nothing retried), an uninstalled shop only what privacy law and the
 * uninstall itself ask, and shop/redact erases only a shop the app is uninstalled from.
 */

const customerRef = z.object({ id: z.number(), email: z.string().nullish(), phone: z.string().nullish() });
const payloads = {
  dataRequest: z.object({
    customer: customerRef,
    orders_requested: z.array(z.number()).default([]),
    data_request: z.object({ id: z.number() }).optional(),
  }),
  redact: z.object({ customer: customerRef, orders_to_redact: z.array(z.number()).default([]) }),
  scopes: z.object({ current: z.array(z.string()) }),
  record: z.object({ admin_graphql_api_id: z.string() }),
  bulkFinish: z.object({ admin_graphql_api_id: z.string() }),
};

function parse<T extends z.ZodType>(schema: T, delivery: WebhookDelivery): z.infer<T> {
  const result = schema.safeParse(delivery.payload);
  if (!result.success)
    throw new PermanentJobError(`malformed ${delivery.topic} payload: ${result.error.issues[0]?.message}`);
  return result.data;
}

async function syncLater(shop: string, resource: "customers" | "products" | "orders", id: string) {
  await enqueueJob("sync-records", { shop, resource, ids: [id] });
}

async function handleUninstall(shop: string) {
  await markUninstalled(shop);
  await disconnectPixel(shop);
  await cancelActivePulls(shop);
}

/** Topics still acted on once the shop has uninstalled the app. */
const AFTER_UNINSTALL = new Set(["app/uninstalled", "customers/data_request", "customers/redact", "shop/redact"]);

const IGNORED_BECAUSE: Record<Exclude<InstallState, "installed">, string> = {
  "never-installed": "not acted on: the shop never installed the app",
  uninstalled: "not acted on: the shop has uninstalled the app",
};

/** Does what the delivery asks; answers why not when it is recorded and deliberately left alone. */
export async function processDelivery(delivery: WebhookDelivery): Promise<{ ignored: string } | undefined> {
  const { shop } = delivery;
  if (delivery.topic === "shop/redact") {
    const redaction = await redactShop(shop);
    return redaction.erased
      ? undefined
      : {
          ignored: "not acted on: the shop has the app installed (Shopify sends shop/redact 48 hours after uninstall)",
        };
  }
  const state = await installState(shop);
  if (state === "never-installed" || (state === "uninstalled" && !AFTER_UNINSTALL.has(delivery.topic))) {
    return { ignored: IGNORED_BECAUSE[state] };
  }
  await act(delivery);
  return undefined;
}

async function act(delivery: WebhookDelivery): Promise<void> {
  const { shop } = delivery;
  switch (delivery.topic) {
    case "app/uninstalled":
      return handleUninstall(shop);
    case "app/scopes_update":
      return recordGrantedScopes(shop, parse(payloads.scopes, delivery).current);
    case "customers/data_request": {
      const request = parse(payloads.dataRequest, delivery);
      const exported = await buildCustomerExport({
        shop,
        customerId: request.customer.id,
        email: request.customer.email,
        phone: request.customer.phone,
        ordersToRedact: request.orders_requested,
      });
      await recordDataRequestExport({
        shop,
        customerId: request.customer.id,
        requestId: request.data_request?.id,
        exported,
      });
      return;
    }
    case "customers/redact": {
      const request = parse(payloads.redact, delivery);
      await redactCustomer({
        shop,
        customerId: request.customer.id,
        email: request.customer.email,
        phone: request.customer.phone,
        ordersToRedact: request.orders_to_redact,
      });
      return;
    }
    case "orders/create":
      return syncLater(shop, "orders", parse(payloads.record, delivery).admin_graphql_api_id);
    case "customers/create":
    case "customers/update":
      return syncLater(shop, "customers", parse(payloads.record, delivery).admin_graphql_api_id);
    case "products/update":
      return syncLater(shop, "products", parse(payloads.record, delivery).admin_graphql_api_id);
    case "bulk_operations/finish":
      await continueStepsOfBulkOperation(shop, parse(payloads.bulkFinish, delivery).admin_graphql_api_id);
      return;
    default:
      throw new PermanentJobError(`no handler for webhook topic ${delivery.topic}`);
  }
}
