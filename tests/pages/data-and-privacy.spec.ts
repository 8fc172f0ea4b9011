import { expect, test } from "@playwright/test";

test("the Data page starts a pull and shows the counts; the Privacy page renders", async ({ page }, testInfo) => {
  await page.goto(process.env.LOCAL_ADMIN_URL!.replace("/admin/local?", "/admin/local?path=/app/data&"));
  const app = page.frameLocator("#app-frame");
  await expect(app.getByText("Pull data from Shopify")).toBeVisible();
  // The install started the first full pull by itself; wait until it is in the history as succeeded.
  await expect(async () => {
    await page.reload();
    await expect(page.frameLocator("#app-frame").getByText("succeeded").first()).toBeVisible({ timeout: 2000 });
  }).toPass({ timeout: 60_000 });
  const frame = page.frameLocator("#app-frame");
  // tiny simulated store: 40 customers, 150 orders, 12 products
  await expect(frame.getByText("150", { exact: true })).toBeVisible();
  await expect(frame.getByText("40", { exact: true })).toBeVisible();
  await frame.getByLabel("What").selectOption("incremental");
  await frame.getByRole("button", { name: "Start pull" }).click();
  await expect(frame.getByText(/incremental · paginated/).first()).toBeVisible({ timeout: 15_000 });
  // The history speaks of the tiles' units, line items and variants apart, and names the time zone once.
  await expect(
    frame.getByText(/40 customers · 150 orders with [\d,]+ line items · 12 products with [\d,]+ variants/).first(),
  ).toBeVisible();
  await expect(frame.getByText(/^Times in /)).toHaveCount(1);
  await page.screenshot({ path: testInfo.outputPath("data.png"), fullPage: true });

  // At phone width (the local Admin folds its menu away; the app's frame is 375 px wide) nothing scrolls sideways.
  await page.setViewportSize({ width: 375, height: 800 });
  await page.reload();
  const phone = page.frameLocator("#app-frame");
  await expect(phone.getByText("Pull data from Shopify")).toBeVisible();
  const overflow = await phone
    .locator("body")
    .evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  expect(await phone.locator("body").evaluate(() => document.documentElement.clientWidth)).toBe(375);
  await page.screenshot({ path: testInfo.outputPath("data-375.png"), fullPage: true });

  await page.goto(process.env.LOCAL_ADMIN_URL!.replace("/admin/local?", "/admin/local?path=/app/privacy&"));
  await expect(page.frameLocator("#app-frame").getByText("No customer data requests")).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("privacy.png"), fullPage: true });
});
