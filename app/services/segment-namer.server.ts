import { z } from "zod";
import { loadConfig } from "../config.server";
import { logger } from "../logger.server";
import { enqueueJob } from "../models/jobs.server";
import { RFM_SEGMENTS, rfmSegmentByKey } from "../models/rfm-segments.server";
import { aovBandInWords, segmentDefinition, TRAIT_THRESHOLDS } from "../models/segment-traits.server";
import { updateRun } from "../models/segmentation-runs.server";
import type { SegmentStats, SegmentationTotals } from "../models/segmentation-stages.server";
import {
  locallyNamedMicroSegments,
  microSegmentsOfRun,
  saveSegmentNaming,
  type SegmentToName,
} from "../models/segments.server";
import { llmConfigured, structuredCompletion } from "./llm.server";

/**
 * Names a micro-segment, describes it for the merchant and suggests what to
 * do with it: by the LLM from the segment's aggregate profile (never a
 * customer's personal data), or, without an API key or when the model fails,
 * by a deterministic local namer.
 */

const NAMING_CONCURRENCY = 4;
const BEHAVIOUR_WINDOW_DAYS = TRAIT_THRESHOLDS.behaviourWindowDays;

export const segmentNamingSchema = z.object({
  name: z.string().trim().min(2).max(40),
  description: z.string().trim().min(10).max(300),
  actions: z.array(z.string().trim().min(3).max(160)).min(2).max(3),
});

export type SegmentNaming = z.infer<typeof segmentNamingSchema>;

/** What the namer knows about a segment: aggregates only, rounded so that small drifts keep the same names. */
export interface SegmentProfile {
  dimension: string;
  value: string;
  /** Who is in the group, in words. */
  rule: string;
  /** Name of the RFM segment the group lies inside, if any. */
  withinRfmSegment: string | null;
  customers: number;
  shareOfCustomersPct: number;
  revenueSharePct: number;
  averageOrderValue: number;
  currencyCode: string | null;
  medianOrders: number | null;
  medianDaysSinceLastOrder: number | null;
  discountedOrderSharePct: number | null;
  oneTimeBuyerSharePct: number | null;
  favouriteProductTypes: { productType: string; sharePct: number }[];
  rfmMix: { segment: string; sharePct: number }[];
  predicted: { probabilityActivePct: number; expectedSpendNextYear: number } | null;
}

export interface NamingResult {
  naming: SegmentNaming;
  namedBy: "llm" | "local";
  /** "cache": the LLM's earlier answer for the same profile, no new call. */
  source: "llm" | "cache" | "local";
  fallbackReason?: string;
}

/** Two significant digits: 1234 → 1200, 27.84 → 28, 0.0456 → 0.046. */
export function roughly(value: number): number {
  if (!Number.isFinite(value) || value === 0) return 0;
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const factor = 10 ** (magnitude - 1);
  return Number((Math.round(value / factor) * factor).toPrecision(2));
}

const SYSTEM_PROMPT = [
  "You help a Shopify merchant understand one group of their customers.",
  "You get aggregate statistics about the group, never data about a single person.",
  'Answer with a JSON object: "name" (at most 40 characters, plain words a merchant understands, no emoji),',
  '"description" (one or two sentences: who these customers are and why they matter, using only the figures given),',
  '"actions" (two or three concrete next steps the merchant can take with Shopify Email, Shopify Flow or discounts).',
].join(" ");

const DIMENSION_TEXT: Record<
  string,
  (label: string) => { name: string; description: string; actions: string[] } | undefined
> = {
  "product-type": (label) =>
    label === "other"
      ? {
          name: "Niche product fans",
          description: "Customers who spend most of their money on one of your less common product types.",
          actions: [
            "Recommend products from the same type they already buy",
            "Feature niche categories in a newsletter",
          ],
        }
      : {
          name: `${label} fans`,
          description: `Customers who spend most of their money on ${label}.`,
          actions: [
            `Email new ${label} arrivals to this group first`,
            `Cross-sell products that go with ${label}`,
            `Use Shopify Flow to follow up after each ${label} order`,
          ],
        },
  vendor: (label) =>
    label === "other"
      ? {
          name: "Smaller-brand buyers",
          description: "Most of their spend goes to one of your smaller brands.",
          actions: ["Introduce them to related brands", "Highlight what makes your smaller brands special"],
        }
      : {
          name: `${label} loyalists`,
          description: `Most of their spend goes to ${label} products.`,
          actions: [
            `Announce new ${label} products to them first`,
            `Bundle ${label} bestsellers`,
            "Invite them to a brand event or early access",
          ],
        },
  "first-product-type": (label) =>
    label === "other"
      ? {
          name: "Started with a niche item",
          description: "Their first order was led by one of your less common product types.",
          actions: ["Recommend what similar first-time buyers bought next", "Send a helpful how-to for their item"],
        }
      : {
          name: `Started with ${label}`,
          description: `Customers whose first order was led by ${label}.`,
          actions: [
            `Recommend what other ${label} buyers bought next`,
            `Time a second-order email to when ${label} usually needs replacing`,
          ],
        },
  discount: (level) =>
    ({
      driven: {
        name: "Deal seekers",
        description: "At least half of their orders used a discount.",
        actions: [
          "Reach them with targeted discount codes rather than site-wide sales",
          "Test smaller discounts to protect margin",
          "Promote bundles instead of price cuts",
        ],
      },
      occasional: {
        name: "Occasional discount users",
        description: "Some of their orders used a discount, most did not.",
        actions: ["Save discounts for when their activity slows", "Highlight quality and value over price"],
      },
      "full-price": {
        name: "Full-price buyers",
        description: "They have never used a discount.",
        actions: [
          "Leave them out of discount campaigns",
          "Offer early access and exclusives instead",
          "Ask them for reviews",
        ],
      },
    })[level],
  cadence: (level) =>
    ({
      weekly: {
        name: "Weekly regulars",
        description: "Repeat customers who usually order again within about ten days.",
        actions: ["Offer a subscription or auto-replenishment", "Time reminders to their usual interval"],
      },
      monthly: {
        name: "Monthly regulars",
        description: "Repeat customers who usually order again within one to six weeks.",
        actions: ["Offer a subscription or bundle", "Time reminders to their usual interval"],
      },
      quarterly: {
        name: "Seasonal buyers",
        description: "Repeat customers who usually come back every few months.",
        actions: ["Remind them ahead of each season", "Send a seasonal lookbook"],
      },
      yearly: {
        name: "Once-a-year buyers",
        description: "Repeat customers with four months or more between orders.",
        actions: ["Reach them before their usual buying time", "Use holiday and gifting campaigns"],
      },
    })[level],
  "aov-band": (band) =>
    ({
      high: {
        name: "Big-basket buyers",
        description: `Their orders are among the largest in your shop (${aovBandInWords("high")}).`,
        actions: ["Show premium products and bundles", "Offer free shipping or gifts rather than discounts"],
      },
      mid: {
        name: "Mid-size baskets",
        description: "Their orders are of typical size for your shop.",
        actions: ["Upsell with bundles", "Recommend complementary products"],
      },
      low: {
        name: "Small-basket buyers",
        description: `Their orders are among the smallest in your shop (${aovBandInWords("low")}).`,
        actions: ["Encourage bigger baskets with a free-shipping threshold", "Suggest add-ons at checkout"],
      },
    })[band],
  behaviour: (level) =>
    ({
      "browse-without-buy": {
        name: "Window shoppers",
        description: `Viewed several products in the last ${BEHAVIOUR_WINDOW_DAYS} days without adding to cart or ordering since.`,
        actions: [
          "Send a browse-abandonment email with the products they viewed",
          "Show reviews and social proof",
          "Offer help choosing",
        ],
      },
      "cart-abandoner": {
        name: "Cart abandoners",
        description: `Added to cart or started checkout in the last ${BEHAVIOUR_WINDOW_DAYS} days and have not ordered since.`,
        actions: [
          "Send a cart-recovery email within a day",
          "Offer free shipping to complete the order",
          "Remind them when stock runs low",
        ],
      },
    })[level],
};

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1).trimEnd()}…`);

/** Deterministic name, description and actions from the segment's definition. */
export function localSegmentNaming(profile: SegmentProfile): SegmentNaming {
  const base = DIMENSION_TEXT[profile.dimension]?.(profile.value) ?? {
    name: clip(`${profile.dimension}: ${profile.value}`, 40),
    description: `Customers grouped by ${profile.dimension} (${profile.value}).`,
    actions: ["Review who is in this group", "Send them a targeted campaign"],
  };
  const parent = RFM_SEGMENTS.find((segment) => segment.name === profile.withinRfmSegment);
  if (!parent) return { name: clip(base.name, 40), description: base.description, actions: base.actions.slice(0, 3) };
  return {
    name: clip(`${parent.name}: ${base.name}`, 40),
    description: `${parent.description} ${base.description}`,
    actions: [base.actions[0]!, parent.actions[0]!, ...(base.actions[1] ? [base.actions[1]] : [])],
  };
}

export async function nameSegment(
  shop: string,
  profile: SegmentProfile,
  options: { signal?: AbortSignal } = {},
): Promise<NamingResult> {
  const local = (reason: string): NamingResult => ({
    naming: localSegmentNaming(profile),
    namedBy: "local",
    source: "local",
    fallbackReason: reason,
  });
  if (!llmConfigured()) return local("no LLM configured");
  try {
    const result = await structuredCompletion({
      shop,
      purpose: "segment-naming",
      schema: segmentNamingSchema,
      system: SYSTEM_PROMPT,
      user: `Customer group profile (aggregates):\n${JSON.stringify(profile, null, 1)}`,
      signal: options.signal,
    });
    return { naming: result.output, namedBy: "llm", source: result.source };
  } catch (error) {
    if (options.signal?.aborted) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    logger.warn({ shop, dimension: profile.dimension, reason }, "segment naming fell back to the local namer");
    return local(reason);
  }
}

/** What the namer is told about a segment, from its stats and the shop's totals. */
export function segmentProfile(stats: SegmentStats, totals: SegmentationTotals): SegmentProfile {
  const totalRevenue = Number(totals.revenue);
  const parentKey = stats.parentKey?.replace(/^rfm:/, "");
  const percent = (part: number, whole: number) => (whole > 0 ? roughly((100 * part) / whole) : 0);
  const nullable = (value: number | null, scale = 1) => (value === null ? null : roughly(value * scale));
  return {
    dimension: stats.dimension,
    value: stats.label,
    rule: segmentDefinition(stats).rule,
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

/** The name a segment is stored with before the namer runs: the standard one of an RFM segment, else the local one. */
export function initialSegmentNaming(stats: SegmentStats, profile: SegmentProfile): SegmentNaming {
  const rfm = stats.kind === "rfm" ? rfmSegmentByKey(stats.value)! : undefined;
  return rfm ? { name: rfm.name, description: rfm.description, actions: rfm.actions } : localSegmentNaming(profile);
}

interface NamingCounts {
  llmCalls: number;
  cacheHits: number;
  namingFallbacks: number;
}

/** How a run stops naming: `signal` aborts model calls, `check` throws between segments, `explain` names the reason. */
export interface NamingStop {
  readonly signal: AbortSignal;
  check(): void;
  explain(error: unknown): unknown;
}

/** Names segments a few at a time; a failed name falls back per segment and never undoes what is stored. */
async function nameSegments(
  shop: string,
  segments: SegmentToName[],
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
        await saveSegmentNaming(segment.id, result.naming, result.namedBy);
      }
      done++;
      await options.onNamed?.(counts, done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(NAMING_CONCURRENCY, segments.length) }, worker));
  return counts;
}

/** Names every micro-segment of the run, reporting progress and counts on the run. */
export async function nameMicroSegments(shop: string, runId: string, stop: NamingStop) {
  const segments = await microSegmentsOfRun(shop, runId);
  let latest: NamingCounts = { llmCalls: 0, cacheHits: 0, namingFallbacks: 0 };
  try {
    latest = await nameSegments(shop, segments, {
      signal: stop.signal,
      beforeEach: () => stop.check(),
      onNamed: async (counts, done) => {
        latest = counts;
        await updateRun(runId, { progress: 80 + Math.floor((19 * done) / segments.length), ...counts });
      },
    }).catch((error) => {
      throw stop.explain(error);
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
  const segments = await locallyNamedMicroSegments(shop);
  if (!llmConfigured()) return 0;
  const counts = await nameSegments(shop, segments, { signal });
  return counts.namingFallbacks;
}
