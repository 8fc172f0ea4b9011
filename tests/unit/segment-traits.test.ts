import { describe, expect, it } from "vitest";
import { segmentDefinition, TRAIT_DIMENSIONS } from "../../app/models/segment-traits.server";
import type { SegmentStats } from "../../app/models/segmentation-stages.server";

const ruleOf = (dimension: string, label: string) => TRAIT_DIMENSIONS[dimension]!.rule(label);

describe("trait rules", () => {
  it("word every trait as the merchant reads it", () => {
    const wording: [dimension: string, label: string, rule: string][] = [
      ["product-type", "Jackets", "favourite product type (at least 50% of spend) is Jackets"],
      ["product-type", "other", "favourite product type (at least 50% of spend) is one of the rare ones"],
      ["vendor", "Acme", "favourite vendor (at least 50% of spend) is Acme"],
      ["vendor", "other", "favourite vendor (at least 50% of spend) is one of the rare ones"],
      ["first-product-type", "Boots", "the largest line of the first order was Boots"],
      ["first-product-type", "other", "the largest line of the first order was a rare product type"],
      ["discount", "driven", "at least half of the orders used a discount"],
      ["discount", "occasional", "some but fewer than half of the orders used a discount"],
      ["discount", "full-price", "no order used a discount"],
      ["cadence", "weekly", "median gap between orders of 10 days or less"],
      ["cadence", "monthly", "median gap between orders of 11 to 45 days"],
      ["cadence", "quarterly", "median gap between orders of 46 to 120 days"],
      ["cadence", "yearly", "median gap between orders over 120 days"],
      ["aov-band", "low", "average order value in the shop's bottom quarter"],
      ["aov-band", "mid", "average order value in the shop's middle half"],
      ["aov-band", "high", "average order value in the shop's top quarter"],
      ["behaviour", "browse-without-buy", "viewed two or more products in the last 30 days, no cart or order since"],
      ["behaviour", "cart-abandoner", "added to cart or started checkout in the last 30 days, no order since"],
    ];
    for (const [dimension, label, rule] of wording)
      expect(ruleOf(dimension, label), `${dimension}: ${label}`).toBe(rule);
  });

  it("name an unknown level as it is", () => {
    for (const dimension of ["discount", "cadence", "aov-band", "behaviour"])
      expect(ruleOf(dimension, "odd")).toBe("odd");
  });

  it("define a micro-segment inside its RFM segment, and one of an unknown dimension", () => {
    const stats = { kind: "micro", value: "driven", label: "driven", dimension: "discount" } as const;
    expect(segmentDefinition({ ...stats, parentKey: "rfm:new" } as SegmentStats)).toEqual({
      dimension: "discount",
      value: "driven",
      label: "driven",
      withinRfmSegment: "new",
      rule: "in New (R 5, F 1), and at least half of the orders used a discount",
    });
    expect(
      segmentDefinition({ ...stats, dimension: "colour", label: "red", parentKey: null } as unknown as SegmentStats)
        .rule,
    ).toBe("colour is red");
  });
});
