import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePredictionReport } from "../../app/models/prediction-report.server";
import { customerResponse, predictionsResponse } from "../../app/services/api.server";
import { simulatedInstall } from "../helpers/installed-shop";
import { samplePredictionReport, SAMPLE_ACTUAL, SAMPLE_PREDICTED } from "../helpers/prediction-report";
import { startAppServer, type RunningProcess } from "../helpers/processes";
import { BROWSER_HEADERS, sessionToken } from "../helpers/shopify-requests";

/**
 * GET /api/predictions and GET /api/customers/<id> through a running app
 * server: a run, its backtest and a customer's scores stored by hand, read
 * back as the contract says; the states without a run, without a backtest and
 * with predictions withheld; ids that are malformed, unknown or another shop's.
 */

type Install = Awaited<ReturnType<typeof simulatedInstall>>;
let install: Install;
let app: RunningProcess & { url: string };
const AS_OF = new Date("2026-11-01T05:00:00Z");
const DAY = 86_400_000;
const CUSTOMER = "gid://shopify/Customer/501";
const OTHER_SHOP_CUSTOMER = "gid://shopify/Customer/777";

beforeAll(async () => {
  install = await simulatedInstall({ size: "tiny" });
  app = await startAppServer({ ...install.env, NODE_ENV: "production", API_REQUESTS_PER_MINUTE: "1000" });
});

afterAll(async () => {
  await app?.stop();
  await install?.close();
});

const api = (path: string, shop = install.shop) =>
  fetch(`${app.url}${path}`, {
    headers: { authorization: `Bearer ${sessionToken(shop)}`, ...BROWSER_HEADERS },
  });

async function storeRun(data: { predictionsShown: boolean; predictionGate: string; predictionReport: unknown }) {
  await install.prisma.segmentationRun.deleteMany({ where: { shop: install.shop } });
  return install.prisma.segmentationRun.create({
    data: {
      shop: install.shop,
      trigger: "merchant",
      status: "succeeded",
      stage: "done",
      progress: 100,
      asOf: AS_OF,
      finishedAt: AS_OF,
      ...data,
      predictionReport: data.predictionReport === null ? undefined : (data.predictionReport as object),
    },
  });
}

describe("GET /api/predictions", () => {
  it("before any run: nothing shown, and why", async () => {
    const response = await api("/api/predictions");
    expect(response.status).toBe(200);
    const body = predictionsResponse.parse(await response.json());
    expect(body).toMatchObject({ model: null, holdout: null, shown: false, run: null, candidates: [] });
    expect(body.failedCondition).toBe("No segmentation has run yet.");
  });

  it("the stored backtest: model, parameters, holdout figures and candidates as the run stored them", async () => {
    const report = samplePredictionReport();
    const run = await storeRun({
      predictionsShown: true,
      predictionGate: "Predicted from 3412 customers (1312 repeat buyers) over 700 days of orders.",
      predictionReport: report,
    });
    const response = await api("/api/predictions");
    expect(response.status).toBe(200);
    const body = predictionsResponse.parse(await response.json());
    expect(body).toMatchObject({
      model: "bg-nbd",
      parameters: { r: 0.2426, alpha: 4.414, a: 0.793, b: 2.426 },
      holdout: { days: 90, predictedOrders: SAMPLE_PREDICTED, actualOrders: SAMPLE_ACTUAL, start: "2026-08-03" },
      shown: true,
      failedCondition: null,
      errorBound: 0.2,
      chosenBecause: report.chosenBecause,
      run: { id: run.id, asOf: AS_OF.toISOString() },
    });
    expect(body.relativeError).toBeCloseTo((1240 - 1187) / 1187, 10);
    expect(body.candidates.map((candidate) => candidate.model)).toEqual(["bg-nbd", "mbg-nbd", "pareto-nbd"]);
    expect(body.holdout!.byFrequency.reduce((sum, group) => sum + group.predicted, 0)).toBe(SAMPLE_PREDICTED);
    expect(body.holdout!.weekly.reduce((sum, week) => sum + week.actual, 0)).toBe(SAMPLE_ACTUAL);
  });

  it("a backtest outside its bound: not shown, with the condition that failed", async () => {
    const failedCondition = "The backtest was 31% off; predictions are shown up to 20%.";
    await storeRun({
      predictionsShown: true,
      predictionGate: "Predicted from 3412 customers.",
      predictionReport: samplePredictionReport({ shown: false, failedCondition }),
    });
    const body = predictionsResponse.parse(await (await api("/api/predictions")).json());
    expect(body).toMatchObject({ shown: false, failedCondition, model: "bg-nbd" });
  });

  it("a run without a backtest: its history gate says why", async () => {
    const predictionGate = "Predictions need at least 200 customers with orders; this shop has 12.";
    await storeRun({ predictionsShown: false, predictionGate, predictionReport: null });
    const body = predictionsResponse.parse(await (await api("/api/predictions")).json());
    expect(body).toMatchObject({ shown: false, failedCondition: predictionGate, model: null, holdout: null });
  });

  it("a stored report that no longer parses counts as none", async () => {
    expect(parsePredictionReport({ ...samplePredictionReport(), model: "mystery" })).toBeNull();
    await storeRun({
      predictionsShown: true,
      predictionGate: "Predicted.",
      predictionReport: { ...samplePredictionReport(), model: "mystery" },
    });
    const body = predictionsResponse.parse(await (await api("/api/predictions")).json());
    expect(body).toMatchObject({ shown: true, model: null, holdout: null });
  });
});

describe("GET /api/customers/<id>", () => {
  let rfmSegmentId: string;
  let timingSegmentId: string;

  beforeAll(async () => {
    const prisma = install.prisma;
    await prisma.customer.createMany({
      data: [
        {
          shop: install.shop,
          id: CUSTOMER,
          legacyId: 501,
          firstName: "Ada",
          lastName: "Quill",
          email: "ada@example.com",
        },
        { shop: `other-${install.shop}`, id: OTHER_SHOP_CUSTOMER, legacyId: 777, firstName: "Not", lastName: "Yours" },
      ].map((customer) => ({ ...customer, tags: ["vip"], shopifyCreatedAt: AS_OF, shopifyUpdatedAt: AS_OF })),
    });
    await prisma.customerScore.create({
      data: {
        shop: install.shop,
        customerId: CUSTOMER,
        recencyDays: 12,
        frequency: 4,
        monetary: "412.5000",
        averageOrderValue: "103.1250",
        firstOrderAt: new Date(AS_OF.getTime() - 300 * DAY),
        lastOrderAt: new Date(AS_OF.getTime() - 12 * DAY),
        rScore: 5,
        fScore: 4,
        mScore: 4,
        rfmSegment: "loyal",
        probabilityAlive: 0.87,
        previousProbabilityAlive: 0.9,
        expectedOrders90: 1.21,
        expectedOrders365: 3.9,
        expectedSpend90: "124.5000",
        expectedSpend365: "401.2500",
        churnRisk: "low",
        averageDaysBetweenOrders: 96,
        expectedNextOrderAt: new Date(AS_OF.getTime() + 9 * DAY),
        runId: randomUUID(),
      },
    });
    const segment = (key: string, kind: string, name: string, rule: string) =>
      prisma.segment.create({
        data: {
          shop: install.shop,
          key,
          kind,
          name,
          description: name,
          actions: [],
          namedBy: "local",
          size: 1,
          revenue: "412.5",
          revenueShare: 1,
          averageOrderValue: "103.125",
          definition: { rule },
          members: { create: { shop: install.shop, customerId: CUSTOMER } },
        },
      });
    rfmSegmentId = (await segment("rfm:loyal", "rfm", "Loyal", "R 3-5, F+M 7-8")).id;
    timingSegmentId = (await segment("timing:due-to-reorder", "timing", "Due to reorder", "expected within 14 days"))
      .id;
  });

  it("by numeric id and by GID alike: the customer, RFM, segments and the prediction", async () => {
    await storeRun({
      predictionsShown: true,
      predictionGate: "Predicted.",
      predictionReport: samplePredictionReport(),
    });
    const byId = await api("/api/customers/501");
    expect(byId.status).toBe(200);
    const body = customerResponse.parse(await byId.json());
    const byGid = await api(`/api/customers/${encodeURIComponent(CUSTOMER)}`);
    expect(byGid.status).toBe(200);
    expect(await byGid.json()).toEqual(body);
    expect(body.customer).toMatchObject({ id: CUSTOMER, legacyId: "501", firstName: "Ada", tags: ["vip"] });
    expect(body.rfm).toMatchObject({
      recencyDays: 12,
      frequency: 4,
      monetary: "412.5000",
      rScore: 5,
      fScore: 4,
      mScore: 4,
      segment: "loyal",
      segmentName: "Loyal",
    });
    expect(body.segments.map((s) => [s.id, s.kind, s.name])).toEqual([
      [rfmSegmentId, "rfm", "Loyal"],
      [timingSegmentId, "timing", "Due to reorder"],
    ]);
    expect(body.prediction).toEqual({
      probabilityActive: 0.87,
      expectedNextOrderAt: new Date(AS_OF.getTime() + 9 * DAY).toISOString(),
      churnRisk: "low",
      predictedValue365: "401.2500",
      expectedOrders90: 1.21,
      expectedOrders365: 3.9,
      averageDaysBetweenOrders: 96,
      historicValue: "412.5000",
    });
    expect(body.predictions.shown).toBe(true);
    expect(body.asOf).toBe(AS_OF.toISOString());
  });

  it("no prediction while predictions are withheld, and the reason", async () => {
    const failedCondition = "The backtest was 31% off; predictions are shown up to 20%.";
    await storeRun({
      predictionsShown: true,
      predictionGate: "Predicted.",
      predictionReport: samplePredictionReport({ shown: false, failedCondition }),
    });
    const body = customerResponse.parse(await (await api("/api/customers/501")).json());
    expect(body.prediction).toBeNull();
    expect(body.predictions).toEqual({ shown: false, reason: failedCondition });
    expect(body.rfm?.segment).toBe("loyal");
  });

  it("404 JSON for an unknown customer or another shop's, 400 for an id that is not a customer id", async () => {
    for (const id of ["999", "777", encodeURIComponent(OTHER_SHOP_CUSTOMER)]) {
      const response = await api(`/api/customers/${id}`);
      expect(response.status, id).toBe(404);
      expect(await response.json()).toEqual({ error: "no such customer" });
    }
    for (const id of ["abc", "0", "-4", "4.2", encodeURIComponent("gid://shopify/Order/501"), "1".repeat(20)]) {
      const response = await api(`/api/customers/${id}`);
      expect(response.status, id).toBe(400);
      expect((await response.json()).error).toMatch(/^id: /);
    }
  });

  it("is in the OpenAPI document with its id as a customer id, not a UUID", async () => {
    const document = (await (await fetch(`${app.url}/api/openapi.json`)).json()) as {
      paths: Record<string, { get: { parameters?: { name: string; schema: Record<string, unknown> }[] } }>;
    };
    const id = document.paths["/api/customers/{id}"]!.get.parameters!.find((p) => p.name === "id")!;
    expect(id.schema.format).toBeUndefined();
    expect(new RegExp(id.schema.pattern as string).test("501")).toBe(true);
    expect(new RegExp(id.schema.pattern as string).test(CUSTOMER)).toBe(true);
    expect(document.paths["/api/predictions"]!.get).toBeDefined();
  });
});
