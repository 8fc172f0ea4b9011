import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { createPull, requestCancel } from "../../app/models/pulls.server";
import { simulatedInstall } from "../helpers/installed-shop";
import { startWorker, waitFor, type RunningProcess } from "../helpers/processes";

/** Data pulls end to end: the real worker process against the simulated store and real Postgres. */

type Install = Awaited<ReturnType<typeof simulatedInstall>>;

async function waitForPull(install: Install, id: string, timeoutMs = 45_000) {
  try {
    return await waitFor(
      async () => {
        const pull = await install.prisma.dataPull.findUnique({ where: { id }, include: { steps: true } });
        return pull && ["succeeded", "failed", "cancelled"].includes(pull.status) ? pull : undefined;
      },
      timeoutMs,
      `pull ${id}`,
    );
  } catch (error) {
    const steps = await install.prisma.dataPullStep.findMany({ where: { pullId: id } });
    const summary = steps.map(({ resource, status, processed, total, error: stepError, bulkStatus }) => ({
      resource,
      status,
      processed,
      total,
      stepError,
      bulkStatus,
    }));
    throw new Error(`${(error as Error).message}: ${JSON.stringify(summary)}`);
  }
}

function expectNoStepStartedAfter(pull: { steps: { resource: string; startedAt: Date | null }[] }, cancel: Date) {
  const late = pull.steps.filter((step) => step.startedAt && step.startedAt > cancel);
  expect(late.map((step) => step.resource)).toEqual([]);
}

describe("bulk pulls", () => {
  let install: Install;
  let worker: RunningProcess;
  beforeAll(async () => {
    install = await simulatedInstall({ size: "small" });
    worker = await startWorker(install.env);
  });
  afterAll(async () => {
    await worker?.stop();
    await install?.close();
  });

  it("pulls every customer, product, variant, order, line item and transaction, with exact money", async () => {
    const pull = await createPull({ shop: install.shop, kind: "full", trigger: "merchant" });
    expect(pull.mode).toBe("bulk");
    const finished = await waitForPull(install, pull.id);
    expect(finished.status, JSON.stringify(finished.steps.map((s) => [s.resource, s.status, s.error]))).toBe(
      "succeeded",
    );
    expect(await install.counts()).toEqual(install.truth());
    // Progress speaks of the records the Data page's tiles count; line items and variants apart.
    const truth = install.truth();
    const byResource = Object.fromEntries(
      finished.steps.map((step) => [
        step.resource,
        {
          processed: step.processed,
          total: step.total,
          children: step.children,
          read: step.bytesRead === step.fileSize,
        },
      ]),
    );
    expect(byResource).toEqual({
      customers: { processed: truth.customers, total: truth.customers, children: 0, read: true },
      products: { processed: truth.products, total: truth.products, children: truth.variants, read: true },
      orders: { processed: truth.orders, total: truth.orders, children: truth.lineItems, read: true },
    });
    for (const step of finished.steps) expect(Number(step.fileSize)).toBeGreaterThan(0);
  });

  it("stores each order's net revenue as the store's own figures give it, discounts and refunds included", async () => {
    // counts() above already matched the sums; here order by order, on the kinds the store holds.
    const orders = await install.prisma.order.findMany({
      where: { shop: install.shop },
      select: { legacyId: true, netRevenue: true },
    });
    const byId = new Map(orders.map((order) => [Number(order.legacyId), Math.round(Number(order.netRevenue) * 100)]));
    const kinds = { orderLevelCode: 0, lineLevelCode: 0, automatic: 0, refunded: 0 };
    for (let i = 0; i < install.data.orderCount; i++) {
      const order = install.data.order(i)!;
      expect(byId.get(order.id), order.name).toBe(order.netCents);
      if (order.discountTarget === "ALL") kinds.orderLevelCode++;
      if (order.discountTarget === "ENTITLED") kinds.lineLevelCode++;
      if (order.lineItems.some((item) => item.automaticDiscountCents > 0)) kinds.automatic++;
      if (order.refundedCents > 0) kinds.refunded++;
    }
    for (const [kind, count] of Object.entries(kinds)) expect(count, kind).toBeGreaterThan(10);
  });

  it("changes nothing when run again over unchanged data", async () => {
    const before = await install.prisma.$queryRaw<{ synced: Date; xmins: string }[]>`
      SELECT max("syncedAt") AS synced, string_agg(xmin::text, ',' ORDER BY id) AS xmins FROM "Order" WHERE shop = ${install.shop}`;
    const pull = await createPull({ shop: install.shop, kind: "full", trigger: "merchant" });
    expect((await waitForPull(install, pull.id)).status).toBe("succeeded");
    const after = await install.prisma.$queryRaw<{ synced: Date; xmins: string }[]>`
      SELECT max("syncedAt") AS synced, string_agg(xmin::text, ',' ORDER BY id) AS xmins FROM "Order" WHERE shop = ${install.shop}`;
    expect(after[0]).toEqual(before[0]);
    expect(await install.counts()).toEqual(install.truth());
  });

  it("restarts a failed bulk operation, keeping its partial data, and still ends exact", async () => {
    install.simulator
      .runtime(install.shop)!
      .failNextBulkOperation({ afterObjects: 100, errorCode: "INTERNAL_SERVER_ERROR" });
    await install.prisma.customer.deleteMany({ where: { shop: install.shop } });
    const pull = await createPull({ shop: install.shop, kind: "full", resources: ["customers"], trigger: "merchant" });
    const finished = await waitForPull(install, pull.id);
    expect(finished.status).toBe("succeeded");
    expect(finished.steps[0]!.attempts).toBe(1);
    expect(await install.prisma.customer.count({ where: { shop: install.shop } })).toBe(install.truth().customers);
  });

  it("cancels a running pull within seconds", async () => {
    // Workers share the database; the one above talks to another simulator.
    await worker.stop();
    // Shopify prepares slowly enough that its exports are still running when the cancel reaches it, even on a
    // loaded machine (at 500 ms a page the orders export once completed first, and nothing was left to cancel).
    const slow = await simulatedInstall({ size: "small", adminLatencyMs: 300, bulkPageDelayMs: 2_000 });
    const slowWorker = await startWorker(slow.env);
    try {
      const pull = await createPull({ shop: slow.shop, kind: "full", mode: "paginated", trigger: "merchant" });
      await waitFor(
        async () =>
          (await slow.prisma.dataPullStep.findFirst({ where: { pullId: pull.id, processed: { gt: 0 } } })) ?? undefined,
        30_000,
        "progress",
      );
      const asked = Date.now();
      expect(await requestCancel(slow.shop, pull.id)).toBe(true);
      const finished = await waitForPull(slow, pull.id, 15_000);
      const stoppedMs = Date.now() - asked;
      expect(finished.status, JSON.stringify(finished.steps.map((s) => [s.resource, s.status, s.error]))).toBe(
        "cancelled",
      );
      // The product target is 5 s; the bound leaves room for a loaded 2-core machine.
      expect(stoppedMs).toBeLessThan(7_000);
      expect(finished.steps.every((step) => step.status === "cancelled")).toBe(true);
      expectNoStepStartedAfter(finished, finished.cancelRequestedAt!);
      console.info(`paginated pull stopped ${stoppedMs} ms after the cancel request`);

      // A bulk pull cancelled while Shopify prepares its exports: the operations are cancelled at Shopify.
      const bulk = await createPull({ shop: slow.shop, kind: "full", mode: "bulk", trigger: "merchant" });
      await waitFor(
        async () =>
          (await slow.prisma.dataPullStep.findFirst({
            where: { pullId: bulk.id, bulkStatus: "RUNNING" },
          })) ?? undefined,
        30_000,
        "a bulk operation running",
      );
      const bulkAsked = Date.now();
      expect(await requestCancel(slow.shop, bulk.id)).toBe(true);
      const bulkFinished = await waitForPull(slow, bulk.id, 15_000);
      const bulkStoppedMs = Date.now() - bulkAsked;
      expect(bulkFinished.status).toBe("cancelled");
      expect(bulkStoppedMs).toBeLessThan(7_000);
      expectNoStepStartedAfter(bulkFinished, bulkFinished.cancelRequestedAt!);
      const operations = [...slow.simulator.runtime(slow.shop)!.bulkOperations.values()];
      const started = bulkFinished.steps.flatMap((step) => (step.bulkOperationId ? [step.bulkOperationId] : []));
      expect(started.length).toBeGreaterThan(0);
      const atShopify = () =>
        bulkFinished.steps.map((step) => [
          step.resource,
          step.bulkStatus,
          operations.find((op) => op.id === step.bulkOperationId)?.status,
        ]);
      await waitFor(
        async () =>
          // Those Shopify finished before the request (the small resources) cannot be cancelled any more.
          (started.every((id) =>
            ["CANCELED", "CANCELING", "COMPLETED"].includes(operations.find((op) => op.id === id)!.status),
          ) &&
            started.some((id) => operations.find((op) => op.id === id)!.status === "CANCELED")) ||
          undefined,
        5_000,
        "bulk operations cancelled at Shopify",
      ).catch((error: Error) => {
        throw new Error(`${error.message}: ${JSON.stringify(atShopify())}`);
      });
      console.info(`bulk pull stopped ${bulkStoppedMs} ms after the cancel request`);
    } finally {
      await slowWorker.stop();
      await slow.close();
    }
  });
});

describe("paginated pulls", () => {
  it("paces itself by the throttle status: no THROTTLED answers, exact counts", async () => {
    const install = await simulatedInstall({ size: "tiny", bucketSize: 1000, restoreRate: 1000 });
    const worker = await startWorker(install.env);
    try {
      const pull = await createPull({ shop: install.shop, kind: "full", mode: "paginated", trigger: "merchant" });
      const finished = await waitForPull(install, pull.id);
      expect(finished.status, JSON.stringify(finished.steps.map((s) => [s.resource, s.error]))).toBe("succeeded");
      expect(await install.counts()).toEqual(install.truth());
      expect(install.simulator.runtime(install.shop)!.counters.throttled).toBe(0);
      expect(finished.steps.reduce((sum, step) => sum + step.throttled, 0)).toBe(0);
      expect(finished.steps.reduce((sum, step) => sum + step.pointsUsed, 0)).toBeGreaterThan(0);
    } finally {
      await worker.stop();
      await install.close();
    }
  });

  it("fetches only what changed since the last successful pull", async () => {
    const install = await simulatedInstall({ size: "tiny", bucketSize: 10000, restoreRate: 5000 });
    const worker = await startWorker(install.env);
    try {
      expect(
        (await waitForPull(install, (await createPull({ shop: install.shop, kind: "full", trigger: "merchant" })).id))
          .status,
      ).toBe("succeeded");
      await install.simulator.trigger({ event: "customers/update", shop: install.shop, customer: 4 });
      await install.simulator.trigger({ event: "orders/create", shop: install.shop, customer: 4 });
      const incremental = await createPull({ shop: install.shop, kind: "incremental", trigger: "merchant" });
      expect(incremental.mode).toBe("paginated");
      const finished = await waitForPull(install, incremental.id);
      expect(finished.status).toBe("succeeded");
      const byResource = Object.fromEntries(finished.steps.map((step) => [step.resource, step.processed]));
      expect(byResource).toEqual({ customers: 1, orders: 1, products: 0 });
      expect(await install.counts()).toEqual(install.truth());
      const customer = await install.prisma.customer.findFirst({
        where: { shop: install.shop, tags: { has: "updated" } },
      });
      expect(customer).not.toBeNull();
    } finally {
      await worker.stop();
      await install.close();
    }
  });

  it("resumes after the worker is killed mid-pull and ends with exact counts", async () => {
    const install = await simulatedInstall({
      size: "tiny",
      adminLatencyMs: 40,
      bucketSize: 20000,
      restoreRate: 10000,
    });
    // Stopped also when the test times out (its body then runs on): a worker left running would take the
    // next tests' jobs to this test's simulator and fail them.
    let over = false;
    const started: RunningProcess[] = [];
    onTestFinished(async () => {
      over = true;
      await Promise.all(started.map((running) => running.stop("SIGKILL")));
    });
    const start = async () => {
      const running = await startWorker(install.env);
      started.push(running);
      if (over) await running.stop("SIGKILL");
      return running;
    };
    let worker = await start();
    try {
      // Killed while its 6th Admin request (the count, then pages) is in flight: mid-pull however fast
      // or slow the machine is, with the pages before it committed.
      const first = worker;
      let requests = 0;
      const killed = new Promise<unknown>((resolve) => {
        const onRequest = (shop: string) => {
          if (shop !== install.shop || ++requests < 6) return;
          install.simulator.events.off("adminRequest", onRequest);
          first.stop("SIGKILL").then(resolve, resolve);
        };
        install.simulator.events.on("adminRequest", onRequest);
      });
      const pull = await createPull({
        shop: install.shop,
        kind: "full",
        mode: "paginated",
        resources: ["orders"],
        trigger: "merchant",
      });
      await killed;
      const atKill = await install.prisma.dataPullStep.findFirstOrThrow({ where: { pullId: pull.id } });
      expect(atKill.status).toBe("running");
      expect(atKill.processed).toBeGreaterThan(0);
      expect(atKill.processed).toBeLessThan(install.truth().orders);
      worker = await start();
      const finished = await waitForPull(install, pull.id);
      expect(finished.status).toBe("succeeded");
      const truth = install.truth();
      const counts = await install.counts();
      expect({
        orders: counts.orders,
        lineItems: counts.lineItems,
        transactions: counts.transactions,
        totalCents: counts.totalCents,
        netCents: counts.netCents,
      }).toEqual({
        orders: truth.orders,
        lineItems: truth.lineItems,
        transactions: truth.transactions,
        totalCents: truth.totalCents,
        netCents: truth.netCents,
      });
      expect(finished.steps[0]!.processed).toBe(truth.orders);
    } finally {
      await worker.stop();
      await install.close();
    }
  });
});

describe("failures", () => {
  it("retries transient 5xx answers and succeeds", async () => {
    const install = await simulatedInstall({ size: "tiny", bucketSize: 10000, restoreRate: 5000 });
    const worker = await startWorker(install.env);
    try {
      install.simulator.failAdminRequests(install.shop, 503, 1);
      const pull = await createPull({
        shop: install.shop,
        kind: "full",
        mode: "paginated",
        resources: ["customers"],
        trigger: "merchant",
      });
      const finished = await waitForPull(install, pull.id);
      expect(finished.status).toBe("succeeded");
      expect(await install.prisma.customer.count({ where: { shop: install.shop } })).toBe(install.truth().customers);
    } finally {
      await worker.stop();
      await install.close();
    }
  });

  it("fails clearly on 401 and marks the shop as needing re-authentication", async () => {
    const install = await simulatedInstall({ size: "tiny" });
    const worker = await startWorker(install.env);
    try {
      install.simulator.store.revokeShopTokens(install.shop);
      const pull = await createPull({
        shop: install.shop,
        kind: "full",
        resources: ["customers"],
        trigger: "merchant",
      });
      const finished = await waitForPull(install, pull.id);
      expect(finished.status).toBe("failed");
      expect(finished.error).toMatch(/401/);
      expect(
        (await install.prisma.shop.findUniqueOrThrow({ where: { domain: install.shop } })).needsReauthAt,
      ).not.toBeNull();
    } finally {
      await worker.stop();
      await install.close();
    }
  });
});

describe("bulk operations at once", () => {
  it("prepares and imports a full pull's resources at once, each by its own operation; one after another with PULL_BULK_CONCURRENCY=1", async () => {
    // Orders take Shopify 12 pages at 300 ms to prepare; customers and products far less.
    const install = await simulatedInstall({ size: "small", bulkPageDelayMs: 300 });
    const operations = () => [...install.simulator.runtime(install.shop)!.bulkOperations.values()];
    const fullPull = async (env: Record<string, string>) => {
      const worker = await startWorker({ ...install.env, ...env });
      try {
        const pull = await createPull({ shop: install.shop, kind: "full", trigger: "merchant" });
        const finished = await waitForPull(install, pull.id, 90_000);
        expect(finished.status, JSON.stringify(finished.steps.map((s) => [s.resource, s.error]))).toBe("succeeded");
        const ids = finished.steps.map((step) => step.bulkOperationId);
        expect(new Set(ids).size).toBe(3);
        const ops = ids.map((id) => operations().find((op) => op.id === id)!);
        return {
          steps: finished.steps,
          ops: ops.map((op) => ({ ...op, created: Date.parse(op.createdAt), completed: Date.parse(op.completedAt!) })),
        };
      } finally {
        await worker.stop();
      }
    };
    try {
      const parallel = await fullPull({});
      const orders = parallel.ops[parallel.steps.findIndex((step) => step.resource === "orders")]!;
      // Every operation was asked for while the orders export was still being prepared.
      for (const op of parallel.ops) expect(op.created).toBeLessThan(orders.completed);
      expect(await install.counts()).toEqual(install.truth());

      const sequential = await fullPull({ PULL_BULK_CONCURRENCY: "1" });
      const byStart = sequential.steps
        .map((step, i) => ({ step, op: sequential.ops[i]! }))
        .sort((a, b) => a.op.created - b.op.created);
      // Each operation started only once the resource before it had been prepared and imported.
      for (let i = 1; i < byStart.length; i++) {
        expect(byStart[i]!.op.created).toBeGreaterThanOrEqual(byStart[i - 1]!.op.completed);
        expect(byStart[i]!.op.created).toBeGreaterThanOrEqual(byStart[i - 1]!.step.finishedAt!.getTime());
      }
      expect(await install.counts()).toEqual(install.truth());
    } finally {
      await install.close();
    }
    // Two full pulls of the small store; a loaded 2-core machine takes over a minute for one.
  }, 300_000);
});
