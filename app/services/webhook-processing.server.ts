import type { WebhookDelivery } from "@prisma/client";
import { z } from "zod";
import { enqueueJobs, parsePayloadSafely, PermanentJobError } from "../models/jobs.server";
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
  scopes: z.object({ current: z.array(z.string()), updated_at: z.string().optional() }),
  record: z.object({ admin_graphql_api_id: z.string() }),
  bulkFinish: z.object({ admin_graphql_api_id: z.string() }),
};

function parse<T extends z.ZodType>(schema: T, delivery: WebhookDelivery): z.infer<T> {
  const result = schema.safeParse(delivery.payload);
  if (!result.success)
    throw new PermanentJobError(`malformed ${delivery.topic} payload: ${result.error.issues[0]?.message}`);
  return result.data;
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

const SUPERSEDED_SCOPES = "not acted on: a later app/scopes_update of the shop in the same batch holds its scopes";

/** When a scopes_update's scopes were granted: Shopify's updated_at, else when it was triggered or received. */
function scopesTimeOf(delivery: WebhookDelivery) {
  const scopes = payloads.scopes.safeParse(delivery.payload);
  if (!scopes.success) return undefined;
  const updatedAt = scopes.data.updated_at === undefined ? Number.NaN : Date.parse(scopes.data.updated_at);
  return Number.isNaN(updatedAt) ? (delivery.triggeredAt ?? delivery.receivedAt).getTime() : updatedAt;
}

type SyncedResource = "customers" | "products" | "orders";

/** The most records one sync-records job refreshes (its payload's bound). */
const RECORDS_PER_SYNC = 250;

/**
 * What the deliveries of one batch job share. Each shop's install state is read once (and again after an
 * uninstall or a shop/redact of it). Of a shop's app/scopes_update deliveries, each carrying the whole list
 * of granted scopes, only the latest is applied: the others are marked as left alone. A payload that cannot be
 * read neither supersedes nor is superseded (it fails as malformed). The records the deliveries name are
 * refreshed by one sync-records job per shop and resource (a flash sale's orders in one job, not one each),
 * queued by `queueRecordSyncs` once every delivery has been through `processDelivery`.
 */
export class DeliveryBatch {
  private readonly recordSyncs = new Map<string, { shop: string; resource: SyncedResource; ids: Set<string> }>();
  /** The deliveries whose record syncs are not queued yet. */
  readonly awaitingSync = new Set<string>();
  private readonly installStates = new Map<string, Promise<InstallState>>();
  private readonly latestScopes = new Map<string, { id: string; at: number }>();
  private readonly readableScopes = new Set<string>();

  constructor(deliveries: Iterable<WebhookDelivery>) {
    for (const delivery of deliveries) {
      if (delivery.topic !== "app/scopes_update") continue;
      const at = scopesTimeOf(delivery);
      if (at === undefined) continue;
      this.readableScopes.add(delivery.id);
      const latest = this.latestScopes.get(delivery.shop);
      if (!latest || at >= latest.at) this.latestScopes.set(delivery.shop, { id: delivery.id, at });
    }
  }

  installState(shop: string) {
    let state = this.installStates.get(shop);
    if (!state) {
      state = installState(shop);
      this.installStates.set(shop, state);
    }
    return state;
  }

  /** The shop's install state changed (or may have): the next delivery reads it again. */
  changed(shop: string) {
    this.installStates.delete(shop);
  }

  syncLater(delivery: WebhookDelivery, resource: SyncedResource, id: string) {
    // Checked alone, so that one delivery's bad id cannot fail the job that carries its neighbours' records.
    if (!parsePayloadSafely("sync-records", { shop: delivery.shop, resource, ids: [id] })) {
      throw new PermanentJobError(`malformed ${delivery.topic} payload: ${id} is not a record id`);
    }
    const key = `${resource} ${delivery.shop}`;
    let sync = this.recordSyncs.get(key);
    if (!sync) {
      sync = { shop: delivery.shop, resource, ids: new Set() };
      this.recordSyncs.set(key, sync);
    }
    sync.ids.add(id);
    this.awaitingSync.add(delivery.id);
  }

  /** Queues the record syncs the deliveries asked for, in one statement (all or none). */
  async queueRecordSyncs() {
    const jobs = [...this.recordSyncs.values()].flatMap(({ shop, resource, ids }) => {
      const all = [...ids];
      return Array.from({ length: Math.ceil(all.length / RECORDS_PER_SYNC) }, (_, index) => ({
        payload: { shop, resource, ids: all.slice(index * RECORDS_PER_SYNC, (index + 1) * RECORDS_PER_SYNC) },
      }));
    });
    await enqueueJobs("sync-records", jobs);
    this.recordSyncs.clear();
    this.awaitingSync.clear();
  }

  superseded(delivery: WebhookDelivery) {
    const latest = this.latestScopes.get(delivery.shop);
    return this.readableScopes.has(delivery.id) && latest !== undefined && latest.id !== delivery.id;
  }
}

/** Does what the delivery asks; answers why not when it is recorded and deliberately left alone. */
export async function processDelivery(
  delivery: WebhookDelivery,
  batch: DeliveryBatch,
): Promise<{ ignored: string } | undefined> {
  const { shop } = delivery;
  if (delivery.topic === "shop/redact") {
    batch.changed(shop);
    const redaction = await redactShop(shop);
    return redaction.erased
      ? undefined
      : {
          ignored: "not acted on: the shop has the app installed (Shopify sends shop/redact 48 hours after uninstall)",
        };
  }
  const state = await batch.installState(shop);
  if (state === "never-installed" || (state === "uninstalled" && !AFTER_UNINSTALL.has(delivery.topic))) {
    return { ignored: IGNORED_BECAUSE[state] };
  }
  if (batch.superseded(delivery)) return { ignored: SUPERSEDED_SCOPES };
  if (delivery.topic === "app/uninstalled") batch.changed(shop);
  await act(delivery, batch);
  return undefined;
}

async function act(delivery: WebhookDelivery, batch: DeliveryBatch): Promise<void> {
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
      return batch.syncLater(delivery, "orders", parse(payloads.record, delivery).admin_graphql_api_id);
    case "customers/create":
    case "customers/update":
      return batch.syncLater(delivery, "customers", parse(payloads.record, delivery).admin_graphql_api_id);
    case "products/update":
      return batch.syncLater(delivery, "products", parse(payloads.record, delivery).admin_graphql_api_id);
    case "bulk_operations/finish":
      await continueStepsOfBulkOperation(shop, parse(payloads.bulkFinish, delivery).admin_graphql_api_id);
      return;
    default:
      throw new PermanentJobError(`no handler for webhook topic ${delivery.topic}`);
  }
}
