/**
 * RFM: recency, frequency and monetary value per customer, each scored 1 (worst) to 5 (best),
 * and the standard named segments over those scores.
 *
 * Scores. A customer's score on one measure is 1 + floor(5 × w / n), where n is the number of
 * scored customers and w the number of them with a strictly worse value (a longer time since the
 * last order, fewer orders, less net spend). Equal values therefore always share a score, and the
 * result does not depend on row order. Unlike plain quintiles (NTILE), this stays meaningful when
 * most customers have one order: they all get F = 1 instead of being spread over F 1–3 at random,
 * and a second order lifts a customer straight to the score their rank earns. Scores no customer
 * earns stay empty.
 *
 * Named segments. With FM = F + M (2–10), every (R, F, M) falls in exactly one segment:
 *
 * | segment             | rule                                         |
 * | ------------------- | -------------------------------------------- |
 * | Champions           | R 4–5, FM ≥ 8                                |
 * | Loyal               | R 4–5, F ≥ 2, FM 6–7; or R 3, F ≥ 2, FM ≥ 6  |
 * | Potential loyalists | R 4–5, F ≥ 2, FM ≤ 5                         |
 * | New                 | R 5, F 1                                     |
 * | Promising           | R 4, F 1                                     |
 * | Need attention      | R 3, F ≥ 2, FM ≤ 5                           |
 * | About to sleep      | R 3, F 1                                     |
 * | At risk             | R 1–2, F ≥ 2, FM 5–7                         |
 * | Can't lose them     | R 1–2, FM ≥ 8                                |
 * | Hibernating         | R 2, and F 1 or FM ≤ 4                       |
 * | Lost                | R 1, and F 1 or FM ≤ 4                       |
 */

export type Score = 1 | 2 | 3 | 4 | 5;

export interface RfmSegmentRule {
  /** Stable part of the segment key (`rfm:<key>`). */
  key: string;
  name: string;
  rule: string;
  matches(r: number, f: number, m: number): boolean;
  description: string;
  actions: string[];
}

export const RFM_SEGMENTS: readonly RfmSegmentRule[] = [
  {
    key: "champions",
    name: "Champions",
    rule: "R 4–5, F + M ≥ 8",
    matches: (r, f, m) => r >= 4 && f + m >= 8,
    description: "Bought recently, buy often and spend the most. Your best customers.",
    actions: [
      "Reward them with early access to new products",
      "Ask for reviews and referrals",
      "Avoid blanket discounts: they buy at full price",
    ],
  },
  {
    key: "loyal",
    name: "Loyal",
    rule: "R 4–5, F ≥ 2, F + M 6–7; or R 3, F ≥ 2, F + M ≥ 6",
    matches: (r, f, m) => (r >= 4 && f >= 2 && f + m >= 6 && f + m <= 7) || (r === 3 && f >= 2 && f + m >= 6),
    description: "Order regularly and spend well; they respond to what you send them.",
    actions: [
      "Offer a loyalty programme or membership perks",
      "Upsell higher-value products",
      "Invite them to try new collections",
    ],
  },
  {
    key: "potential-loyalists",
    name: "Potential loyalists",
    rule: "R 4–5, F ≥ 2, F + M ≤ 5",
    matches: (r, f, m) => r >= 4 && f >= 2 && f + m <= 5,
    description: "Recent repeat customers with average spend who could become loyal.",
    actions: [
      "Recommend products based on what they bought",
      "Offer a membership or subscription",
      "Follow up after each order",
    ],
  },
  {
    key: "new",
    name: "New",
    rule: "R 5, F 1",
    matches: (r, f) => r === 5 && f === 1,
    description: "Placed their first order very recently.",
    actions: ["Send a welcome series", "Help them get the most out of their purchase", "Suggest a second product"],
  },
  {
    key: "promising",
    name: "Promising",
    rule: "R 4, F 1",
    matches: (r, f) => r === 4 && f === 1,
    description: "First-time buyers from a little while ago who have not come back yet.",
    actions: [
      "Build brand awareness with useful content",
      "Offer a small incentive for a second order",
      "Recommend bestsellers",
    ],
  },
  {
    key: "need-attention",
    name: "Need attention",
    rule: "R 3, F ≥ 2, F + M ≤ 5",
    matches: (r, f, m) => r === 3 && f >= 2 && f + m <= 5,
    description: "Repeat customers whose orders have slowed down.",
    actions: [
      "Send limited-time offers",
      "Recommend products based on past purchases",
      "Ask what would bring them back",
    ],
  },
  {
    key: "about-to-sleep",
    name: "About to sleep",
    rule: "R 3, F 1",
    matches: (r, f) => r === 3 && f === 1,
    description: "Bought once, a while ago; they will drift away without a reason to return.",
    actions: ["Share popular products", "Offer a discount on a second order", "Reconnect with a newsletter"],
  },
  {
    key: "at-risk",
    name: "At risk",
    rule: "R 1–2, F ≥ 2, F + M 5–7",
    matches: (r, f, m) => r <= 2 && f >= 2 && f + m >= 5 && f + m <= 7,
    description: "Used to buy often and spend well, but have not ordered for a long time.",
    actions: [
      "Send personalised win-back emails",
      "Offer a renewal or comeback incentive",
      "Remind them of what they liked",
    ],
  },
  {
    key: "cant-lose-them",
    name: "Can't lose them",
    rule: "R 1–2, F + M ≥ 8",
    matches: (r, f, m) => r <= 2 && f + m >= 8,
    description: "Among your biggest and most frequent buyers, but gone quiet for a long time.",
    actions: [
      "Win them back with your best offer or a new product",
      "Reach out personally",
      "Do not lose them to a competitor",
    ],
  },
  {
    key: "hibernating",
    name: "Hibernating",
    rule: "R 2, and F 1 or F + M ≤ 4",
    matches: (r, f, m) => r === 2 && (f === 1 || f + m <= 4),
    description: "Low spenders with few orders, and no order for a long time.",
    actions: ["Offer relevant products and special discounts", "Recreate brand value", "Keep mailing costs low"],
  },
  {
    key: "lost",
    name: "Lost",
    rule: "R 1, and F 1 or F + M ≤ 4",
    matches: (r, f, m) => r === 1 && (f === 1 || f + m <= 4),
    description: "Lowest recency, frequency and spend: most likely gone.",
    actions: ["Try one reactivation campaign", "Otherwise stop spending on them", "Ask for feedback on why they left"],
  },
];

export const SCORES: readonly Score[] = [1, 2, 3, 4, 5];

/** The named segment of a score combination; throws if the rules do not match it exactly once. */
export function rfmSegmentOf(r: number, f: number, m: number): RfmSegmentRule {
  const matching = RFM_SEGMENTS.filter((segment) => segment.matches(r, f, m));
  if (matching.length !== 1) {
    throw new Error(`RFM rules matched (${r}, ${f}, ${m}) ${matching.length} times: ${matching.map((s) => s.key)}`);
  }
  return matching[0]!;
}

/** All 125 score combinations with their segment key, as SQL joins them. */
export function rfmSegmentTable(): { r: number[]; f: number[]; m: number[]; segment: string[] } {
  const table = { r: [] as number[], f: [] as number[], m: [] as number[], segment: [] as string[] };
  for (const r of SCORES)
    for (const f of SCORES)
      for (const m of SCORES) {
        table.r.push(r);
        table.f.push(f);
        table.m.push(m);
        table.segment.push(rfmSegmentOf(r, f, m).key);
      }
  return table;
}

export function rfmSegmentByKey(key: string): RfmSegmentRule | undefined {
  return RFM_SEGMENTS.find((segment) => segment.key === key);
}

/** A customer's score from how many of the n scored customers are strictly worse. */
export function scoreFromRank(strictlyWorse: number, n: number): Score {
  return Math.min(5, 1 + Math.floor((5 * strictlyWorse) / n)) as Score;
}
