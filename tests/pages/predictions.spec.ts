import { expect, test, type FrameLocator, type Page } from "@playwright/test";
import pg from "pg";
import { samplePredictionReport } from "../helpers/prediction-report";
import { PAGE_TEST_SHOP } from "./global-setup";

/**
 * The Predictions page on the page-test store: a stored backtest (the sentence,
 * the charts, the tables and figures agreeing with the report), predictions
 * withheld by the backtest (the failed condition said), a run without a
 * backtest, no run at all; the customer page's predictions while shown; phone
 * width. The store is too small for predictions of its own, so the spec writes
 * the report onto the latest run and puts the run back as it was afterwards.
 */

const adminPage = (path: string) =>
  process.env.LOCAL_ADMIN_URL!.replace("/admin/local?", `/admin/local?path=${encodeURIComponent(path)}&`);

let db: pg.Client;
let runId: string;
let original: { predictionsShown: boolean; predictionGate: string | null; predictionReport: unknown };

async function storeReport(predictionsShown: boolean, report: unknown) {
  await db.query(
    `UPDATE "SegmentationRun" SET "predictionsShown" = $2, "predictionReport" = $3::jsonb WHERE id = $1::uuid`,
    [runId, predictionsShown, report === null ? null : JSON.stringify(report)],
  );
}

function watchErrors(page: Page) {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error" && !message.location().url.endsWith("/favicon.ico")) errors.push(message.text());
  });
  return errors;
}

async function fullScreenshot(page: Page, path: string) {
  const frame = page.frames().find((candidate) => candidate !== page.mainFrame())!;
  const height = await frame.evaluate(() => document.documentElement.scrollHeight);
  const viewport = page.viewportSize()!;
  await page.setViewportSize({ width: viewport.width, height: Math.min(height + 120, 8000) });
  await page.waitForTimeout(500);
  await page.screenshot({ path, fullPage: true });
  await page.setViewportSize(viewport);
}

/** The rows of the table under a heading, as cell texts. */
async function tableRows(section: ReturnType<FrameLocator["locator"]>) {
  return section
    .locator("table tbody tr")
    .evaluateAll((rows) =>
      rows.map((row) => [...row.querySelectorAll("th, td")].map((cell) => cell.textContent!.trim())),
    );
}

const sectionTitled = (app: FrameLocator, title: string) =>
  app
    .locator(".Polaris-Card, .Polaris-ShadowBevel")
    .filter({ has: app.getByRole("heading", { name: title }) })
    .last();

test.describe.configure({ mode: "serial" });

test.beforeAll(async ({ browser }) => {
  test.setTimeout(240_000);
  db = new pg.Client({ connectionString: process.env.PAGE_TEST_DATABASE_URL });
  await db.connect();
  // Opening the app installs it (when no spec before this one has); the install's pull is followed by the
  // first segmentation run, whose row the spec writes its reports onto.
  const page = await browser.newPage();
  await page.goto(process.env.LOCAL_ADMIN_URL!);
  await expect(page.frameLocator("#app-frame").locator(".Polaris-Page").first()).toBeVisible({ timeout: 60_000 });
  await page.close();
  const deadline = Date.now() + 180_000;
  for (;;) {
    const { rows } = await db.query<typeof original & { id: string }>(
      `SELECT id, "predictionsShown", "predictionGate", "predictionReport" FROM "SegmentationRun"
       WHERE shop = $1 AND stage IN ('naming', 'done') AND status IN ('succeeded', 'cancelled')
       ORDER BY "requestedAt" DESC LIMIT 1`,
      [PAGE_TEST_SHOP],
    );
    if (rows[0]) {
      ({ id: runId, ...original } = rows[0]);
      break;
    }
    if (Date.now() > deadline) throw new Error("the page-test store's first segmentation run did not finish");
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
});

test.afterAll(async () => {
  if (original) await storeReport(original.predictionsShown, original.predictionReport);
  await db.end();
});

test("a stored backtest in words, charts and tables that agree with the report", async ({ page }, testInfo) => {
  const errors = watchErrors(page);
  const report = samplePredictionReport();
  await storeReport(true, report);
  await page.goto(process.env.LOCAL_ADMIN_URL!);
  const app = page.frameLocator("#app-frame");
  await expect(app.locator(".Polaris-Page").first()).toBeVisible({ timeout: 30_000 });
  // Reached from the app's own menu in the Admin's sidebar.
  await page.locator("#app-nav a", { hasText: "Predictions" }).first().click();
  await expect(page.locator("#title")).toHaveText("Predictions", { timeout: 15_000 });

  await expect(app.getByRole("heading", { name: "Predictions are shown" })).toBeVisible({ timeout: 30_000 });
  // One backtest, one error: 1,240 against 1,187 is 4.5% high wherever the page says it.
  await expect(app.getByText(/The backtest was 4\.5% off, within the bound of 20%/)).toBeVisible();
  await expect(app.locator("[data-backtest-sentence]")).toHaveText(
    "We predicted 1,240 repeat orders for the last 90 days; 1,187 happened, so the prediction was 4.5% high.",
  );
  await expect(app.getByText(/We held back Aug 3, 2026 – Oct 31, 2026/)).toBeVisible();
  const figure = (label: string) =>
    app.getByRole("heading", { name: label, level: 3 }).locator("xpath=following-sibling::p");
  await expect(figure("Customers predicted")).toHaveText("3,412");
  await expect(figure("Predicted repeat orders")).toHaveText("1,240");
  await expect(figure("Actual repeat orders")).toHaveText("1,187");
  await expect(figure("Error (shown up to 20%)")).toHaveText("+4.5%");

  // Both charts drawn, in boxes that were their final size from the first paint.
  for (const chart of [
    "Predicted against actual by number of earlier orders",
    "Weekly repeat orders, actual and predicted",
  ]) {
    await expect(app.locator(`[data-chart="${chart}"] svg`).first()).toBeVisible();
  }
  // The weekly chart has one point a week of the holdout for each series.
  await expect(app.locator('[data-chart="Weekly repeat orders, actual and predicted"]')).toContainText("Aug 3, 2026");

  // The table under the first chart is the report's breakdown, group by group, with its totals.
  const byFrequency = sectionTitled(app, "Predicted against actual, by number of earlier orders");
  const rows = await tableRows(byFrequency);
  expect(rows).toEqual(
    report.holdout.byFrequency.map((group) => [
      `${group.frequency}${group.orMore ? "+" : ""}`,
      group.customers.toLocaleString("en-US"),
      String(group.predicted),
      String(group.actual),
    ]),
  );
  await expect(byFrequency.locator("table tfoot, table tr").last()).toContainText("3,412");

  // The model chosen, why, and every candidate's error.
  const model = sectionTitled(app, "The model and why");
  await expect(model.getByText("BG/NBD", { exact: true })).toBeVisible();
  await expect(model.locator("[data-chosen-because]")).toHaveText(report.chosenBecause);
  expect(await tableRows(model)).toEqual([
    ["BG/NBD ✓", "1,240", "4.5%", "-8,120.5"],
    ["MBG/NBD", "1,259", "6.1%", "-8,119.9"],
    ["Pareto/NBD", "1,286", "8.3%", "-8,131.2"],
  ]);
  await expect(model.getByText(/Refitted on all history: r 0\.243 · α 4\.414 · a 0\.793 · b 2\.426 /)).toBeVisible();

  await fullScreenshot(page, testInfo.outputPath("predictions.png"));
  await testInfo.attach("predictions", { path: testInfo.outputPath("predictions.png"), contentType: "image/png" });
  expect(errors).toEqual([]);
});

test("at phone width the page stacks and nothing scrolls sideways", async ({ page }, testInfo) => {
  await storeReport(true, samplePredictionReport());
  await page.setViewportSize({ width: 375, height: 900 });
  await page.goto(adminPage("/app/predictions"));
  const app = page.frameLocator("#app-frame");
  await expect(app.locator('[data-chart="Weekly repeat orders, actual and predicted"] svg').first()).toBeVisible({
    timeout: 30_000,
  });
  const frame = page.frames().find((candidate) => candidate !== page.mainFrame())!;
  const widths = await frame.evaluate(() => ({
    viewport: window.innerWidth,
    content: document.documentElement.scrollWidth,
  }));
  expect(widths.viewport).toBeLessThanOrEqual(376);
  expect(widths.content).toBeLessThanOrEqual(widths.viewport);
  await fullScreenshot(page, testInfo.outputPath("predictions-phone.png"));
  await testInfo.attach("predictions-phone", {
    path: testInfo.outputPath("predictions-phone.png"),
    contentType: "image/png",
  });
});

test("predictions withheld by the backtest: the page says which condition failed", async ({ page }, testInfo) => {
  const failedCondition =
    "Checked on the last 90 days, the predictions were off by 30.9% (1,240 repeat orders predicted, 947 happened); they are shown when within 20%.";
  await storeReport(
    true,
    samplePredictionReport({
      shown: false,
      failedCondition,
      holdout: { ...samplePredictionReport().holdout, actualOrders: 947, relativeError: (1240 - 947) / 947 },
    }),
  );
  await page.goto(adminPage("/app/predictions"));
  const app = page.frameLocator("#app-frame");
  await expect(app.getByRole("heading", { name: "Predictions are not shown" })).toBeVisible({ timeout: 30_000 });
  await expect(app.locator("[data-failed-condition]")).toHaveText(failedCondition);
  // The backtest that failed stays in view: the merchant sees how far off it was.
  await expect(app.locator("[data-backtest-sentence]")).toHaveText(
    "We predicted 1,240 repeat orders for the last 90 days; 947 happened, so the prediction was 30.9% high.",
  );
  await page.screenshot({ path: testInfo.outputPath("predictions-not-shown.png"), fullPage: true });
});

test("a run without a backtest, and a shop with no run yet", async ({ page }, testInfo) => {
  await storeReport(false, null);
  await page.goto(adminPage("/app/predictions"));
  const app = page.frameLocator("#app-frame");
  await expect(app.getByRole("heading", { name: "Predictions are not shown" })).toBeVisible({ timeout: 30_000 });
  // The page-test store is small: the history gate's reason, as the run stored it.
  await expect(app.locator("[data-failed-condition]")).toHaveText(original.predictionGate!);
  await expect(app.getByRole("heading", { name: "No backtest for the last run" })).toBeVisible();
  await expect(app.locator("[data-chart]")).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath("predictions-no-backtest.png"), fullPage: true });

  // No run at all: the shop's runs are set aside for a moment (as a new shop has none), then put back.
  const aside = `${PAGE_TEST_SHOP}.aside`;
  await db.query(`UPDATE "SegmentationRun" SET shop = $2 WHERE shop = $1`, [PAGE_TEST_SHOP, aside]);
  try {
    await page.goto(adminPage("/app/predictions"));
    await expect(app.getByText("No predictions yet")).toBeVisible({ timeout: 30_000 });
    await expect(app.getByRole("link", { name: "Data" })).toHaveAttribute("href", /\/app\/data/);
    await page.screenshot({ path: testInfo.outputPath("predictions-empty.png"), fullPage: true });
  } finally {
    await db.query(`UPDATE "SegmentationRun" SET shop = $1 WHERE shop = $2`, [PAGE_TEST_SHOP, aside]);
  }
});

test("while predictions are shown, the customer page shows a customer's as Klaviyo does", async ({
  page,
}, testInfo) => {
  await storeReport(true, samplePredictionReport());
  const [customer] = (
    await db.query<{ customerId: string; legacyId: string; saved: Record<string, unknown> }>(
      `SELECT s."customerId", c."legacyId"::text AS "legacyId",
              json_build_object('probabilityAlive', s."probabilityAlive", 'expectedOrders90', s."expectedOrders90",
                'expectedOrders365', s."expectedOrders365", 'expectedSpend90', s."expectedSpend90",
                'expectedSpend365', s."expectedSpend365", 'churnRisk', s."churnRisk",
                'averageDaysBetweenOrders', s."averageDaysBetweenOrders", 'expectedNextOrderAt', s."expectedNextOrderAt") AS saved
       FROM "CustomerScore" s JOIN "Customer" c ON c.shop = s.shop AND c.id = s."customerId"
       WHERE s.shop = $1 ORDER BY s.frequency DESC, s."customerId" LIMIT 1`,
      [PAGE_TEST_SHOP],
    )
  ).rows;
  const setPrediction = (values: Record<string, unknown>) =>
    db.query(
      `UPDATE "CustomerScore" SET "probabilityAlive" = $3, "expectedOrders90" = $4, "expectedOrders365" = $5,
         "expectedSpend90" = $6, "expectedSpend365" = $7, "churnRisk" = $8, "averageDaysBetweenOrders" = $9,
         "expectedNextOrderAt" = $10
       WHERE shop = $1 AND "customerId" = $2`,
      [
        PAGE_TEST_SHOP,
        customer!.customerId,
        values.probabilityAlive,
        values.expectedOrders90,
        values.expectedOrders365,
        values.expectedSpend90,
        values.expectedSpend365,
        values.churnRisk,
        values.averageDaysBetweenOrders,
        values.expectedNextOrderAt,
      ],
    );
  await setPrediction({
    probabilityAlive: 0.42,
    expectedOrders90: 0.61,
    expectedOrders365: 1.83,
    expectedSpend90: "74.1000",
    expectedSpend365: "222.5500",
    churnRisk: "medium",
    averageDaysBetweenOrders: 47.4,
    // Noon UTC: the same calendar day in Toronto.
    expectedNextOrderAt: "2026-11-20T17:00:00Z",
  });
  try {
    await page.goto(adminPage(`/app/customers/${customer!.legacyId}`));
    const app = page.frameLocator("#app-frame");
    const value = sectionTitled(app, "Value");
    const figure = (label: string) =>
      value.getByRole("heading", { name: label, level: 3, exact: true }).locator("xpath=following-sibling::*[1]");
    await expect(figure("Predicted value, next 365 days")).toHaveText("CA$222.55", { timeout: 30_000 });
    await expect(figure("Probability active")).toHaveText("42.0%");
    // A badge: Polaris prefixes its tone for screen readers.
    await expect(figure("Churn risk")).toHaveText(/^Warning ?Medium$/);
    await expect(figure("Expected orders, 90 days")).toHaveText("0.61");
    await expect(figure("Expected orders, 365 days")).toHaveText("1.83");
    await expect(figure("Average days between orders")).toHaveText("47.4");
    await expect(figure("Expected next order")).toHaveText("Nov 20, 2026");
    await expect(figure("Historic value")).toHaveText(/^CA\$[\d,]+\.\d{2}$/);
    await fullScreenshot(page, testInfo.outputPath("customer-predictions.png"));
  } finally {
    await setPrediction(customer!.saved);
  }
});
