import { expect, test, type Page } from "@playwright/test";

/**
 * The Dashboard on the page-test store (CAD, America/Toronto), after the
 * install's first pull and segmentation: KPIs in the shop's currency, charts
 * drawn, next actions that lead to their segments, the period in the URL, and
 * no sideways scroll at phone width.
 */

const dashboardAt = (path: string) =>
  process.env.LOCAL_ADMIN_URL!.replace("/admin/local?", `/admin/local?path=${encodeURIComponent(path)}&`);

/** Console errors and failed requests, but for the browser's own favicon request. */
function watchErrors(page: Page) {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) errors.push(message.text());
  });
  page.on("response", (response) => {
    if (response.status() >= 400 && !new URL(response.url()).pathname.endsWith("/favicon.ico")) {
      errors.push(`${response.status()} ${response.url()}`);
    }
  });
  return errors;
}

/** The page grown to the app frame's full height, so a screenshot shows the whole Dashboard. */
async function screenshotWholeFrame(page: Page, path: string) {
  const frame = page.frames().find((candidate) => candidate !== page.mainFrame())!;
  const height = await frame.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: page.viewportSize()!.width, height: height + 80 });
  await page.waitForTimeout(500);
  await page.screenshot({ path, fullPage: true });
}

test("the Dashboard opens on figures, charts and next actions in the shop's currency", async ({ page }, testInfo) => {
  const errors = watchErrors(page);
  await page.goto(process.env.LOCAL_ADMIN_URL!);
  await expect(page.locator("#title")).toHaveText("MicroSegment");

  // The install's first pull and the segmentation after it; until then the page shows the pull.
  await expect(async () => {
    await page.reload();
    await expect(page.frameLocator("#app-frame").locator("[data-next-action]").first()).toBeVisible({ timeout: 3000 });
  }).toPass({ timeout: 120_000 });
  const app = page.frameLocator("#app-frame");

  // KPIs: money in Canadian dollars with two decimals, the zone named, the comparison said.
  const revenueTile = app.locator("h3", { hasText: /^Revenue$/ }).locator("..");
  await expect(revenueTile.getByText(/^CA\$[\d,]+\.\d{2}$/)).toBeVisible();
  await expect(app.getByText(/^Times in America\/Toronto/)).toBeVisible();
  await expect(app.getByText(/vs previous 30 days$/).first()).toBeVisible();
  for (const label of ["Orders", "Average order value", "Customers who ordered", "New customers", "Returning-customer rate"]) {
    await expect(app.getByRole("heading", { name: label, exact: true })).toBeVisible();
  }
  await expect(app.getByRole("heading", { name: "Predicted revenue, next 90 days" })).toBeVisible();

  // Charts drawn after hydration, in their boxes.
  for (const chart of ["Revenue over time", "Orders over time", "Customers by RFM segment"]) {
    await expect(app.locator(`[data-chart="${chart}"] svg`).first()).toBeVisible();
  }

  // The connection and store details stay, lower down.
  await expect(app.getByRole("heading", { name: "Shopify connection" })).toBeVisible();
  await expect(app.getByText("Connected", { exact: true })).toBeVisible();
  await expect(app.getByText("Page Test Provisions")).toBeVisible();
  await expect(app.getByText("CAD", { exact: true })).toBeVisible();

  await screenshotWholeFrame(page, testInfo.outputPath("dashboard.png"));
  await testInfo.attach("dashboard", { path: testInfo.outputPath("dashboard.png"), contentType: "image/png" });

  // Each next action names money or customers and leads to its segment's page.
  const action = app.locator("[data-next-action] a").first();
  await expect(action).toHaveAttribute("href", /\/app\/segments\/[0-9a-f-]{36}/);
  const title = (await action.textContent())!;
  const segmentName = /“(.+)”/.exec(title)![1]!;
  await action.click();
  await expect(app.getByRole("heading", { name: segmentName })).toBeVisible();
  await expect(app.getByText("Suggested actions")).toBeVisible();

  expect(errors).toEqual([]);
});

test("the period lives in the URL; a bad one falls back to 30 days", async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto(dashboardAt("/app?period=bogus"));
  const app = page.frameLocator("#app-frame");
  await expect(app.getByLabel("Period")).toHaveValue("30");
  await expect(app.getByText(/vs previous 30 days$/).first()).toBeVisible();

  await app.getByLabel("Period").selectOption("90");
  await expect(app.getByText(/vs previous 90 days$/).first()).toBeVisible();
  await expect(app.getByRole("heading", { name: "Revenue by week" })).toBeVisible();
  const frame = page.frames().find((candidate) => candidate !== page.mainFrame())!;
  expect(new URL(frame.url()).searchParams.get("period")).toBe("90");

  await page.goto(dashboardAt("/app?period=365"));
  await expect(page.frameLocator("#app-frame").getByLabel("Period")).toHaveValue("365");
  expect(errors).toEqual([]);
});

test("at phone width the KPI tiles wrap and nothing scrolls sideways", async ({ page }, testInfo) => {
  const errors = watchErrors(page);
  // At phone width the local Admin folds its menu away, as Shopify's does: the app's frame is the viewport.
  await page.setViewportSize({ width: 375, height: 900 });
  await page.goto(process.env.LOCAL_ADMIN_URL!);
  const app = page.frameLocator("#app-frame");
  await expect(app.locator('[data-chart="Revenue over time"] svg').first()).toBeVisible({ timeout: 30_000 });
  const frame = page.frames().find((candidate) => candidate !== page.mainFrame())!;
  const widths = await frame.evaluate(() => ({
    viewport: window.innerWidth,
    content: document.documentElement.scrollWidth,
  }));
  expect(widths.viewport).toBeLessThanOrEqual(376);
  expect(widths.content).toBeLessThanOrEqual(widths.viewport);
  // Tiles stack: Orders sits below Revenue, not beside it.
  const revenue = await app.getByRole("heading", { name: "Revenue", exact: true }).boundingBox();
  const orders = await app.getByRole("heading", { name: "Orders", exact: true }).boundingBox();
  expect(orders!.y).toBeGreaterThan(revenue!.y);
  await screenshotWholeFrame(page, testInfo.outputPath("dashboard-phone.png"));
  await testInfo.attach("dashboard-phone", { path: testInfo.outputPath("dashboard-phone.png"), contentType: "image/png" });
  expect(errors).toEqual([]);
});
