import { randomBytes, randomUUID } from "node:crypto";
import { Prisma } from "@prisma/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pgPool } from "../../app/db.server";
import { createPull } from "../../app/models/pulls.server";
import { createPixelEventPartition, pixelEventPartitionName, storeEvents } from "../../app/models/pixel.server";
import { applyRetention } from "../../app/services/data-retention.server";
import { simulatedInstall } from "../helpers/installed-shop";
import { startAppServer, startWorker, waitFor, type RunningProcess } from "../helpers/processes";

/**
 * The data-retention job against real Postgres: pixel events in day partitions (new ones land in theirs, days
 * without one wait in the default partition until the job moves them), expiry by dropping whole days, pruned
 * webhook payloads, expired exports, AI call records and rate-limit windows, all while a pull imports and the
 * pixel endpoint stores a burst beside it; nothing younger than its period is touched, and a second run
 * changes nothing.
 */

type Install = Awaited<ReturnType<typeof simulatedInstall>>;
let install: Install;
let app: RunningProcess & { url: string };
let worker: RunningProcess;

const DAY_MS = 86_400_000;
const RETENTION_DAYS = 90; // the default of PIXEL_EVENT_RETENTION_DAYS
const startOfUtcDay = (at: Date) => new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS);
const daysAgo = (days: number, from = Date.now()) => new Date(from - days * DAY_MS);

beforeAll(async () => {
  install = await simulatedInstall({ size: "small" });
  const env = { ...install.env, NODE_ENV: "production" };
  [app, worker] = await Promise.all([startAppServer(env), startWorker(env)]);
  install.simulator.setAppUrl(app.url);
});

afterAll(async () => {
  await Promise.all([app?.stop(), worker?.stop()]);
  await install?.close();
});

function pixelEvent(shop: string, occurredAt: Date, clientId = "client-retention") {
  return { shop, eventId: randomUUID(), name: "page_viewed", clientId, occurredAt, url: null, data: null };
}

/** Which table of PixelEvent holds each of the events. */
async function partitionsOf(eventIds: string[]) {
  const { rows } = await pgPool.query<{ eventId: string; partition: string }>(
    `SELECT "eventId", tableoid::regclass::text AS partition FROM "PixelEvent" WHERE "eventId" = ANY($1::text[])`,
    [eventIds],
  );
  return new Map(rows.map((row) => [row.eventId, row.partition.replaceAll('"', "")]));
}

async function partitionNames() {
  const { rows } = await pgPool.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = '"PixelEvent"'::regclass ORDER BY 1`,
  );
  return rows.map((row) => row.name);
}

describe("pixel event partitions", () => {
  it("stores a new event in its day's partition, a day without one in the default partition, and the job moves it into a partition of its own", async () => {
    const shop = `partitions-${randomBytes(3).toString("hex")}.myshopify.com`;
    const now = new Date();
    // The job (which the worker runs when it starts) has made today's and the coming days' partitions.
    await applyRetention(now);
    const today = pixelEvent(shop, now);
    const tomorrow = pixelEvent(shop, new Date(now.getTime() + DAY_MS));
    // Twelve days back has no partition yet.
    const earlier = pixelEvent(shop, daysAgo(12, now.getTime()));
    expect(await storeEvents([today, tomorrow, earlier], [])).toBe(3);

    const before = await partitionsOf([today.eventId, tomorrow.eventId, earlier.eventId]);
    expect(before.get(today.eventId)).toBe(pixelEventPartitionName(startOfUtcDay(now)));
    expect(before.get(tomorrow.eventId)).toBe(pixelEventPartitionName(startOfUtcDay(tomorrow.occurredAt)));
    expect(before.get(earlier.eventId)).toBe("PixelEvent_default");

    const report = await applyRetention(now);
    expect(report.deferred).toEqual([]);
    expect(report.eventsMovedFromDefault).toBeGreaterThanOrEqual(1);
    const earlierDay = startOfUtcDay(earlier.occurredAt);
    expect(report.partitionsCreated).toContain(earlierDay.toISOString().slice(0, 10));
    const after = await partitionsOf([earlier.eventId]);
    expect(after.get(earlier.eventId)).toBe(pixelEventPartitionName(earlierDay));
    // The coming week's partitions exist, so ingest does not rely on the default partition.
    const names = await partitionNames();
    for (let day = 0; day <= 7; day++) {
      expect(names).toContain(pixelEventPartitionName(startOfUtcDay(new Date(now.getTime() + day * DAY_MS))));
    }
    // Prisma reads the partitioned table as one.
    expect(await install.prisma.pixelEvent.count({ where: { shop } })).toBe(3);
  });

  it("stores a repeated delivery of an event once", async () => {
    const shop = `repeat-${randomBytes(3).toString("hex")}.myshopify.com`;
    const event = pixelEvent(shop, new Date());
    expect(await storeEvents([event], [])).toBe(1);
    expect(await storeEvents([event], [])).toBe(0);
    expect(await install.prisma.pixelEvent.count({ where: { shop } })).toBe(1);
  });
});

describe("the data-retention job", () => {
  it("drops expired partitions and prunes payloads, delivery records, exports, AI calls, rate-limit windows and unconfirmed checkout claims while a pull and a pixel burst run beside it, keeps everything younger than its period, and a second run changes nothing", async () => {
    const shop = install.shop;
    // Half an hour ahead of the clock: the app's own sweep of rate-limit windows (older than an hour) then
    // cannot be what removed the window below, which only the job's period reaches.
    const now = new Date(Date.now() + 30 * 60_000);
    const cutoff = daysAgo(RETENTION_DAYS, now.getTime());

    // Pixel events on both sides of the period, in day partitions of their own (as earlier runs made them).
    const expired = [
      pixelEvent(shop, daysAgo(120, now.getTime())),
      pixelEvent(shop, daysAgo(RETENTION_DAYS + 1.5, now.getTime())),
    ];
    const kept = [
      pixelEvent(shop, new Date(cutoff.getTime() + 60_000)),
      pixelEvent(shop, daysAgo(RETENTION_DAYS - 1, now.getTime())),
      pixelEvent(shop, daysAgo(30, now.getTime())),
    ];
    for (const event of [...expired, ...kept]) await createPixelEventPartition(startOfUtcDay(event.occurredAt));
    // One more expired event that waited in the default partition: a day whose partition was never made.
    const expiredInDefault = pixelEvent(shop, daysAgo(200, now.getTime()));
    expect(await storeEvents([...expired, ...kept, expiredInDefault], [])).toBe(6);
    expect((await partitionsOf([expiredInDefault.eventId])).get(expiredInDefault.eventId)).toBe("PixelEvent_default");

    // Webhook deliveries: only one processed (or ignored: a never-installed shop's, a superseded scope list) past
    // the period loses its payload; its record stays.
    const payload = { email: "someone@example.com", address1: "1 Main St" };
    const delivery = (status: string, processedDaysAgo: number | null, receivedDaysAgo: number) =>
      install.prisma.webhookDelivery.create({
        data: {
          shop,
          topic: "orders/create",
          dedupeKey: randomUUID(),
          webhookId: randomUUID(),
          payload,
          status,
          receivedAt: daysAgo(receivedDaysAgo, now.getTime()),
          processedAt: processedDaysAgo === null ? null : daysAgo(processedDaysAgo, now.getTime()),
        },
      });
    const oldProcessed = await delivery("processed", 8, 8);
    const recentProcessed = await delivery("processed", 6, 6);
    const oldFailed = await delivery("failed", null, 20);
    const oldIgnored = await delivery("ignored", 8, 8);
    // Records go too, long after their payload: a processed one past 90 days; a failed one as old stays.
    const expiredRecord = await delivery("processed", 91, 91);
    const oldFailedRecord = await delivery("failed", null, 120);
    const exportOf = (completedDaysAgo: number) =>
      install.prisma.dataRequest.create({
        data: {
          shop,
          customerId: "gid://shopify/Customer/1",
          status: "ready",
          export: { customer: { email: "someone@example.com" } },
          completedAt: daysAgo(completedDaysAgo, now.getTime()),
        },
      });
    const oldExport = await exportOf(31);
    const recentExport = await exportOf(29);
    const aiCall = (createdDaysAgo: number) =>
      install.prisma.aiCall.create({
        data: {
          shop,
          purpose: "segment-names",
          model: "test",
          costUsd: new Prisma.Decimal(0),
          outcome: "ok",
          durationMs: 1,
          createdAt: daysAgo(createdDaysAgo, now.getTime()),
        },
      });
    const oldCall = await aiCall(401);
    const recentCall = await aiCall(399);
    const windowKey = `retention-test:${randomUUID()}`;
    await install.prisma.rateLimitWindow.createMany({
      data: [
        { key: windowKey, windowStart: new Date(now.getTime() - 75 * 60_000), count: 1 },
        { key: windowKey, windowStart: new Date(now.getTime() - 50 * 60_000), count: 1 },
      ],
    });

    // Checkout claims still waiting for their order: one past the period, one within it.
    const claim = (clientId: string, claimedDaysAgo: number) => ({
      shop,
      clientId,
      orderId: "gid://shopify/Order/999999999999",
      customerId: "gid://shopify/Customer/1",
      claimedAt: daysAgo(claimedDaysAgo, now.getTime()),
    });
    const staleClaimClient = `claim-${randomUUID()}`;
    const waitingClaimClient = `claim-${randomUUID()}`;
    await install.prisma.pixelIdentityClaim.createMany({
      data: [claim(staleClaimClient, 8), claim(waitingClaimClient, 6)],
    });

    // An import and a pixel burst run beside the job.
    const accountId = randomBytes(24).toString("base64url");
    await install.prisma.pixelConnection.create({
      data: { shop, accountId, ingestUrl: `${app.url}/api/pixel/events`, status: "connected" },
    });
    const pull = await createPull({ shop, kind: "full", trigger: "merchant" });
    await waitFor(
      async () => (await install.prisma.dataPull.findUnique({ where: { id: pull.id } }))?.status === "running",
      30_000,
      "the pull to start",
    );
    const acknowledged: string[] = [];
    const burst = async () => {
      for (let request = 0; request < 60; request++) {
        const events = Array.from({ length: 20 }, () => ({
          id: randomUUID(),
          name: "page_viewed",
          timestamp: new Date().toISOString(),
          clientId: `burst-${request % 7}`,
          url: "https://shop.example/",
        }));
        const response = await fetch(`${app.url}/api/pixel/events`, {
          method: "POST",
          headers: { "content-type": "text/plain;charset=UTF-8", origin: "null" },
          body: JSON.stringify({ accountId, events }),
        });
        expect(response.status).toBe(202);
        acknowledged.push(...events.map((event) => event.id));
      }
    };
    const [report] = await Promise.all([applyRetention(now), burst(), burst()]);

    expect(report.deferred).toEqual([]);
    expect(report.partitionsDropped).toEqual(
      expect.arrayContaining(expired.map((event) => pixelEventPartitionName(startOfUtcDay(event.occurredAt)))),
    );
    expect(report.defaultPartitionEventsDeleted).toBeGreaterThanOrEqual(1);
    expect(report.webhookPayloadsPruned).toBeGreaterThanOrEqual(1);
    expect(report.exportsExpired).toBeGreaterThanOrEqual(1);
    expect(report.aiCallsDeleted).toBeGreaterThanOrEqual(1);
    expect(report.rateLimitWindowsDeleted).toBeGreaterThanOrEqual(1);

    const names = await partitionNames();
    for (const event of expired) expect(names).not.toContain(pixelEventPartitionName(startOfUtcDay(event.occurredAt)));
    const remaining = await install.prisma.pixelEvent.findMany({
      where: { eventId: { in: [...expired, expiredInDefault, ...kept].map((event) => event.eventId) } },
      select: { eventId: true },
    });
    expect(remaining.map((event) => event.eventId).sort()).toEqual(kept.map((event) => event.eventId).sort());
    // Every event younger than the period survives: no kept partition was touched.
    const { rows } = await pgPool.query<{ oldest: Date | null }>(
      `SELECT min("occurredAt") AS oldest FROM "PixelEvent" WHERE shop = $1`,
      [shop],
    );
    expect(rows[0]!.oldest!.getTime()).toBeGreaterThanOrEqual(startOfUtcDay(cutoff).getTime());

    const deliveries = await install.prisma.webhookDelivery.findMany({
      where: {
        id: {
          in: [oldProcessed.id, recentProcessed.id, oldFailed.id, oldIgnored.id, expiredRecord.id, oldFailedRecord.id],
        },
      },
    });
    const byId = new Map(deliveries.map((d) => [d.id, d]));
    expect(byId.get(oldProcessed.id)?.payload).toBeNull();
    expect(byId.get(oldProcessed.id)?.status).toBe("processed");
    expect(byId.get(recentProcessed.id)?.payload).toEqual(payload);
    expect(byId.get(oldFailed.id)?.payload).toEqual(payload);
    expect(byId.get(oldIgnored.id)).toMatchObject({ payload: null, status: "ignored" });
    expect(byId.has(expiredRecord.id)).toBe(false);
    expect(byId.get(oldFailedRecord.id)).toMatchObject({ status: "failed", payload });

    const exports = await install.prisma.dataRequest.findMany({
      where: { id: { in: [oldExport.id, recentExport.id] } },
    });
    const exportById = new Map(exports.map((e) => [e.id, e]));
    expect(exportById.get(oldExport.id)).toMatchObject({ status: "expired", export: null });
    expect(exportById.get(recentExport.id)?.status).toBe("ready");
    expect(exportById.get(recentExport.id)?.export).not.toBeNull();

    const calls = await install.prisma.aiCall.findMany({ where: { id: { in: [oldCall.id, recentCall.id] } } });
    expect(calls.map((call) => call.id)).toEqual([recentCall.id]);
    expect(await install.prisma.rateLimitWindow.count({ where: { key: windowKey } })).toBe(1);
    const claims = await install.prisma.pixelIdentityClaim.findMany({
      where: { clientId: { in: [staleClaimClient, waitingClaimClient] } },
    });
    expect(claims.map((c) => c.clientId)).toEqual([waitingClaimClient]);

    // The burst lost nothing to the partition changes, and the import finished with every row.
    expect(await install.prisma.pixelEvent.count({ where: { eventId: { in: acknowledged } } })).toBe(
      acknowledged.length,
    );
    const finished = await waitFor(
      async () => {
        const found = await install.prisma.dataPull.findUnique({ where: { id: pull.id } });
        return found && ["succeeded", "failed", "cancelled"].includes(found.status) ? found : undefined;
      },
      120_000,
      "the pull to finish",
    );
    expect(finished.status).toBe("succeeded");
    const truth = install.truth();
    expect(await install.prisma.order.count({ where: { shop } })).toBe(truth.orders);
    expect(await install.prisma.customer.count({ where: { shop } })).toBe(truth.customers);

    // Idempotent: run again, nothing more to do.
    const again = await applyRetention(now);
    expect(again).toEqual({
      partitionsCreated: [],
      eventsMovedFromDefault: 0,
      partitionsDropped: [],
      defaultPartitionEventsDeleted: 0,
      webhookPayloadsPruned: 0,
      webhookRecordsDeleted: 0,
      exportsExpired: 0,
      aiCallsDeleted: 0,
      rateLimitWindowsDeleted: 0,
      identityClaimsExpired: 0,
      deferred: [],
    });
    expect(await partitionNames()).toEqual(names);
  }, 240_000);
});
