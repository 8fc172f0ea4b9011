import { describe, expect, it } from "vitest";
import {
  RFM_SEGMENTS,
  rfmSegmentOf,
  rfmSegmentTable,
  scoreFromRank,
  SCORES,
} from "../../app/models/rfm-segments.server";

describe("named RFM segments", () => {
  it("cover every one of the 125 score combinations exactly once", () => {
    let combinations = 0;
    for (const r of SCORES)
      for (const f of SCORES)
        for (const m of SCORES) {
          combinations++;
          const matching = RFM_SEGMENTS.filter((segment) => segment.matches(r, f, m)).map((segment) => segment.key);
          expect(matching, `(${r}, ${f}, ${m})`).toHaveLength(1);
        }
    expect(combinations).toBe(125);
  });

  it("are the eleven standard segments, each reachable", () => {
    const table = rfmSegmentTable();
    expect(table.segment).toHaveLength(125);
    expect(new Set(table.segment)).toEqual(new Set(RFM_SEGMENTS.map((segment) => segment.key)));
    expect(RFM_SEGMENTS.map((segment) => segment.name)).toEqual([
      "Champions",
      "Loyal",
      "Potential loyalists",
      "New",
      "Promising",
      "Need attention",
      "About to sleep",
      "At risk",
      "Can't lose them",
      "Hibernating",
      "Lost",
    ]);
  });

  it("follow the documented rules at their edges", () => {
    const cases: [number, number, number, string][] = [
      [5, 5, 5, "champions"],
      [4, 3, 5, "champions"],
      [4, 3, 4, "loyal"],
      [3, 5, 5, "loyal"],
      [3, 2, 4, "loyal"],
      [5, 2, 3, "potential-loyalists"],
      [5, 1, 5, "new"],
      [4, 1, 1, "promising"],
      [3, 2, 3, "need-attention"],
      [3, 1, 5, "about-to-sleep"],
      [2, 2, 3, "at-risk"],
      [1, 4, 3, "at-risk"],
      [1, 4, 4, "cant-lose-them"],
      [2, 5, 3, "cant-lose-them"],
      [2, 1, 5, "hibernating"],
      [2, 2, 2, "hibernating"],
      [1, 1, 5, "lost"],
      [1, 3, 1, "lost"],
    ];
    for (const [r, f, m, key] of cases) expect(rfmSegmentOf(r, f, m).key, `(${r}, ${f}, ${m})`).toBe(key);
  });
});

describe("scores", () => {
  it("give equal values equal scores, so one-time buyers all get F = 1", () => {
    // 10 customers: 7 with one order, 2 with two, 1 with five.
    expect(scoreFromRank(0, 10)).toBe(1);
    expect(scoreFromRank(7, 10)).toBe(4);
    expect(scoreFromRank(9, 10)).toBe(5);
  });

  it("spread distinct values over the five scores", () => {
    const scores = Array.from({ length: 10 }, (_, worse) => scoreFromRank(worse, 10));
    expect(scores).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  });
});
