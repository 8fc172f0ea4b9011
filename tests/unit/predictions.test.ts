import { describe, expect, it } from "vitest";
import { PredictionReport } from "../../app/models/prediction-report.server";
import { purchaseModel, splitAtCalibrationEnd, summarizeTransactions } from "../../app/services/clv.server";
import {
  chooseAndFitModel,
  churnRiskFor,
  customerPredictions,
  holdoutDaysFor,
  orderHistoryOf,
  predictFromHistory,
} from "../../app/services/predictions.server";
import { mulberry32, simulateOrders, type SimulatedModel } from "../helpers/purchase-simulation";

const DAY_MS = 86_400_000;
const AS_OF = new Date("2026-06-01T00:00:00Z");
const START = new Date("2024-06-01T00:00:00Z");
const SETTINGS = { minCustomers: 200, minRepeatCustomers: 50, minHistoryDays: 180, maxHoldoutError: 0.25 };
const PARETO: SimulatedModel = { model: "pareto-nbd", r: 0.55, alpha: 10.5, s: 0.6, beta: 11.7 };

function paretoShop(customers = 3000) {
  return simulateOrders(mulberry32(42), customers, PARETO, { start: START, end: AS_OF });
}

describe("holdout length and churn bands", () => {
  it("holds out 90 days, a quarter of a shorter history, or nothing under 28 days", () => {
    expect(holdoutDaysFor(730)).toBe(90);
    expect(holdoutDaysFor(360)).toBe(90);
    expect(holdoutDaysFor(200)).toBe(50);
    expect(holdoutDaysFor(112)).toBe(28);
    expect(holdoutDaysFor(111)).toBeNull();
  });

  it("bands churn risk by probability of being active: high below 0.3, medium below 0.7", () => {
    expect(churnRiskFor(0)).toBe("high");
    expect(churnRiskFor(0.2999)).toBe("high");
    expect(churnRiskFor(0.3)).toBe("medium");
    expect(churnRiskFor(0.6999)).toBe("medium");
    expect(churnRiskFor(0.7)).toBe("low");
    expect(churnRiskFor(1)).toBe("low");
  });
});

describe("model choice by backtest", () => {
  const orders = paretoShop();
  const choice = chooseAndFitModel(orderHistoryOf(orders, AS_OF), 0.25);
  const report = PredictionReport.parse(choice.report);

  it("fits all three on the history before the last 90 days and keeps the closest", () => {
    expect(report.candidates.map((c) => c.model).sort()).toEqual(["bg-nbd", "mbg-nbd", "pareto-nbd"]);
    const closest = [...report.candidates].sort((x, y) => x.holdoutError - y.holdoutError)[0]!;
    expect(report.model).toBe(closest.model);
    expect(report.holdout!.start).toBe("2026-03-04");
    expect(report.holdout!.end).toBe("2026-06-01");
    expect(report.holdout!.days).toBe(90);
    expect(report.chosenBecause).toContain("closest of the models");
    // Refitted on all history: not the calibration parameters.
    expect(report.parameters).not.toEqual(closest.parameters);
    expect(choice.model!.model).toBe(report.model);
  });

  it("counts the holdout's repeat order days of customers known before it, and sums their expectations", () => {
    const calibrationEnd = new Date(AS_OF.getTime() - 90 * DAY_MS);
    const calibrationDay = calibrationEnd.toISOString().slice(0, 10);
    const known = new Set(
      orders.filter((o) => o.date.toISOString().slice(0, 10) <= calibrationDay).map((o) => o.customerId),
    );
    const days = new Set(
      orders
        .filter((o) => known.has(o.customerId) && o.date.toISOString().slice(0, 10) > calibrationDay)
        .map((o) => `${o.customerId} ${o.date.toISOString().slice(0, 10)}`),
    );
    const holdout = report.holdout!;
    expect(holdout.actualOrders).toBe(days.size);
    expect(holdout.customers).toBe(known.size);
    const chosen = report.candidates.find((c) => c.model === report.model)!;
    const model = purchaseModel(report.model);
    const summaries = summarizeTransactions(orders, calibrationEnd);
    const predicted = summaries.reduce(
      (sum, s) => sum + model.expectedTransactions(chosen.parameters, 90 / 7, s.frequency, s.recency, s.T),
      0,
    );
    expect(holdout.predictedOrders).toBeCloseTo(predicted, 6);
    expect(chosen.holdoutPredicted).toBeCloseTo(predicted, 6);
    expect(holdout.relativeError).toBeCloseTo((predicted - days.size) / days.size, 10);
    // Data simulated from one of the models: the backtest lands close.
    expect(Math.abs(holdout.relativeError)).toBeLessThan(0.1);
    expect(report.shown).toBe(true);
    expect(report.failedCondition).toBeNull();
  });

  it("splits the holdout by week and by earlier repeat orders, adding up to its totals", () => {
    const holdout = report.holdout!;
    expect(holdout.weekly).toHaveLength(13);
    expect(holdout.weekly[0]!.weekStart).toBe("2026-03-04");
    expect(holdout.weekly[12]!.weekStart).toBe("2026-05-27");
    const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
    expect(sum(holdout.weekly.map((w) => w.actual))).toBe(holdout.actualOrders);
    expect(sum(holdout.weekly.map((w) => w.predicted))).toBeCloseTo(holdout.predictedOrders, 6);
    expect(holdout.byFrequency.map((g) => g.frequency)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(holdout.byFrequency.at(-1)!.orMore).toBe(true);
    expect(sum(holdout.byFrequency.map((g) => g.customers))).toBe(holdout.customers);
    expect(sum(holdout.byFrequency.map((g) => g.actual))).toBe(holdout.actualOrders);
    expect(sum(holdout.byFrequency.map((g) => g.predicted))).toBeCloseTo(holdout.predictedOrders, 6);
  });

  it("withholds predictions beyond the error bound and says so", () => {
    const strict = chooseAndFitModel(orderHistoryOf(orders, AS_OF), 0.0001).report;
    expect(strict.shown).toBe(false);
    expect(strict.errorBound).toBe(0.0001);
    expect(strict.failedCondition).toMatch(
      /^Checked on the last 90 days, the predictions were off by \d+\.\d% \([\d,]+ repeat orders predicted, [\d,]+ happened\); they are shown when within 0%\.$/,
    );
    const shop = predictFromHistory(orderHistoryOf(orders, AS_OF), { ...SETTINGS, maxHoldoutError: 0.0001 });
    expect(shop.gate).toEqual({ open: false, reason: strict.failedCondition });
    expect([...shop.rows].every((row) => row.probabilityAlive === null && row.churnRisk === null)).toBe(true);
    // The usual gap is history, not a prediction: it stays.
    expect([...shop.rows].some((row) => row.averageDaysBetweenOrders !== null)).toBe(true);
  });

  it("uses BG/NBD without a holdout when the history is too short to hold one out", () => {
    const recent = orders.filter((o) => o.date.getTime() >= AS_OF.getTime() - 100 * DAY_MS);
    const short = chooseAndFitModel(orderHistoryOf(recent, AS_OF), 0.25).report;
    expect(short.holdout).toBeNull();
    expect(short.candidates).toEqual([]);
    expect(short.model).toBe("bg-nbd");
    expect(short.chosenBecause).toMatch(/too short to hold out a period/);
    expect(short.shown).toBe(true);
  });
});

describe("per-customer predictions", () => {
  it("a one-order customer 200 days ago is less likely active than one who bought last week", () => {
    const orders = [
      ...paretoShop(),
      { customerId: "silent", date: new Date(AS_OF.getTime() - 200 * DAY_MS), amount: 40 },
      { customerId: "recent", date: new Date(AS_OF.getTime() - 300 * DAY_MS), amount: 40 },
      { customerId: "recent", date: new Date(AS_OF.getTime() - 7 * DAY_MS), amount: 40 },
      { customerId: "new", date: new Date(AS_OF.getTime() - 7 * DAY_MS), amount: 40 },
    ];
    const shop = predictFromHistory(orderHistoryOf(orders, AS_OF), SETTINGS);
    expect(shop.gate.open, shop.gate.reason).toBe(true);
    // On data with dropouts after the first order the backtest does not keep BG/NBD.
    expect(shop.report!.model).not.toBe("bg-nbd");
    const row = (id: string) => [...shop.rows].find((r) => r.customerId === id)!;
    expect(row("silent").probabilityAlive!).toBeLessThan(1);
    expect(row("silent").probabilityAlive!).toBeLessThan(row("recent").probabilityAlive!);
    expect(row("silent").probabilityAlive!).toBeLessThan(row("new").probabilityAlive!);
    expect(row("silent").churnRisk).toBe(churnRiskFor(row("silent").probabilityAlive!));
    for (const r of shop.rows) {
      expect(r.churnRisk).toBe(churnRiskFor(r.probabilityAlive!));
      expect(r.expectedOrders365!).toBeGreaterThanOrEqual(r.expectedOrders90!);
    }
  });

  it("gives the usual gap between order days and the next order at the last one plus that gap", () => {
    const at = (iso: string) => new Date(iso);
    const orders = [
      { customerId: "a", date: at("2026-01-01T10:00:00Z"), amount: 10 },
      { customerId: "a", date: at("2026-01-11T09:00:00Z"), amount: 10 },
      { customerId: "a", date: at("2026-01-11T18:00:00Z"), amount: 10 },
      { customerId: "a", date: at("2026-01-31T15:00:00Z"), amount: 10 },
      { customerId: "b", date: at("2026-02-01T12:00:00Z"), amount: 10 },
    ];
    const summaries = summarizeTransactions(orders, AS_OF);
    const last = new Map([
      ["a", at("2026-01-31T15:00:00Z")],
      ["b", at("2026-02-01T12:00:00Z")],
    ]);
    const model = chooseAndFitModel(orderHistoryOf(paretoShop(), AS_OF), 0.25).model!;
    const [a, b] = customerPredictions(summaries, last, model);
    // Order days 01-01, 01-11 (twice, one day), 01-31: gaps of 10 and 20 days, 15 on average.
    expect(a!.averageDaysBetweenOrders).toBeCloseTo(15, 10);
    expect(a!.expectedNextOrderAt).toEqual(at("2026-02-15T15:00:00Z"));
    expect(b!.averageDaysBetweenOrders).toBeNull();
    expect(b!.expectedNextOrderAt).toBeNull();
    expect(b!.probabilityAlive).toBeGreaterThan(0);
  });
});

describe("holdout split", () => {
  it("counts several orders on one day once and leaves out customers first seen in the holdout", () => {
    const day = (iso: string) => new Date(`${iso}T12:00:00Z`);
    const split = splitAtCalibrationEnd(
      [
        { customerId: "a", date: day("2026-01-01"), amount: 1 },
        { customerId: "a", date: day("2026-02-02"), amount: 1 },
        { customerId: "a", date: day("2026-02-02"), amount: 1 },
        { customerId: "a", date: day("2026-02-09"), amount: 1 },
        { customerId: "a", date: day("2026-03-02"), amount: 1 },
        { customerId: "n", date: day("2026-02-05"), amount: 1 },
        { customerId: "n", date: day("2026-02-06"), amount: 1 },
      ],
      day("2026-01-31"),
      day("2026-03-01"),
    );
    expect(split.days).toBe(29);
    expect(split.summaries.map((s) => s.customerId)).toEqual(["a"]);
    expect([...split.holdoutDays]).toEqual([["a", [2, 9]]]);
  });
});
