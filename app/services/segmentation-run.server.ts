import { loadConfig } from "../config.server";
import { logger } from "../logger.server";
import { requestMetafieldSync } from "../models/customer-metafields.server";
import { segmentDefinition } from "../models/segment-traits.server";
import {
  claimRun,
  finishCancelledRun,
  getRun,
  isRunCancelRequested,
  updateRun,
  type RunStage,
} from "../models/segmentation-runs.server";
import {
  buildSegmentMembers,
  cancelSessionQuery,
  orderAmountPages,
  orderSpan,
  connectSegmentationSession,
  endSegmentationSession,
  publishSegmentation,
  scoreCustomers,
  segmentStats,
  sessionBackendPid,
  ShopGoneError,
  type SegmentationSession,
  stageOrders,
  stagePredictions,
  type SegmentStats,
  type SegmentationTotals,
  type SegmentToPublish,
} from "../models/segmentation-stages.server";
import { OrderHistory, predictFromHistory } from "./predictions.server";
import { initialSegmentNaming, nameMicroSegments, segmentProfile } from "./segment-namer.server";

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

const CANCEL_POLL_MS = 500;
const QUERY_CANCELED = "57014";

function toPublish(stats: SegmentStats, totals: SegmentationTotals): SegmentToPublish {
  const profile = segmentProfile(stats, totals);
  const totalRevenue = Number(totals.revenue);
  return {
    key: stats.key,
    kind: stats.kind,
    parentKey: stats.parentKey,
    size: stats.size,
    revenue: stats.revenue,
    revenueShare: totalRevenue > 0 ? Number(stats.revenue) / totalRevenue : 0,
    averageOrderValue: stats.averageOrderValue,
    definition: segmentDefinition(stats),
    profile,
    sampleCustomerIds: stats.sampleCustomerIds,
    naming: initialSegmentNaming(stats, profile),
  };
}

/** Stops the run's SQL within a second when the merchant cancels or the worker shuts down. */
class RunGuard {
  private state: "running" | "cancelled" | "interrupted" = "running";
  private readonly timer: NodeJS.Timeout;
  private backendPid: number | undefined;
  private readonly controller = new AbortController();

  constructor(
    private readonly runId: string,
    private readonly workerSignal: AbortSignal | undefined,
  ) {
    this.timer = setInterval(() => void this.poll(), CANCEL_POLL_MS);
    workerSignal?.addEventListener("abort", this.onAbort, { once: true });
  }

  /** Aborted when the run must stop, with RunCancelled or RunInterrupted as the reason. */
  get signal(): AbortSignal {
    return this.controller.signal;
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
      cancelSessionQuery(this.backendPid).catch(() => {});
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
    this.workerSignal?.removeEventListener("abort", this.onAbort);
  }
}

export interface RunOptions {
  signal?: AbortSignal;
  /** The moment recency is measured from; now unless told (tests, reproducible benchmarks). */
  asOf?: Date;
}

/**
 * The shop's predictions from the run's orders, read a page of customers at a
 * time; the history (with its holdout) is let go once the model is chosen,
 * and the rows are computed as they are stored.
 */
async function predictShop(client: SegmentationSession, asOf: Date, guard: RunGuard) {
  const config = loadConfig();
  const history = new OrderHistory(asOf, await orderSpan(client));
  for await (const orders of orderAmountPages(client)) {
    history.addOrders(orders);
    guard.check();
  }
  return predictFromHistory(history, {
    minCustomers: config.PREDICTION_MIN_CUSTOMERS,
    minRepeatCustomers: config.PREDICTION_MIN_REPEAT_CUSTOMERS,
    minHistoryDays: config.PREDICTION_MIN_HISTORY_DAYS,
    maxHoldoutError: config.PREDICTION_MAX_HOLDOUT_ERROR,
  });
}

/**
 * Executes a queued run to the end. Throws RunInterrupted when the worker
 * shuts down (the run is queued again) and any other error as is (the caller
 * decides between retry and failure); a cancelled run ends as "cancelled".
 */
export async function executeSegmentationRun(runId: string, options: RunOptions = {}): Promise<void> {
  const config = loadConfig();
  const claimed = await claimRun(runId);
  const run = await getRun(runId);
  if (!run) return;
  if (!claimed) {
    if (run.cancelRequestedAt && ["queued", "running"].includes(run.status)) await finishCancelledRun(runId);
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
    const client = await connectSegmentationSession();
    try {
      guard.attach(await sessionBackendPid(client));
      await updateRun(runId, { asOf });
      const counts = await stageOrders(client, shop, asOf);
      guard.check();
      await scoreCustomers(client);
      await stage("micro", 20);
      await buildSegmentMembers(client, shop, { minSize: config.SEGMENT_MIN_SIZE, maxMicro: config.SEGMENT_MAX_MICRO });
      await stage("predictions", 40);
      const prediction = await predictShop(client, asOf, guard);
      await stagePredictions(client, prediction.rows);
      await stage("storing", 65);
      const { totals, segments } = await segmentStats(client, shop);
      guard.check();
      await publishSegmentation(
        client,
        shop,
        runId,
        segments.map((stats) => toPublish(stats, totals)),
        { asOf, shown: prediction.gate.open },
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
        predictionReport: prediction.report ? JSON.parse(JSON.stringify(prediction.report)) : undefined,
      });
      logger.info(
        { ...log, customers: counts.customers, segments: segments.length, ms: Math.round(performance.now() - started) },
        "segments stored",
      );
    } catch (error) {
      throw guard.explain(error);
    } finally {
      guard.attach(undefined);
      await endSegmentationSession(client);
    }
    await nameMicroSegments(shop, runId, guard);
    await updateRun(runId, { status: "succeeded", stage: "done", progress: 100, finishedAt: new Date() });
    logger.info({ ...log, ms: Math.round(performance.now() - started) }, "segmentation run finished");
    // The run's values go to Shopify as customer metafields; a failure to queue that must not fail the run.
    await requestMetafieldSync(shop, runId).catch((error: unknown) =>
      logger.warn({ ...log, error: String(error) }, "could not queue the customer metafield sync"),
    );
  } catch (error) {
    if (error instanceof RunCancelled) {
      await finishCancelledRun(runId);
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
