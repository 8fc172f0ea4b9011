import type pg from "pg";
import { loadConfig } from "../config.server";
import prisma, { pgPool } from "../db.server";
import { logger } from "../logger.server";
import { enqueueJob } from "../models/jobs.server";
import {
  buildSegmentMembers,
  dropSegmentationTables,
  loadOrderAmounts,
  publishSegmentation,
  ShopGoneError,
  scoreCustomers,
  segmentStats,
  stageOrders,
  stagePredictions,
  type CustomerPredictionRow,
  type SegmentStats,
  type SegmentationTotals,
  type SegmentToPublish,
  AFFINITY_MIN_SHARE,
  BEHAVIOUR_WINDOW_DAYS,
} from "../models/segmentation.server";
import { isRunCancelRequested, updateRun, type RunStage } from "../models/segmentation-runs.server";
import {
  fitBgNbd,
  fitGammaGamma,
  predictCustomer,
  summarizeTransactions,
  type BgNbdFit,
  type CustomerSummary,
  type GammaGammaFit,
} from "./clv.server";
import { llmConfigured } from "./llm.server";
import { rfmSegmentByKey } from "./rfm.server";
import { localSegmentNaming, nameSegment, roughly, type SegmentProfile } from "./segment-namer.server";

/**
 * One segmentation run: RFM scores, micro-segments and predictions are
 * computed in SQL and TypeScript on one connection, stored in one
 * transaction, and only then named (by the LLM when configured), so a failed
 * or cancelled naming step never loses the computed segments; the next run
 * names them again, and unchanged segments come from the LLM cache.
 */

export class RunCancelled extends Error {
  constructor() {
    super("cancelled");
  }
}
/** The worker is shutting down: the run goes back to the queue and starts again later. */
export class RunInterrupted extends Error {
  constructor() {
    super("interrupted by worker shutdown");
  }
}

const TIME_UNIT_DAYS = 7;
const HORIZONS_DAYS = [90, 365] as const;
const CANCEL_POLL_MS = 500;
const NAMING_CONCURRENCY = 4;
const QUERY_CANCELED = "57014";

export interface PredictionSettings {
  minCustomers: number;
  minRepeatCustomers: number;
  minHistoryDays: number;
}

export interface PredictionGate {
  open: boolean;
  reason: string;
}

/**
 * Predictions need history: enough customers, enough of them buying again,
 * and enough time between the shop's first and last order for the model to
 * see people stop buying. Below that the fit is noise and nothing is shown.
 */
export function predictionGate(
  summaries: readonly CustomerSummary[],
  historyDays: number,
  settings: PredictionSettings,
): PredictionGate {
  const customers = summaries.length;
  const repeat = summaries.filter((s) => s.frequency > 0).length;
  const days = Math.floor(historyDays);
  if (customers < settings.minCustomers) {
    return {
      open: false,
      reason: `Predictions need at least ${settings.minCustomers} customers with orders; this shop has ${customers}.`,
    };
  }
  if (repeat < settings.minRepeatCustomers) {
    return {
      open: false,
      reason: `Predictions need at least ${settings.minRepeatCustomers} customers who ordered on two different days; this shop has ${repeat}.`,
    };
  }
  if (days < settings.minHistoryDays) {
    return {
      open: false,
      reason: `Predictions need at least ${settings.minHistoryDays} days of order history; this shop has ${days}.`,
    };
  }
  return {
    open: true,
    reason: `Predicted from ${customers} customers (${repeat} repeat buyers) over ${days} days of orders.`,
  };
}

/**
 * L2 penalty on the BG/NBD parameters: 0.001 up to 500 customers, then
 * falling with the square of the customer count, so it steadies the fit of
 * small shops and all but vanishes for large ones (α is in weeks and would
 * otherwise be pulled down noticeably). Gamma-Gamma is fitted without one:
 * its scale γ is in the shop's currency, so any L2 penalty on it would depend
 * on the currency, and on real order values it collapses the fit to q < 1.
 */
export function penalizerFor(customers: number): number {
  return 0.001 * Math.min(1, (500 / Math.max(1, customers)) ** 2);
}

export interface FittedModel {
  bgNbd: BgNbdFit;
  gammaGamma: GammaGammaFit;
  penalizer: number;
  timeUnitDays: number;
}

/** Fits both models per shop and predicts every customer; undefined when the fit is unusable. */
export function fitAndPredict(
  summaries: readonly CustomerSummary[],
): { model: FittedModel; predictions: CustomerPredictionRow[] } | { error: string } {
  const penalizer = penalizerFor(summaries.length);
  let bgNbd: BgNbdFit;
  let gammaGamma: GammaGammaFit;
  try {
    bgNbd = fitBgNbd(summaries, { penalizer });
    gammaGamma = fitGammaGamma(summaries);
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
  const parameters = [bgNbd.r, bgNbd.alpha, bgNbd.a, bgNbd.b, gammaGamma.p, gammaGamma.q, gammaGamma.gamma];
  if (!parameters.every((value) => Number.isFinite(value) && value > 0)) return { error: "the fit did not converge" };
  if (!(gammaGamma.q > 1)) return { error: "the spend model has no finite mean (q ≤ 1)" };
  const horizons = HORIZONS_DAYS.map((days) => days / TIME_UNIT_DAYS);
  const predictions = summaries.map((summary) => {
    const prediction = predictCustomer(bgNbd, gammaGamma, summary, horizons);
    const [next90, next365] = prediction.horizons;
    return {
      customerId: summary.customerId,
      probabilityAlive: prediction.probabilityAlive,
      expectedOrders90: next90!.expectedTransactions,
      expectedOrders365: next365!.expectedTransactions,
      expectedSpend90: next90!.expectedSpend,
      expectedSpend365: next365!.expectedSpend,
    };
  });
  if (!predictions.every((p) => Number.isFinite(p.expectedSpend365) && Number.isFinite(p.probabilityAlive))) {
    return { error: "predictions are not finite" };
  }
  return { model: { bgNbd, gammaGamma, penalizer, timeUnitDays: TIME_UNIT_DAYS }, predictions };
}

const DIMENSION_RULES: Record<string, (label: string) => string> = {
  "product-type": (label) =>
    label === "other"
      ? `favourite product type (at least ${AFFINITY_MIN_SHARE * 100}% of spend) is one of the rare ones`
      : `favourite product type (at least ${AFFINITY_MIN_SHARE * 100}% of spend) is ${label}`,
  vendor: (label) =>
    label === "other"
      ? `favourite vendor (at least ${AFFINITY_MIN_SHARE * 100}% of spend) is one of the rare ones`
      : `favourite vendor (at least ${AFFINITY_MIN_SHARE * 100}% of spend) is ${label}`,
  "first-product-type": (label) =>
    label === "other"
      ? "the largest line of the first order was a rare product type"
      : `the largest line of the first order was ${label}`,
  discount: (level) =>
    ({
      driven: "at least half of the orders used a discount",
      occasional: "some but fewer than half of the orders used a discount",
      "full-price": "no order used a discount",
    })[level] ?? level,
  cadence: (level) =>
    ({
      weekly: "median gap between orders of 10 days or less",
      monthly: "median gap between orders of 11 to 45 days",
      quarterly: "median gap between orders of 46 to 120 days",
      yearly: "median gap between orders over 120 days",
    })[level] ?? level,
  "aov-band": (band) =>
    ({
      low: "average order value in the shop's bottom quarter",
      mid: "average order value in the shop's middle half",
      high: "average order value in the shop's top quarter",
    })[band] ?? band,
  behaviour: (level) =>
    ({
      "browse-without-buy": `viewed two or more products in the last ${BEHAVIOUR_WINDOW_DAYS} days, no cart or order since`,
      "cart-abandoner": `added to cart or started checkout in the last ${BEHAVIOUR_WINDOW_DAYS} days, no order since`,
    })[level] ?? level,
};

function definitionOf(stats: SegmentStats) {
  if (stats.kind === "rfm") {
    const rule = rfmSegmentByKey(stats.value)!;
    return { dimension: "rfm", value: stats.value, rule: rule.rule };
  }
  const parentKey = stats.parentKey?.replace(/^rfm:/, "");
  const parent = parentKey ? rfmSegmentByKey(parentKey) : undefined;
  const rule = DIMENSION_RULES[stats.dimension]?.(stats.label) ?? `${stats.dimension} is ${stats.label}`;
  return {
    dimension: stats.dimension,
    value: stats.value,
    label: stats.label,
    withinRfmSegment: parentKey ?? null,
    rule: parent ? `in ${parent.name} (${parent.rule}), and ${rule}` : rule,
  };
}

function profileOf(stats: SegmentStats, totals: SegmentationTotals): SegmentProfile {
  const totalRevenue = Number(totals.revenue);
  const parentKey = stats.parentKey?.replace(/^rfm:/, "");
  const percent = (part: number, whole: number) => (whole > 0 ? roughly((100 * part) / whole) : 0);
  const nullable = (value: number | null, scale = 1) => (value === null ? null : roughly(value * scale));
  return {
    dimension: stats.dimension,
    value: stats.label,
    rule: definitionOf(stats).rule,
    withinRfmSegment: parentKey ? (rfmSegmentByKey(parentKey)?.name ?? null) : null,
    customers: roughly(stats.size),
    shareOfCustomersPct: percent(stats.size, totals.customers),
    revenueSharePct: percent(Number(stats.revenue), totalRevenue),
    averageOrderValue: roughly(Number(stats.averageOrderValue)),
    currencyCode: totals.currencyCode,
    medianOrders: stats.medianOrders,
    medianDaysSinceLastOrder: nullable(stats.medianRecencyDays),
    discountedOrderSharePct: nullable(stats.discountShare, 100),
    oneTimeBuyerSharePct: nullable(stats.oneTimeShare, 100),
    favouriteProductTypes: stats.favouriteProductTypes.map((item) => ({
      productType: item.label,
      sharePct: percent(item.members, stats.size),
    })),
    rfmMix: stats.rfmSegments.map((item) => ({
      segment: rfmSegmentByKey(item.key)?.name ?? item.key,
      sharePct: percent(item.members, stats.size),
    })),
    predicted:
      stats.averageProbabilityAlive === null || stats.averageExpectedSpend365 === null
        ? null
        : {
            probabilityActivePct: roughly(100 * stats.averageProbabilityAlive),
            expectedSpendNextYear: roughly(stats.averageExpectedSpend365),
          },
  };
}

function toPublish(stats: SegmentStats, totals: SegmentationTotals): SegmentToPublish {
  const profile = profileOf(stats, totals);
  const rfm = stats.kind === "rfm" ? rfmSegmentByKey(stats.value)! : undefined;
  const totalRevenue = Number(totals.revenue);
  return {
    key: stats.key,
    kind: stats.kind,
    parentKey: stats.parentKey,
    size: stats.size,
    revenue: stats.revenue,
    revenueShare: totalRevenue > 0 ? Number(stats.revenue) / totalRevenue : 0,
    averageOrderValue: stats.averageOrderValue,
    definition: definitionOf(stats),
    profile,
    sampleCustomerIds: stats.sampleCustomerIds,
    naming: rfm ? { name: rfm.name, description: rfm.description, actions: rfm.actions } : localSegmentNaming(profile),
  };
}

/** Stops the run's SQL within a second when the merchant cancels or the worker shuts down. */
class RunGuard {
  private state: "running" | "cancelled" | "interrupted" = "running";
  private readonly timer: NodeJS.Timeout;
  private backendPid: number | undefined;
  readonly controller = new AbortController();

  constructor(
    private readonly runId: string,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.timer = setInterval(() => void this.poll(), CANCEL_POLL_MS);
    signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  private readonly onAbort = () => this.trip("interrupted");

  private async poll() {
    try {
      if (this.state === "running" && (await isRunCancelRequested(this.runId))) this.trip("cancelled");
    } catch (error) {
      logger.warn({ err: error, runId: this.runId }, "could not check for a cancel request");
    }
  }

  private trip(state: "cancelled" | "interrupted") {
    if (this.state !== "running") return;
    this.state = state;
    this.controller.abort(state === "cancelled" ? new RunCancelled() : new RunInterrupted());
    if (this.backendPid !== undefined) {
      pgPool.query("SELECT pg_cancel_backend($1)", [this.backendPid]).catch(() => {});
    }
  }

  attach(pid: number | undefined) {
    this.backendPid = pid;
  }

  /** Throws if the run must stop; call between steps. */
  check() {
    if (this.state === "cancelled") throw new RunCancelled();
    if (this.state === "interrupted") throw new RunInterrupted();
  }

  /** A query cancelled by this guard becomes the reason it was cancelled. */
  explain(error: unknown): unknown {
    if ((error as { code?: string }).code === QUERY_CANCELED || this.controller.signal.aborted) {
      if (this.state === "cancelled") return new RunCancelled();
      if (this.state === "interrupted") return new RunInterrupted();
    }
    return error;
  }

  stop() {
    clearInterval(this.timer);
    this.signal?.removeEventListener("abort", this.onAbort);
  }
}

export interface RunOptions {
  signal?: AbortSignal;
  /** The moment recency is measured from; now unless told (tests, reproducible benchmarks). */
  asOf?: Date;
}

/**
 * Executes a queued run to the end. Throws RunInterrupted when the worker
 * shuts down (the run is queued again) and any other error as is (the caller
 * decides between retry and failure); a cancelled run ends as "cancelled".
 */
export async function executeSegmentationRun(runId: string, options: RunOptions = {}): Promise<void> {
  const config = loadConfig();
  const claimed = await prisma.segmentationRun.updateMany({
    where: { id: runId, status: { in: ["queued", "running"] }, cancelRequestedAt: null },
    data: { status: "running", startedAt: new Date(), stage: "scoring", progress: 1, error: null },
  });
  const run = await prisma.segmentationRun.findUnique({ where: { id: runId } });
  if (!run) return;
  if (claimed.count === 0) {
    if (run.cancelRequestedAt && ["queued", "running"].includes(run.status)) await finishCancelled(runId);
    return;
  }
  const shop = run.shop;
  const asOf = options.asOf ?? new Date();
  const log = { shop, runId };
  const guard = new RunGuard(runId, options.signal);
  let stored = false;
  const started = performance.now();
  let stageStarted = started;
  const stage = async (name: RunStage, progress: number) => {
    guard.check();
    const now = performance.now();
    logger.debug({ ...log, next: name, ms: Math.round(now - stageStarted) }, "segmentation stage done");
    stageStarted = now;
    await updateRun(runId, { stage: name, progress });
  };
  try {
    const client = await pgPool.connect();
    try {
      guard.attach((await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid);
      await updateRun(runId, { asOf });
      const counts = await stageOrders(client, shop, asOf);
      guard.check();
      await scoreCustomers(client);
      await stage("micro", 20);
      await buildSegmentMembers(client, shop, { minSize: config.SEGMENT_MIN_SIZE, maxMicro: config.SEGMENT_MAX_MICRO });
      await stage("predictions", 40);
      const prediction = await predict(client, asOf, config);
      await stage("storing", 65);
      const { totals, segments } = await segmentStats(client, shop);
      guard.check();
      await publishSegmentation(
        client,
        shop,
        runId,
        segments.map((stats) => toPublish(stats, totals)),
      );
      stored = true;
      guard.attach(undefined);
      await updateRun(runId, {
        stage: "naming",
        progress: 80,
        customers: counts.customers,
        orders: counts.orders,
        segments: segments.length,
        predictionGate: prediction.gate.reason,
        predictionsShown: prediction.gate.open,
        model: prediction.model ? JSON.parse(JSON.stringify(prediction.model)) : undefined,
      });
      logger.info(
        { ...log, customers: counts.customers, segments: segments.length, ms: Math.round(performance.now() - started) },
        "segments stored",
      );
    } catch (error) {
      throw guard.explain(error);
    } finally {
      guard.attach(undefined);
      await dropSegmentationTables(client).catch(() => {});
      client.release();
    }
    await nameMicroSegments(shop, runId, guard);
    await updateRun(runId, { status: "succeeded", stage: "done", progress: 100, finishedAt: new Date() });
    logger.info({ ...log, ms: Math.round(performance.now() - started) }, "segmentation run finished");
  } catch (error) {
    if (error instanceof RunCancelled) {
      await finishCancelled(runId);
      logger.info({ ...log, stored }, "segmentation run cancelled");
      return;
    }
    if (error instanceof ShopGoneError) {
      logger.info(log, "segmentation run dropped: the shop was erased");
      return;
    }
    if (error instanceof RunInterrupted) {
      // Stored segments stay; the run starts over (and re-names) when the job is retried.
      await updateRun(runId, { status: "queued", error: "interrupted by worker shutdown; will run again" });
    }
    throw error;
  } finally {
    guard.stop();
  }
}

async function finishCancelled(runId: string) {
  await prisma.segmentationRun.updateMany({
    where: { id: runId, status: { in: ["queued", "running"] } },
    data: { status: "cancelled", finishedAt: new Date() },
  });
}

async function predict(client: pg.PoolClient, asOf: Date, config: ReturnType<typeof loadConfig>) {
  const amounts = await loadOrderAmounts(client);
  const summaries = summarizeTransactions(amounts, asOf, { timeUnitDays: TIME_UNIT_DAYS });
  let first = Infinity;
  let last = -Infinity;
  for (const { date } of amounts) {
    first = Math.min(first, date.getTime());
    last = Math.max(last, date.getTime());
  }
  const historyDays = amounts.length > 0 ? (last - first) / 86_400_000 : 0;
  let gate = predictionGate(summaries, historyDays, {
    minCustomers: config.PREDICTION_MIN_CUSTOMERS,
    minRepeatCustomers: config.PREDICTION_MIN_REPEAT_CUSTOMERS,
    minHistoryDays: config.PREDICTION_MIN_HISTORY_DAYS,
  });
  let model: FittedModel | undefined;
  let rows: CustomerPredictionRow[] = [];
  if (gate.open) {
    const fitted = fitAndPredict(summaries);
    if ("error" in fitted) {
      gate = { open: false, reason: `The purchase model could not be fitted to this shop's orders: ${fitted.error}.` };
    } else {
      model = fitted.model;
      rows = fitted.predictions;
    }
  }
  await stagePredictions(client, rows);
  return { gate, model };
}

interface NamingCounts {
  llmCalls: number;
  cacheHits: number;
  namingFallbacks: number;
}

type UnnamedSegment = { id: string; profile: unknown; namedBy: string };

/** Names segments a few at a time; a failed name falls back per segment and never undoes what is stored. */
async function nameSegments(
  shop: string,
  segments: UnnamedSegment[],
  options: {
    signal?: AbortSignal;
    beforeEach?: () => void;
    onNamed?: (counts: NamingCounts, done: number) => Promise<void>;
  },
): Promise<NamingCounts> {
  const counts = { llmCalls: 0, cacheHits: 0, namingFallbacks: 0 };
  let done = 0;
  let next = 0;
  const worker = async () => {
    while (next < segments.length) {
      options.beforeEach?.();
      const segment = segments[next++]!;
      const result = await nameSegment(shop, segment.profile as SegmentProfile, { signal: options.signal });
      if (result.source === "llm") counts.llmCalls++;
      else if (result.source === "cache") counts.cacheHits++;
      else counts.namingFallbacks++;
      // A model outage keeps an earlier model-written name rather than replacing it with the local one.
      if (result.namedBy === "llm" || segment.namedBy !== "llm") {
        await prisma.segment.updateMany({
          where: { id: segment.id },
          data: { ...result.naming, namedBy: result.namedBy },
        });
      }
      done++;
      await options.onNamed?.(counts, done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(NAMING_CONCURRENCY, segments.length) }, worker));
  return counts;
}

/** Names every micro-segment of the run. */
async function nameMicroSegments(shop: string, runId: string, guard: RunGuard) {
  const segments = await prisma.segment.findMany({
    where: { shop, runId, kind: "micro", active: true },
    select: { id: true, profile: true, namedBy: true },
    orderBy: { key: "asc" },
  });
  let latest: NamingCounts = { llmCalls: 0, cacheHits: 0, namingFallbacks: 0 };
  try {
    latest = await nameSegments(shop, segments, {
      signal: guard.controller.signal,
      beforeEach: () => guard.check(),
      onNamed: async (counts, done) => {
        latest = counts;
        await updateRun(runId, { progress: 80 + Math.floor((19 * done) / segments.length), ...counts });
      },
    }).catch((error) => {
      throw guard.explain(error);
    });
  } finally {
    await updateRun(runId, latest);
  }
  if (latest.namingFallbacks > 0 && llmConfigured()) await scheduleNamingRetry(shop);
  return latest;
}

/**
 * The model was unavailable for some names: try those again later, in a job
 * that graphile-worker retries with growing delays while the model stays down.
 */
async function scheduleNamingRetry(shop: string) {
  await enqueueJob(
    "segment-naming-retry",
    { shop },
    { runAt: new Date(Date.now() + loadConfig().SEGMENT_NAMING_RETRY_MS) },
  );
}

/** Names the shop's active micro-segments that still carry a standard name; answers how many still do. */
export async function renameFallbackSegments(shop: string, signal?: AbortSignal) {
  const segments = await prisma.segment.findMany({
    where: { shop, kind: "micro", active: true, namedBy: "local" },
    select: { id: true, profile: true, namedBy: true },
    orderBy: { key: "asc" },
  });
  if (!llmConfigured()) return 0;
  const counts = await nameSegments(shop, segments, { signal });
  return counts.namingFallbacks;
}
