import type { WebhookDelivery } from "@prisma/client";
import { z } from "zod";
import { enqueueJob, PermanentJobError } from "../models/jobs.server";
import { disconnectPixel } from "../models/pixel.server";
import { buildCustomerExport, recordDataRequestExport, redactCustomer, redactShop } from "../models/privacy.server";
import { cancelActivePulls, continueStepsOfBulkOperation } from "../models/pulls.server";
import { markUninstalled, recordGrantedScopes } from "../models/shop.server";

/** What each webhook topic does, run by the webhook-process task. Every handler is idempotent. */

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

export async function handleUninstall(shop: string) {
  await markUninstalled(shop);
  await disconnectPixel(shop);
  await cancelActivePulls(shop);
}

export async function processDelivery(delivery: WebhookDelivery) {
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
    case "shop/redact":
      await redactShop(shop);
      return;
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
