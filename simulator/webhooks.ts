import { createHmac, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { parse as parseToml } from "smol-toml";
import { SIMULATED_API_VERSION } from "./admin-schema";

/**
 * Shopify's webhook delivery, as an app sees it: subscriptions from the
 * app's shopify.app.toml; a JSON POST signed with the app secret (base64
 * HMAC-SHA256 of the raw body); at least once, retried with exponential
 * backoff on anything but a 2xx, and sometimes delivered twice.
 */

export interface Subscription {
  topic: string;
  uri: string;
  compliance: boolean;
}

export function readSubscriptions(tomlPath: string): { apiVersion: string; subscriptions: Subscription[] } {
  const config = parseToml(readFileSync(tomlPath, "utf8")) as {
    webhooks?: {
      api_version?: string;
      subscriptions?: { topics?: string[]; compliance_topics?: string[]; uri: string }[];
    };
  };
  const subscriptions: Subscription[] = [];
  for (const block of config.webhooks?.subscriptions ?? []) {
    for (const topic of block.topics ?? []) subscriptions.push({ topic, uri: block.uri, compliance: false });
    for (const topic of block.compliance_topics ?? []) subscriptions.push({ topic, uri: block.uri, compliance: true });
  }
  return { apiVersion: config.webhooks?.api_version ?? SIMULATED_API_VERSION, subscriptions };
}

export interface DeliveryAttempt {
  webhookId: string;
  status: number | null;
  error?: string;
  durationMs: number;
}

export interface DeliveryReport {
  topic: string;
  shop: string;
  eventId: string;
  delivered: boolean;
  attempts: DeliveryAttempt[];
}

export interface WebhookSenderOptions {
  appUrl: () => string;
  apiSecret: string;
  tomlPath: string;
  /** Shopify tries 8 times over about 4 hours; tests shrink the delays. */
  maxAttempts?: number;
  baseDelayMs?: number;
  timeoutMs?: number;
}

export function signWebhookBody(body: string, secret: string) {
  return createHmac("sha256", secret).update(body, "utf8").digest("base64");
}

export class WebhookSender {
  readonly deliveries: DeliveryReport[] = [];
  private readonly apiVersion: string;
  private readonly subscriptions: Subscription[];

  constructor(private readonly options: WebhookSenderOptions) {
    const config = readSubscriptions(options.tomlPath);
    this.apiVersion = config.apiVersion;
    this.subscriptions = config.subscriptions;
  }

  subscribedTopics() {
    return this.subscriptions.map((subscription) => subscription.topic);
  }

  /**
   * Delivers one event to every subscription of its topic. `duplicates`
   * sends the same event again as separate deliveries (same event id, new
   * webhook id), as Shopify occasionally does.
   */
  async deliver(
    topic: string,
    shop: string,
    payload: unknown,
    options: { duplicates?: number; eventId?: string; waitForRetries?: boolean } = {},
  ) {
    const targets = this.subscriptions.filter((subscription) => subscription.topic === topic);
    if (targets.length === 0) throw new Error(`the app does not subscribe to ${topic} in shopify.app.toml`);
    const eventId = options.eventId ?? randomUUID();
    const body = JSON.stringify(payload);
    const triggeredAt = new Date().toISOString();
    const reports: DeliveryReport[] = [];
    for (const target of targets) {
      for (let copy = 0; copy <= (options.duplicates ?? 0); copy++) {
        const delivery = this.deliverOnce(target, topic, shop, body, eventId, triggeredAt);
        reports.push(options.waitForRetries === false ? await delivery.firstAttempt : await delivery.done);
      }
    }
    return reports;
  }

  /** `firstAttempt` settles after the first try, `done` after the last; both give the same live report. */
  private deliverOnce(
    target: Subscription,
    topic: string,
    shop: string,
    body: string,
    eventId: string,
    triggeredAt: string,
  ) {
    let firstAttempt!: (report: DeliveryReport) => void;
    const first = new Promise<DeliveryReport>((resolve) => (firstAttempt = resolve));
    const done = this.attemptAll(target, topic, shop, body, eventId, triggeredAt, firstAttempt).then((report) => {
      firstAttempt(report);
      return report;
    });
    return { firstAttempt: first, done };
  }

  private async attemptAll(
    target: Subscription,
    topic: string,
    shop: string,
    body: string,
    eventId: string,
    triggeredAt: string,
    afterFirstAttempt: (report: DeliveryReport) => void,
  ): Promise<DeliveryReport> {
    const url = new URL(target.uri, this.options.appUrl()).toString();
    const webhookId = randomUUID();
    const report: DeliveryReport = { topic, shop, eventId, delivered: false, attempts: [] };
    this.deliveries.push(report);
    const maxAttempts = this.options.maxAttempts ?? 8;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      if (attempt === 1) afterFirstAttempt(report);
      if (attempt > 0) await sleep((this.options.baseDelayMs ?? 60_000) * 2 ** (attempt - 1));
      const started = performance.now();
      try {
        const response = await fetch(url, {
          method: "POST",
          body,
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 5_000),
          headers: {
            "content-type": "application/json",
            "user-agent": "Shopify-Captain-Hook",
            "x-shopify-topic": topic,
            "x-shopify-shop-domain": shop,
            "x-shopify-api-version": this.apiVersion,
            "x-shopify-webhook-id": webhookId,
            "x-shopify-event-id": eventId,
            "x-shopify-triggered-at": triggeredAt,
            "x-shopify-hmac-sha256": signWebhookBody(body, this.options.apiSecret),
          },
        });
        await response.arrayBuffer();
        report.attempts.push({ webhookId, status: response.status, durationMs: performance.now() - started });
        if (response.ok) {
          report.delivered = true;
          return report;
        }
      } catch (error) {
        report.attempts.push({
          webhookId,
          status: null,
          error: (error as Error).message,
          durationMs: performance.now() - started,
        });
      }
    }
    return report;
  }
}
