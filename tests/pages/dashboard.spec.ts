import { expect, test } from "@playwright/test";

test("the Dashboard renders inside the local Admin's iframe", async ({ page }, testInfo) => {
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error" && /React error|Hydration/i.test(message.text())) pageErrors.push(message.text());
  });

  await page.goto(process.env.LOCAL_ADMIN_URL!);
  const app = page.frameLocator("#app-frame");

  await expect(app.getByRole("heading", { name: "Shopify connection" })).toBeVisible();
  await expect(app.getByText("Connected", { exact: true })).toBeVisible();
  await expect(app.getByText("page-tests.myshopify.com")).toBeVisible();
  // The App Bridge stand-in reported the title bar to the Admin frame.
  await expect(page.locator("#title")).toHaveText("MicroSegment");

  // The first job fetched the store's details; a reload shows them.
  await expect(async () => {
    await page.reload();
    await expect(page.frameLocator("#app-frame").getByText("Page Test Provisions")).toBeVisible({ timeout: 2000 });
  }).toPass({ timeout: 30_000 });
  await expect(page.frameLocator("#app-frame").getByText("CAD")).toBeVisible();

  const screenshot = testInfo.outputPath("dashboard.png");
  await page.screenshot({ path: screenshot, fullPage: true });
  await testInfo.attach("dashboard", { path: screenshot, contentType: "image/png" });
  expect(pageErrors).toEqual([]);
});
