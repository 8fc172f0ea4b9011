import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPull } from "../../app/models/pulls.server";
import { requestMetafieldSync, requestMetafieldSyncCancel } from "../../app/models/customer-metafields.server";
import { METAFIELD_DEFINITIONS, METAFIELD_NAMESPACE } from "../../app/services/customer-metafields.server";
import { apiClientIdOf } from "../../simulator/server";
import { TEST_APP } from "../helpers/app-env";
import { simulatedInstall } from "../helpers/installed-shop";
import { startWorker, waitFor, type RunningProcess } from "../helpers/processes";

/**
 * A run's predictions written to the simulated Shopify as typed customer
 * metafields by the real worker: the definitions first, then only the values
 * that changed since the last sync (nothing when nothing changed), cleared
 * when a value is gone, as one bulk mutation above METAFIELD_BULK_THRESHOLD
 * values and in paced requests of 25 below it; and a Shopify segment query
 * over the metafields selects the right customers.
 */

type Install = Awaited<ReturnType<typeof simulatedInstall>>;
let install: Install;
let worker: RunningProcess;
const namespace = `app--${apiClientIdOf(TEST_APP.apiKey)}--microsegment`;

const runtime = () => install.simulator.runtime(install.shop)!;
const FILE_MAX_BYTES = 100_000;
const WORKER_SETTINGS = { METAFIELD_BULK_THRESHOLD: "1000", BULK_MUTATION_FILE_MAX_BYTES: String(FILE_MAX_BYTES) };

/** Every app metafield the simulated store holds, as "customer key" -> value. */
function metafieldsInShopify(): Map<string, string> {
  const values = new Map<string, string>();
  const data = runtime().data;
  for (let i = 0; i < data.customerCount; i++) {
    const id = `gid://shopify/Customer/${data.customer(i)!.id}`;
    for (const metafield of runtime().metafields.list(id, namespace))
      values.set(`${id} ${metafield.key}`, metafield.value);
  }
  return values;
}

/** What the app recorded as written, in the same shape. */
async function recordedValues(): Promise<Map<string, string>> {
  const rows = await install.prisma.customerMetafieldValue.findMany({ where: { shop: install.shop } });
  return new Map(rows.map((row) => [`${row.customerId} ${row.key}`, row.value]));
}

/** Metafield write requests the simulated store answered: metafieldsSet, metafieldsDelete and bulk runs. */
function writeOperations() {
  return runtime().counters.requests;
}

/** The shop's local day of a moment, as the expected-next-order metafield holds it. */
const localDay = (moment: Date, timezone: string) =>
  new Intl.DateTimeFormat("en-CA", { timeZone: timezone, year: "numeric", month: "2-digit", day: "2-digit" }).format(
    moment,
  );

/** What the metafields should hold after a sync, from the scores and the latest run, in the same shape. */
async function expectedValues(): Promise<Map<string, string>> {
  const run = await install.prisma.segmentationRun.findFirstOrThrow({
    where: { shop: install.shop, status: "succeeded" },
    orderBy: { requestedAt: "desc" },
  });
  const timezone =
    (await install.prisma.shop.findUniqueOrThrow({ where: { domain: install.shop } })).ianaTimezone ?? "UTC";
  const scores = await install.prisma.customerScore.findMany({ where: { shop: install.shop } });
  const expected = new Map<string, string>();
  for (const score of scores) {
    expected.set(`${score.customerId} rfm_segment`, score.rfmSegment);
    if (!run.predictionsShown) continue;
    if (score.expectedSpend365 !== null)
      expected.set(`${score.customerId} predicted_value`, score.expectedSpend365.toFixed(2));
    if (score.probabilityAlive !== null)
      expected.set(`${score.customerId} probability_active`, score.probabilityAlive.toFixed(2));
    if (score.churnRisk) expected.set(`${score.customerId} churn_risk`, score.churnRisk);
    if (score.expectedNextOrderAt)
      expected.set(`${score.customerId} expected_next_order_date`, localDay(score.expectedNextOrderAt, timezone));
  }
  return expected;
}

async function sync() {
  const requested = await requestMetafieldSync(install.shop, null);
  expect(requested).not.toBeNull();
  return waitFor(
    async () => {
      const current = await install.prisma.metafieldSync.findUniqueOrThrow({ where: { id: requested!.id } });
      return ["succeeded", "failed", "cancelled"].includes(current.status) ? current : undefined;
    },
    90_000,
    "the metafield sync",
  );
}

async function segmentMembers(query: string): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  do {
    const body = (await runtime().executeAdmin(
      `query($query: String!, $after: String) {
        customerSegmentMembers(first: 250, query: $query, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } }
      }`,
      { query, after },
    )) as { data: any; errors?: { message: string }[] };
    if (body.errors) throw new Error(body.errors[0]!.message);
    const page = body.data.customerSegmentMembers;
    ids.push(
      ...page.edges.map((edge: { node: { id: string } }) => edge.node.id.replace("CustomerSegmentMember", "Customer")),
    );
    after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  } while (after);
  return ids.sort();
}

beforeAll(async () => {
  // Orders up to today, so the run's backtest covers weeks with orders and its predictions are shown.
  const today = new Date();
  const storeEnd = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate())).toISOString();
  install = await simulatedInstall({ size: "small", bucketSize: 1000, restoreRate: 500, storeEnd });
  // The first sync (every value of about 400 customers) goes out in bulk, as variables files of at most 100 kB;
  // the later, smaller ones in requests of 25.
  worker = await startWorker({ ...install.env, ...WORKER_SETTINGS });
  await createPull({ shop: install.shop, kind: "full", trigger: "merchant" });
  await waitFor(
    () =>
      install.prisma.metafieldSync.findFirst({
        where: { shop: install.shop, status: { in: ["succeeded", "failed"] } },
      }),
    150_000,
    "the metafield sync after the pull's segmentation",
  );
});

afterAll(async () => {
  await worker?.stop();
  await install?.close();
});

describe("customer metafields", () => {
  it("writes a run's values with their types in bulk mutations after the run, a bounded file each", async () => {
    const first = await install.prisma.metafieldSync.findFirstOrThrow({ where: { shop: install.shop } });
    const run = await install.prisma.segmentationRun.findFirstOrThrow({ where: { id: first.runId! } });
    expect(first).toMatchObject({ status: "succeeded", mode: "bulk", namespace, cleared: 0, error: null });
    // The small store has the history the prediction gate asks for, so every key is written.
    expect(run.predictionsShown).toBe(true);

    const definitions = runtime().metafields.definitionsOf("CUSTOMER", METAFIELD_NAMESPACE);
    expect(Object.fromEntries(definitions.map((d) => [d.key, d.type]))).toEqual(
      Object.fromEntries(Object.entries(METAFIELD_DEFINITIONS).map(([key, spec]) => [key, spec.type])),
    );
    expect(definitions.find((d) => d.key === "churn_risk")!.validations).toEqual([
      { name: "choices", value: '["low","medium","high"]' },
    ]);

    const scores = await install.prisma.customerScore.findMany({ where: { shop: install.shop } });
    expect(scores.length).toBeGreaterThan(300);
    const expected = await expectedValues();
    const inShopify = metafieldsInShopify();
    expect(inShopify).toEqual(expected);
    expect(await recordedValues()).toEqual(expected);
    expect(first.written).toBe(expected.size);
    expect(first.total).toBe(expected.size);

    const owner = scores[0]!.customerId;
    const rfm = runtime().metafields.get(owner, namespace, "rfm_segment")!;
    expect(rfm).toMatchObject({ type: "single_line_text_field", value: scores[0]!.rfmSegment });
    expect(runtime().metafields.get(owner, namespace, "predicted_value")!.type).toBe("number_decimal");
    const bulk = [...runtime().bulkOperations.values()].filter((op) => op.type === "MUTATION");
    // About 400 lines of some 650 bytes: three files or more, each one operation, one after another.
    expect(bulk.length).toBeGreaterThanOrEqual(3);
    for (const op of bulk) {
      expect(op.status).toBe("COMPLETED");
      expect(op.query).toContain(`# MicroSegment metafields set ${first.id}`);
    }
    const uploads = runtime().uploadedFileSizes();
    expect(uploads).toHaveLength(bulk.length);
    for (const size of uploads) expect(size).toBeLessThanOrEqual(FILE_MAX_BYTES);
  });

  it("writes nothing when nothing changed", async () => {
    const requestsBefore = writeOperations();
    const second = await sync();
    expect(second).toMatchObject({ status: "succeeded", mode: "batches", total: 0, written: 0, cleared: 0 });
    // Only the definitions were read: no metafieldsSet, no metafieldsDelete.
    expect(writeOperations() - requestsBefore).toBe(1);
  });

  it("writes only the values that changed, in requests of 25, and clears values that are gone", async () => {
    const scores = await install.prisma.customerScore.findMany({
      where: { shop: install.shop },
      orderBy: { customerId: "asc" },
      take: 60,
    });
    // As the models fill them once the purchase models land: churn risk and the next order's day for 60
    // customers, and one customer whose RFM segment changes.
    const risks = ["low", "medium", "high"] as const;
    await install.prisma.$transaction(
      scores.map((score, i) =>
        install.prisma.customerScore.update({
          where: { shop_customerId: { shop: install.shop, customerId: score.customerId } },
          data: {
            churnRisk: risks[i % 3],
            expectedNextOrderAt: new Date(Date.UTC(2026, 11, 1 + (i % 28), 12)),
            ...(i === 0 ? { rfmSegment: score.rfmSegment === "lost" ? "champions" : "lost" } : {}),
          },
        }),
      ),
    );
    const before = metafieldsInShopify();
    const expected = await expectedValues();
    const toChange = [...expected].filter(([key, value]) => before.get(key) !== value).map(([key]) => key);
    expect(toChange.length).toBeGreaterThan(60);
    const throttledBefore = runtime().counters.throttled;

    const third = await sync();
    expect(third).toMatchObject({ status: "succeeded", mode: "batches", written: toChange.length, cleared: 0 });
    expect(runtime().counters.throttled).toBe(throttledBefore);
    const after = metafieldsInShopify();
    expect(after).toEqual(expected);
    const changed = [...after].filter(([key, value]) => before.get(key) !== value).map(([key]) => key);
    expect(changed.sort()).toEqual(toChange.sort());
    expect(after.get(`${scores[5]!.customerId} churn_risk`)).toBe("high");
    expect(runtime().metafields.get(scores[5]!.customerId, namespace, "expected_next_order_date")).toMatchObject({
      type: "date",
      // 12:00 UTC is 6 December in every time zone from UTC-11 to UTC+11.
      value: "2026-12-06",
    });
    expect(await recordedValues()).toEqual(after);

    // A value that is gone is cleared in Shopify.
    await install.prisma.customerScore.update({
      where: { shop_customerId: { shop: install.shop, customerId: scores[1]!.customerId } },
      data: { churnRisk: null },
    });
    const fourth = await sync();
    expect(fourth).toMatchObject({ status: "succeeded", written: 0, cleared: 1 });
    expect(runtime().metafields.get(scores[1]!.customerId, namespace, "churn_risk")).toBeUndefined();
    expect(await recordedValues()).toEqual(metafieldsInShopify());
  });

  it("lets a Shopify segment query over the metafields select the right customers", async () => {
    const scores = await install.prisma.customerScore.findMany({ where: { shop: install.shop } });
    const field = (key: string) => `metafields.${namespace}.${key}`;

    const lost = scores
      .filter((s) => s.rfmSegment === "lost")
      .map((s) => s.customerId)
      .sort();
    expect(lost.length).toBeGreaterThan(0);
    expect(await segmentMembers(`${field("rfm_segment")} = 'lost'`)).toEqual(lost);

    const highRisk = scores
      .filter((s) => s.churnRisk === "high")
      .map((s) => s.customerId)
      .sort();
    const valuable = scores
      .filter((s) => s.expectedSpend365 !== null && Number(s.expectedSpend365.toFixed(2)) > 100)
      .map((s) => s.customerId)
      .sort();
    expect(highRisk.length).toBeGreaterThan(0);
    expect(valuable.length).toBeGreaterThan(0);
    expect(await segmentMembers(`${field("churn_risk")} = 'high'`)).toEqual(highRisk);
    expect(await segmentMembers(`${field("predicted_value")} > 100`)).toEqual(valuable);
    const expected = await expectedValues();
    const dueEarly = scores
      .filter((s) => (expected.get(`${s.customerId} expected_next_order_date`) ?? "9999") <= "2026-12-10")
      .map((s) => s.customerId)
      .sort();
    expect(dueEarly.length).toBeGreaterThan(0);
    expect(await segmentMembers(`${field("expected_next_order_date")} <= 2026-12-10`)).toEqual(dueEarly);
    expect(await segmentMembers(`${field("churn_risk")} = 'high' AND ${field("predicted_value")} > 100`)).toEqual(
      highRisk.filter((id) => valuable.includes(id)),
    );
  });

  it("cancels a queued sync at once: it never runs", async () => {
    await worker.stop();
    const queued = (await requestMetafieldSync(install.shop, null))!;
    expect(await requestMetafieldSyncCancel(install.shop, queued.id)).toBe(true);
    expect(await requestMetafieldSyncCancel(install.shop, queued.id)).toBe(false);
    const requestsBefore = writeOperations();
    worker = await startWorker({ ...install.env, ...WORKER_SETTINGS });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(await install.prisma.metafieldSync.findUniqueOrThrow({ where: { id: queued.id } })).toMatchObject({
      status: "cancelled",
      startedAt: null,
    });
    expect(writeOperations()).toBe(requestsBefore);
  });
});
