import { rfmSegmentByKey } from "./rfm-segments.server";
import type { SegmentStats } from "./segmentation-stages.server";

/**
 * The traits micro-segments are built from. Every threshold is written once,
 * in TRAIT_THRESHOLDS: the SQL stages classify customers with the expressions
 * built here, and a segment's definition explains the same numbers to the
 * merchant, so the two cannot drift apart.
 */

export const TRAIT_THRESHOLDS = {
  /** A favourite product type or vendor needs at least this share of the customer's spend. */
  affinityMinShare: 0.5,
  /** Discount-driven from this share of orders with a discount; occasional below it, full-price at none. */
  discountDrivenMinShare: 0.5,
  /** The longest median gap between orders, in days, of each cadence, fastest first. */
  cadenceMaxGapDays: { weekly: 10, monthly: 45, quarterly: 120, yearly: Infinity },
  /** Order value bands: customers whose average order value is below the shop's low quantile, and above its high one. */
  aovBandQuantiles: { low: 0.25, high: 0.75 },
  /** How far back storefront events count for browse-without-buy and cart abandonment. */
  behaviourWindowDays: 30,
  /** Product views in the window that make a visitor who neither carted nor bought a browser. */
  browseMinViews: 2,
} as const;

const FRACTION_WORDS = new Map([
  [0.25, "quarter"],
  [0.5, "half"],
]);
const COUNT_WORDS = ["no", "one", "two", "three", "four", "five"];

const fractionInWords = (share: number) => FRACTION_WORDS.get(share) ?? `${Math.round(share * 100)}%`;
const countInWords = (count: number) => COUNT_WORDS[count] ?? String(count);

interface TraitDimension {
  /** Rare values are merged into one "other" group rather than dropped. */
  mergesRareValues: boolean;
  /** Also split inside each RFM segment. */
  splitWithinRfm: boolean;
  /** Who has this value, in the merchant's words; unknown values are named as they are. */
  rule(label: string): string;
}

const favourite = (noun: string) => (label: string) => {
  const share = `${TRAIT_THRESHOLDS.affinityMinShare * 100}%`;
  return `favourite ${noun} (at least ${share} of spend) is ${label === "other" ? "one of the rare ones" : label}`;
};

function cadenceRule(level: string): string {
  const levels = Object.entries(TRAIT_THRESHOLDS.cadenceMaxGapDays);
  const index = levels.findIndex(([name]) => name === level);
  if (index < 0) return level;
  const maxGap = levels[index]![1];
  const previousMaxGap = levels[index - 1]?.[1];
  if (previousMaxGap === undefined) return `median gap between orders of ${maxGap} days or less`;
  if (maxGap === Infinity) return `median gap between orders over ${previousMaxGap} days`;
  return `median gap between orders of ${previousMaxGap + 1} to ${maxGap} days`;
}

/** Which part of the shop's customers an order value band is, in words ("top quarter"). */
export function aovBandInWords(band: string): string | undefined {
  const { low, high } = TRAIT_THRESHOLDS.aovBandQuantiles;
  const parts: Record<string, string> = {
    low: `bottom ${fractionInWords(low)}`,
    mid: `middle ${fractionInWords(high - low)}`,
    high: `top ${fractionInWords(1 - high)}`,
  };
  return parts[band];
}

function aovBandRule(band: string): string {
  const part = aovBandInWords(band);
  return part === undefined ? band : `average order value in the shop's ${part}`;
}

export const TRAIT_DIMENSIONS: Record<string, TraitDimension> = {
  "product-type": { mergesRareValues: true, splitWithinRfm: true, rule: favourite("product type") },
  vendor: { mergesRareValues: true, splitWithinRfm: false, rule: favourite("vendor") },
  "first-product-type": {
    mergesRareValues: true,
    splitWithinRfm: false,
    rule: (label) =>
      label === "other"
        ? "the largest line of the first order was a rare product type"
        : `the largest line of the first order was ${label}`,
  },
  discount: {
    mergesRareValues: false,
    splitWithinRfm: true,
    rule: (level) => {
      const share = fractionInWords(TRAIT_THRESHOLDS.discountDrivenMinShare);
      return (
        {
          driven: `at least ${share} of the orders used a discount`,
          occasional: `some but fewer than ${share} of the orders used a discount`,
          "full-price": "no order used a discount",
        }[level] ?? level
      );
    },
  },
  cadence: { mergesRareValues: false, splitWithinRfm: false, rule: cadenceRule },
  "aov-band": { mergesRareValues: false, splitWithinRfm: true, rule: aovBandRule },
  behaviour: {
    mergesRareValues: false,
    splitWithinRfm: false,
    rule: (level) => {
      const days = TRAIT_THRESHOLDS.behaviourWindowDays;
      const views = countInWords(TRAIT_THRESHOLDS.browseMinViews);
      return (
        {
          "browse-without-buy": `viewed ${views} or more products in the last ${days} days, no cart or order since`,
          "cart-abandoner": `added to cart or started checkout in the last ${days} days, no order since`,
        }[level] ?? level
      );
    },
  },
};

const dimensionsWhere = (test: (dimension: TraitDimension) => boolean) =>
  Object.entries(TRAIT_DIMENSIONS)
    .filter(([, dimension]) => test(dimension))
    .map(([name]) => name);

export const RARE_VALUES_MERGED = dimensionsWhere((dimension) => dimension.mergesRareValues);
export const SPLIT_WITHIN_RFM = dimensionsWhere((dimension) => dimension.splitWithinRfm);

/** SQL: the discount level of a customer whose orders used a discount in the share `share` (0 to 1). */
export function discountLevelSql(share: string): string {
  const driven = TRAIT_THRESHOLDS.discountDrivenMinShare;
  return `CASE WHEN ${share} >= ${driven} THEN 'driven' WHEN ${share} > 0 THEN 'occasional' ELSE 'full-price' END`;
}

/** SQL: the cadence of a customer whose median gap between orders is `gapDays` days. */
export function cadenceSql(gapDays: string): string {
  const levels = Object.entries(TRAIT_THRESHOLDS.cadenceMaxGapDays);
  const bounded = levels.filter(([, maxGap]) => maxGap !== Infinity);
  const slowest = levels.find(([, maxGap]) => maxGap === Infinity)![0];
  const whens = bounded.map(([level, maxGap]) => `WHEN ${gapDays} <= ${maxGap} THEN '${level}'`);
  return `CASE ${whens.join(" ")} ELSE '${slowest}' END`;
}

/** SQL aggregate: the shop's order value at the band's bound (`low` or `high`) over the column `aov`. */
export function aovBoundSql(bound: "low" | "high", aov: string): string {
  return `percentile_cont(${TRAIT_THRESHOLDS.aovBandQuantiles[bound]}) WITHIN GROUP (ORDER BY ${aov})`;
}

/** Who is in a segment, in words: the RFM rule, or the trait (inside its RFM segment, if any). */
export function segmentDefinition(stats: SegmentStats) {
  if (stats.kind === "rfm") {
    const rule = rfmSegmentByKey(stats.value)!;
    return { dimension: "rfm", value: stats.value, rule: rule.rule };
  }
  const parentKey = stats.parentKey?.replace(/^rfm:/, "");
  const parent = parentKey ? rfmSegmentByKey(parentKey) : undefined;
  const rule = TRAIT_DIMENSIONS[stats.dimension]?.rule(stats.label) ?? `${stats.dimension} is ${stats.label}`;
  return {
    dimension: stats.dimension,
    value: stats.value,
    label: stats.label,
    withinRfmSegment: parentKey ?? null,
    rule: parent ? `in ${parent.name} (${parent.rule}), and ${rule}` : rule,
  };
}
