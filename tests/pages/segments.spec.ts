import { expect, test } from "@playwright/test";

/**
 * The Segments pages on the page-test store: segments computed after the
 * install's first pull, the RFM grid, one segment with its members, and a
 * push to (simulated) Shopify.
 */

const segmentsPage = () => process.env.LOCAL_ADMIN_URL!.replace("/admin/local?", "/admin/local?path=/app/segments&");

test("segments appear after the first pull; a segment shows its members and goes to Shopify", async ({
  page,
}, testInfo) => {
  await page.goto(segmentsPage());
  await expect(async () => {
    await page.reload();
    await expect(page.frameLocator("#app-frame").getByText("Micro-segments")).toBeVisible({ timeout: 2000 });
  }).toPass({ timeout: 90_000 });
  const frame = page.frameLocator("#app-frame");
  await expect(frame.getByRole("table", { name: "RFM grid" })).toBeVisible();
  await expect(frame.getByText("RFM segments")).toBeVisible();
  // The page-test store is small: predicted value is withheld, and the page says why.
  await expect(frame.getByText(/Predicted value is not shown:/)).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("segments.png"), fullPage: true });

  const firstSegment = frame.locator("table a").first();
  const name = (await firstSegment.textContent())!;
  await firstSegment.click();
  await expect(frame.getByRole("heading", { name })).toBeVisible();
  await expect(frame.getByText("Suggested actions")).toBeVisible();
  await expect(frame.getByText(/customers$/).last()).toBeVisible();
  await frame.getByRole("button", { name: "Push to Shopify" }).click();
  await expect(frame.getByText(/In Shopify since/)).toBeVisible({ timeout: 30_000 });
  await page.screenshot({ path: testInfo.outputPath("segment.png"), fullPage: true });
});
