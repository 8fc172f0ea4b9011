import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createDatabaseIfMissing, ensureDatabase, migrate } from "../../scripts/database";
import { TEST_APP } from "../helpers/app-env";
import { startFakeOpenAi } from "../helpers/fake-openai";
import { simulatedInstall } from "../helpers/installed-shop";
import { freePort, startAppServer, startWorker, waitFor, type RunningProcess } from "../helpers/processes";
import { BROWSER_HEADERS, sessionToken, signedWebhook } from "../helpers/shopify-requests";

/**
 * Reliability drills with real processes: two app servers and two workers on
 * one database under mixed load, workers killed mid-pull, PostgreSQL
 * restarted mid-run, and the LLM down while segments are computed.
 */

type Install = Awaited<ReturnType<typeof simulatedInstall>>;
type App = RunningProcess & { url: string };
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

async function connectPixel(install: Install) {
  const accountId = randomBytes(24).toString("base64url");
  await install.prisma.pixelConnection.create({
    data: {
      shop: install.shop,
      accountId,
      ingestUrl: "https://microsegment.test/api/pixel/events",
      status: "connected",
    },
  });
  return accountId;
}

/** Sends `total` pixel events in batches of ten across the apps; answers the ids of the acknowledged ones. */
async function pixelTraffic(apps: App[], accountId: string, total: number, concurrency = 8) {
  const acknowledged: string[] = [];
  let sent = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, lane) => {
      while (sent < total) {
        const events = Array.from({ length: Math.min(10, total - sent) }, () => ({
          id: randomUUID(),
          name: "page_viewed",
          timestamp: new Date().toISOString(),
          clientId: `drill-visitor-${lane}`,
        }));
        sent += events.length;
        const answer = await fetch(`${apps[sent % apps.length]!.url}/api/pixel/events`, {
          method: "POST",
          headers: { "content-type": "text/plain" },
          body: JSON.stringify({ accountId, events }),
        }).catch(() => undefined);
        if (answer?.status === 202) acknowledged.push(...events.map((event) => event.id));
        else await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }),
  );
  return acknowledged;
}

/** Signed app/scopes_update deliveries across the apps, one in ten repeating an earlier event; answers acknowledged event ids. */
async function webhookBurst(apps: App[], shop: string, total: number) {
  const eventIds: string[] = [];
  const acknowledged = new Set<string>();
  await Promise.all(
    Array.from({ length: total }, async (_, n) => {
      const eventId = n % 10 === 9 ? eventIds[n - 5]! : randomUUID();
      eventIds[n] = eventId;
      const payload = {
        id: n,
        previous: [],
        current: TEST_APP.scopes.split(","),
        updated_at: new Date().toISOString(),
      };
      const answer = await signedWebhook(apps[n % apps.length]!.url, "app/scopes_update", shop, payload, {
        eventId,
      }).catch(() => undefined);
      if (answer?.status === 200) acknowledged.add(eventId);
    }),
  );
  return acknowledged;
}

/** Job ids each worker completed, from graphile-worker's own log lines. */
function completedJobs(workers: RunningProcess[]) {
  return workers.flatMap((worker) =>
    worker
      .logs()
      .map((line) => /^Completed task (\d+) \(([\w-]+),/.exec(String(line.msg ?? "")))
      .filter((match): match is RegExpExecArray => match !== null)
      .map((match) => ({ id: match[1]!, task: match[2]! })),
  );
}

async function waitForPull(install: Install, timeoutMs = 90_000) {
  const latest = () =>
    install.prisma.dataPull.findFirst({
      where: { shop: install.shop },
      orderBy: { requestedAt: "desc" },
      include: { steps: true },
    });
  try {
    return await waitFor(
      async () => {
        const pull = await latest();
        return pull && ["succeeded", "failed", "cancelled"].includes(pull.status) ? pull : undefined;
      },
      timeoutMs,
      "the pull to finish",
    );
  } catch (error) {
    const pull = await latest();
    const jobs = await install.prisma
      .$queryRaw`SELECT task_identifier, attempts, last_error, run_at, locked_at FROM graphile_worker.jobs`;
    throw new Error(`${(error as Error).message}: ${JSON.stringify({ pull, jobs })}`);
  }
}

describe("two app servers and two workers under mixed load, the LLM down", () => {
  it("runs every job once, loses nothing, names segments once the LLM is back", { timeout: 240_000 }, async () => {
    const llm = await startFakeOpenAi({ mode: "500" });
    cleanups.push(() => llm.close());
    const install = await simulatedInstall({ size: "small", bulkPageDelayMs: 20 });
    cleanups.push(() => install.close());
    const env = {
      ...install.env,
      NODE_ENV: "production",
      LLM_API_KEY: "drill-key",
      LLM_BASE_URL: llm.url,
      LLM_MAX_RETRIES: "1",
      LLM_TIMEOUT_MS: "2000",
      SEGMENT_MIN_SIZE: "10",
      SEGMENT_NAMING_RETRY_MS: "1500",
    };
    const apps = await Promise.all([startAppServer(env), startAppServer(env)]);
    let workers = await Promise.all([startWorker(env), startWorker(env)]);
    const everyWorker = [...workers];
    const killedWorkers = [...workers];
    cleanups.push(() => Promise.all([...apps, ...workers].map((process) => process.stop())));
    install.simulator.setAppUrl(apps[0]!.url);
    const accountId = await connectPixel(install);

    const started = await fetch(`${apps[1]!.url}/api/pulls`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${sessionToken(install.shop)}`,
        "content-type": "application/json",
        ...BROWSER_HEADERS,
      },
      body: JSON.stringify({ kind: "full" }),
    });
    expect(started.status).toBe(202);
    const [pixelAcks, webhookAcks] = await Promise.all([
      pixelTraffic(apps, accountId, 1000),
      webhookBurst(apps, install.shop, 200),
      // Both workers die mid-pull, without a chance to clean up, and come back.
      (async () => {
        await waitFor(
          async () =>
            install.prisma.dataPullStep.findFirst({
              where: { shop: install.shop, status: "running", bulkOperationId: { not: null } },
            }),
          60_000,
          "a pull step under way",
        );
        await Promise.all(workers.map((worker) => worker.stop("SIGKILL")));
        workers = await Promise.all([startWorker(env), startWorker(env)]);
        everyWorker.push(...workers);
      })(),
    ]);

    const pull = await waitForPull(install);
    expect(pull.status).toBe("succeeded");
    expect(await install.counts()).toEqual(install.truth());
    expect(pixelAcks).toHaveLength(1000);
    expect(await install.prisma.pixelEvent.count({ where: { shop: install.shop } })).toBe(1000);
    expect(webhookAcks.size).toBe(180);
    await waitFor(
      async () =>
        (await install.prisma.webhookDelivery.count({
          // Handled: applied, or superseded by a later scope list of the shop in the same batch.
          where: { shop: install.shop, topic: "app/scopes_update", status: { in: ["processed", "ignored"] } },
        })) === 180,
      30_000,
      "every distinct webhook processed",
    );
    expect(
      await install.prisma.webhookDelivery.count({ where: { shop: install.shop, topic: "app/scopes_update" } }),
    ).toBe(180);
    const ignored = await install.prisma.webhookDelivery.findMany({
      where: { shop: install.shop, status: "ignored" },
      select: { note: true },
    });
    expect(ignored.filter((delivery) => !/later app\/scopes_update/.test(delivery.note ?? ""))).toEqual([]);

    // Segments appear with standard names while the model answers 500...
    const run = await waitFor(
      async () => install.prisma.segmentationRun.findFirst({ where: { shop: install.shop, status: "succeeded" } }),
      60_000,
      "segmentation after the pull",
    );
    expect(run.namingFallbacks).toBeGreaterThan(0);
    const micro = { shop: install.shop, kind: "micro", active: true };
    expect(await install.prisma.segment.count({ where: { ...micro, namedBy: "llm" } })).toBe(0);
    expect(llm.calls).toBeGreaterThan(0);
    // ...and are named by it once it is back, without another pull.
    llm.setMode("valid");
    await waitFor(
      async () => (await install.prisma.segment.count({ where: { ...micro, namedBy: "local" } })) === 0,
      60_000,
      "segments renamed by the model",
    );

    const completed = completedJobs(everyWorker);
    // Once each among the workers that lived, and once among those killed. A worker logs a job's completion
    // (graphile-worker's worker.js) before it records it, so one SIGKILLed between the two leaves the job to
    // run again on a survivor (a job runs at least once): only such a job may appear twice, once on each side.
    const survivorIds = completedJobs(everyWorker.filter((worker) => !killedWorkers.includes(worker))).map(
      (job) => job.id,
    );
    expect(new Set(survivorIds).size).toBe(survivorIds.length);
    const killedIds = completedJobs(killedWorkers).map((job) => job.id);
    expect(new Set(killedIds).size).toBe(killedIds.length);
    // At most the jobs the killed workers held at once (WORKER_CONCURRENCY, 5, each).
    expect(survivorIds.filter((id) => killedIds.includes(id)).length).toBeLessThanOrEqual(killedWorkers.length * 5);
    expect(new Set(completed.map((job) => job.task))).toEqual(
      expect.objectContaining(new Set(["pull-start", "pull-step", "webhook-process", "segmentation-run"])),
    );
    // Nothing is stuck: no job still held by a worker, none given up on. (A naming retry that failed while the
    // model was down may still wait for its next attempt; it finds nothing left to name.)
    const stuckJobs = () => install.prisma.$queryRaw<{ task: string; attempts: number; last_error: string | null }[]>`
      SELECT task_identifier AS task, attempts, max_attempts, locked_by, last_error FROM graphile_worker.jobs
      WHERE task_identifier <> 'pull-scheduled' AND (locked_at IS NOT NULL OR attempts >= max_attempts)`;
    await waitFor(async () => (await stuckJobs()).length === 0, 60_000, "no locked or failed jobs").catch(
      async (error: Error) => {
        throw new Error(`${error.message}: ${JSON.stringify(await stuckJobs())}`);
      },
    );
    const waiting = await install.prisma.$queryRaw<{ task: string }[]>`
      SELECT task_identifier AS task FROM graphile_worker.jobs WHERE task_identifier <> 'pull-scheduled'`;
    expect(waiting.map((job) => job.task).filter((task) => task !== "segment-naming-retry")).toEqual([]);
  });
});

describe("PostgreSQL restarted mid-run", () => {
  it(
    "app and worker reconnect and finish; no acknowledged event or webhook is lost",
    { timeout: 240_000 },
    async () => {
      const dataDir = mkdtempSync(path.join(tmpdir(), "drill-postgres-"));
      const port = await freePort();
      const testDatabaseUrl = process.env.DATABASE_URL;
      const startPostgres = async () => {
        delete process.env.DATABASE_URL;
        try {
          return await ensureDatabase({ dataDir, port, database: "postgres", log: () => {} });
        } finally {
          process.env.DATABASE_URL = testDatabaseUrl;
        }
      };
      let postgres = await startPostgres();
      cleanups.push(async () => {
        await postgres.stop();
        rmSync(dataDir, { recursive: true, force: true });
      });
      await createDatabaseIfMissing(postgres.url, "drill");
      const databaseUrl = postgres.url.replace(/\/postgres$/, "/drill");
      await migrate(databaseUrl);

      process.env.DATABASE_URL = databaseUrl;
      const install = await simulatedInstall({ size: "small", bulkPageDelayMs: 5 }).finally(() => {
        process.env.DATABASE_URL = testDatabaseUrl;
      });
      cleanups.push(() => install.close());
      const env = { ...install.env, NODE_ENV: "production" };
      const app = await startAppServer(env);
      const worker = await startWorker(env);
      cleanups.push(() => Promise.all([app.stop(), worker.stop()]));
      install.simulator.setAppUrl(app.url);
      const accountId = await connectPixel(install);
      await fetch(`${app.url}/api/pulls`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${sessionToken(install.shop)}`,
          "content-type": "application/json",
          ...BROWSER_HEADERS,
        },
        body: JSON.stringify({ kind: "full" }),
      });

      const restart = (async () => {
        await new Promise((resolve) => setTimeout(resolve, 1500));
        await postgres.stop();
        await new Promise((resolve) => setTimeout(resolve, 1500));
        postgres = await startPostgres();
      })();
      const [pixelAcks, webhookAcks] = await Promise.all([
        pixelTraffic([app], accountId, 3000, 4),
        (async () => {
          const acks = new Set<string>();
          for (let round = 0; round < 8; round++) {
            for (const id of await webhookBurst([app], install.shop, 20)) acks.add(id);
            await new Promise((resolve) => setTimeout(resolve, 500));
          }
          return acks;
        })(),
        restart,
      ]);

      expect(app.child.exitCode, app.output().slice(-2000)).toBeNull();
      expect(worker.child.exitCode, worker.output().slice(-2000)).toBeNull();
      const pull = await waitForPull(install, 120_000);
      expect(pull.status).toBe("succeeded");
      expect(await install.counts()).toEqual(install.truth());
      const stored = await install.prisma.pixelEvent.findMany({
        where: { shop: install.shop },
        select: { eventId: true },
      });
      const storedIds = new Set(stored.map((row) => row.eventId));
      expect(pixelAcks.filter((id) => !storedIds.has(id))).toEqual([]);
      expect(pixelAcks.length).toBeGreaterThan(0);
      const deliveries = await install.prisma.webhookDelivery.findMany({
        where: { shop: install.shop, topic: "app/scopes_update" },
        select: { dedupeKey: true },
      });
      const recorded = new Set(deliveries.map((row) => row.dedupeKey));
      expect([...webhookAcks].filter((id) => !recorded.has(id))).toEqual([]);
      await waitFor(
        async () =>
          (await install.prisma.webhookDelivery.count({
            where: { shop: install.shop, status: { notIn: ["processed", "ignored"] } },
          })) === 0,
        60_000,
        "every recorded webhook processed after the restart",
      );
    },
  );
});
