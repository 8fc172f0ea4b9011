import { expect, test, type Page } from "@playwright/test";

/**
 * A merchant's first visit, from the URL `npm run demo` prints (the local
 * Admin), moving only through the sidebar and the app's own links, never by
 * typed URLs: the Dashboard's figures and charts, Segments sorted, filtered
 * and searched, a segment, one of its customers and back, a push to Shopify,
 * the pixel's disconnect that asks first, and the app's own 404 for a URL that
 * does not exist. No page logs a console error.
 */

test.describe.configure({ timeout: 180_000 });

function collectErrors(page: Page) {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    // The browser's own favicon request is not the app's.
    if (message.type() === "error" && !/favicon/.test(message.location().url)) {
      errors.push(`console: ${message.text()} (${message.location().url})`);
    }
  });
  return errors;
}

const sidebarLink = (page: Page, label: string) => page.locator("#app-nav a", { hasText: label }).first();

test("the merchant's journey through the sidebar", async ({ page }, testInfo) => {
  const errors = collectErrors(page);
  const app = page.frameLocator("#app-frame");
  const shot = (name: string) => page.screenshot({ path: testInfo.outputPath(`journey-${name}.png`), fullPage: true });

  // The Dashboard opens first; the install's first pull and segmentation fill it.
  await page.goto(process.env.LOCAL_ADMIN_URL!);
  await expect(async () => {
    await page.reload();
    await expect(app.locator("[data-next-action]").first()).toBeVisible({ timeout: 3_000 });
  }).toPass({ timeout: 120_000 });
  const revenueTile = app.locator("[data-kpi='revenue']");
  await expect(revenueTile.or(app.getByRole("heading", { name: "Revenue", exact: true })).first()).toBeVisible();
  await expect(app.getByText(/CA\$[\d,]+\.\d{2}/).first()).toBeVisible();
  await expect(app.getByText(/^Times in America\/Toronto/)).toBeVisible();
  for (const chart of ["Revenue over time", "Customers by RFM segment"]) {
    await expect(app.locator(`[data-chart="${chart}"] svg`).first()).toBeVisible();
  }
  await expect(app.getByRole("heading", { name: "What changed since the last run" })).toBeVisible();
  await shot("1-dashboard");

  // Segments, through the sidebar: sort, filter by kind, search.
  await sidebarLink(page, "Segments").click();
  await expect(page.locator("#title")).toHaveText("Segments");
  await expect(app.getByText("All segments")).toBeVisible();
  const rows = app.locator("table").first().locator("tbody tr");
  await app.getByRole("button", { name: "Segment", exact: true }).click();
  await expect(async () => {
    const names = (await rows.getByRole("link").allTextContents()).map((name) => name.trim());
    expect(names.length).toBeGreaterThan(1);
    expect(names).toEqual([...names].sort((x, y) => x.toLowerCase().localeCompare(y.toLowerCase())));
  }).toPass({ timeout: 15_000 });
  const kind = app.getByLabel("Kind");
  const rfmOption = (await kind.locator("option").allTextContents()).find((text) => text.startsWith("RFM ("))!;
  await kind.selectOption({ label: rfmOption });
  await expect(async () => {
    expect(await rows.count()).toBe(Number(rfmOption.match(/\((\d+)\)/)![1]));
  }).toPass({ timeout: 15_000 });
  // Search for the second largest segment (the Segments spec pushes the largest one itself).
  await kind.selectOption({ value: "all" });
  await app.getByRole("button", { name: "Customers", exact: true }).click();
  await expect(async () => {
    const sizes = await rows.evaluateAll((trs) =>
      trs.map((tr) => Number((tr.querySelectorAll("td")[1]?.textContent ?? "").replace(/\D/g, ""))),
    );
    expect(sizes.length).toBeGreaterThan(1);
    expect(sizes).toEqual([...sizes].sort((x, y) => y - x));
  }).toPass({ timeout: 15_000 });
  const segmentName = (await rows.nth(1).getByRole("link").first().textContent())!.trim();
  await app.getByLabel("Search segments").fill(segmentName);
  await expect(async () => {
    const names = await rows.getByRole("link").allTextContents();
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(name.toLowerCase()).toContain(segmentName.toLowerCase());
  }).toPass({ timeout: 15_000 });
  await shot("2-segments");

  // The segment, one of its members, and back.
  await rows.getByRole("link", { name: segmentName, exact: true }).click();
  await expect(app.getByRole("heading", { name: segmentName, level: 1 })).toBeVisible();
  await expect(app.getByText("Suggested actions")).toBeVisible();
  const member = app.getByRole("table").locator('a[href^="/app/customers/"]').first();
  const memberName = (await member.textContent())!.trim();
  await member.click();
  await expect(app.getByRole("heading", { name: memberName, level: 1 })).toBeVisible();
  await expect(app.getByText("Why they are in their segments")).toBeVisible();
  await expect(app.getByText(/^R [1-5] · F [1-5] · M [1-5]$/)).toBeVisible();
  await expect(app.getByText(/CA\$[\d,]+\.\d{2}/).first()).toBeVisible();
  await shot("3-customer");
  await page.goBack();
  await expect(app.getByRole("heading", { name: segmentName, level: 1 })).toBeVisible();

  // Push the segment to Shopify; its progress, then the link to the Shopify segment.
  await app.getByRole("button", { name: /Push to Shopify|Sync again/ }).click();
  await expect(app.getByText(/Pushing|In Shopify since/).first()).toBeVisible({ timeout: 30_000 });
  await expect(app.getByRole("link", { name: "Open the segment in Shopify" })).toHaveAttribute(
    "href",
    /^shopify:admin\/customers\/segments\/\d+$/,
    { timeout: 60_000 },
  );
  await shot("4-pushed");

  // The pixel: disconnecting asks first, and cancelling keeps it connected.
  await sidebarLink(page, "Pixel").click();
  await expect(app.getByRole("heading", { name: "Storefront pixel" })).toBeVisible();
  if (await app.getByRole("button", { name: "Connect pixel" }).isVisible()) {
    await app.getByRole("button", { name: "Connect pixel" }).click();
  }
  await expect(app.getByText("Connected", { exact: true })).toBeVisible({ timeout: 30_000 });
  await app.getByRole("button", { name: "Disconnect" }).click();
  const confirm = app.getByRole("dialog", { name: "Disconnect the pixel?" });
  await expect(confirm).toBeVisible();
  await shot("5-pixel-confirm");
  await confirm.getByRole("button", { name: "Cancel" }).click();
  await expect(confirm).toBeHidden();
  await expect(app.getByText("Connected", { exact: true })).toBeVisible();
  // Confirmed, it disconnects and says so in the Admin's toast.
  await app.getByRole("button", { name: "Disconnect" }).click();
  await confirm.getByRole("button", { name: "Disconnect" }).click();
  await expect(app.getByText("Not connected", { exact: true })).toBeVisible({ timeout: 30_000 });
  await expect(page.locator("#toasts")).toContainText(/disconnected/i);

  // Every other page of the menu opens without an error.
  for (const label of ["Predictions", "Customers", "Data", "Products", "Privacy requests"]) {
    await sidebarLink(page, label).click();
    await expect(page.locator("#title")).toHaveText(new RegExp(label.split(" ")[0]!, "i"));
    await expect(app.locator(".Polaris-Page").first()).toBeVisible();
  }

  expect(errors).toEqual([]);

  // A URL that does not exist: the app's own 404 inside the frame, with a way back. The browser
  // reports the document's 404 status in the console; that one line is the point, not an error.
  await page.goto(process.env.LOCAL_ADMIN_URL!.replace("/admin/local?", "/admin/local?path=%2Fapp%2Fno-such-page&"));
  await expect(app.getByText("Page not found")).toBeVisible();
  await expect(app.getByRole("link", { name: /Dashboard/ })).toBeVisible();
  await shot("6-not-found");
  expect(errors.filter((error) => !/status of 404 .*\/app\/no-such-page\?/.test(error))).toEqual([]);
});
