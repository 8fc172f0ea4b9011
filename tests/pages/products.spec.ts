import { expect, test } from "@playwright/test";

test("the Products page enriches the store's products by local rules when no AI model is set", async ({
  page,
}, testInfo) => {
  const productsUrl = process.env.LOCAL_ADMIN_URL!.replace("/admin/local?", "/admin/local?path=/app/products&");
  await page.goto(productsUrl);
  await expect(page.frameLocator("#app-frame").getByText("Product enrichment")).toBeVisible();
  // The install's first pull brings the tiny simulated store's 12 products.
  await expect(async () => {
    await page.reload();
    await expect(page.frameLocator("#app-frame").getByText(/^12 products/)).toBeVisible({ timeout: 2000 });
  }).toPass({ timeout: 60_000 });
  const frame = page.frameLocator("#app-frame");
  await expect(frame.getByText(/No AI model is configured/)).toBeVisible();
  await expect(frame.getByText("Not enriched yet").first()).toBeVisible();

  await frame.getByRole("button", { name: "Enrich products" }).click();
  await expect(frame.getByText(/12 by local rules · 0 not enriched/)).toBeVisible({ timeout: 30_000 });
  await expect(frame.getByText("Not enriched yet")).toHaveCount(0);
  await expect(frame.getByText("Local rules", { exact: true })).toHaveCount(12);
  await expect(frame.getByText(/looking for/).first()).toBeVisible();
  await expect(frame.getByText("category:").first()).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("products.png"), fullPage: true });
});
