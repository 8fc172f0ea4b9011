import { readFile } from "node:fs/promises";
import { expect, type FrameLocator, type Page, test } from "@playwright/test";
import pg from "pg";

/**
 * The Segments pages on the page-test store: segments computed after the
 * install's first pull; the list sorted, filtered and searched through its URL;
 * the RFM grid; one segment with its members, their links, the CSV export and a
 * push to (simulated) Shopify; unknown segments answer 404.
 */

const adminUrl = (path: string) =>
  process.env.LOCAL_ADMIN_URL!.replace("/admin/local?", `/admin/local?path=${encodeURIComponent(path)}&`);

/** The local Admin at phone width: its own sidebar hidden, so the app's frame is 375 px wide. */
async function phoneWidth(page: Page) {
  await page.setViewportSize({ width: 375, height: 800 });
  await page.addStyleTag({
    content:
      "body { display: block !important; } header { height: 56px; } nav { display: none !important; } main { height: calc(100vh - 56px); }",
  });
}

/** The frame's full height as one screenshot, then the viewport back. */
async function fullScreenshot(page: Page, path: string) {
  const frame = page.frame({ name: "app-frame" }) ?? page.frames().find((f) => f !== page.mainFrame())!;
  const height = await frame.evaluate(() => document.documentElement.scrollHeight);
  const viewport = page.viewportSize()!;
  await page.setViewportSize({ width: viewport.width, height: Math.min(height + 120, 8000) });
  await page.waitForTimeout(500);
  await page.screenshot({ path, fullPage: true });
  await page.setViewportSize(viewport);
}

const frameUrl = (page: Page) =>
  (page.frame({ name: "app-frame" }) ?? page.frames().find((f) => f !== page.mainFrame())!).url();

async function noSidewaysScroll(page: Page) {
  const frame = page.frame({ name: "app-frame" }) ?? page.frames().find((f) => f !== page.mainFrame())!;
  const [scrollWidth, clientWidth] = await frame.evaluate(() => [
    document.documentElement.scrollWidth,
    document.documentElement.clientWidth,
  ]);
  expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
}

const segmentRows = (frame: FrameLocator) => frame.getByRole("table").first().locator("tbody tr");

async function columnTexts(frame: FrameLocator, column: number) {
  return segmentRows(frame).evaluateAll(
    (rows, index) => rows.map((row) => row.querySelectorAll("td")[index]?.textContent?.trim() ?? ""),
    column,
  );
}

const count = (text: string) => Number(text.replace(/[^0-9-]/g, ""));

test.describe.configure({ mode: "serial" });

test("the Segments list sorts, filters and searches through its URL", async ({ page }, testInfo) => {
  await page.goto(adminUrl("/app/segments"));
  const frame = page.frameLocator("#app-frame");
  await expect(async () => {
    await page.reload();
    await expect(frame.getByText("All segments")).toBeVisible({ timeout: 2000 });
  }).toPass({ timeout: 90_000 });
  await expect(frame.getByRole("table", { name: "RFM grid" })).toBeVisible();
  // The page-test store is small: predicted value is withheld, and the page says why.
  await expect(frame.getByText(/Predicted value is not shown:/)).toBeVisible();
  await expect(
    frame.getByText(/customers: .* with orders are scored; .* without orders are not in the grid/),
  ).toBeVisible();
  await expect(frame.getByText(/so their shares add to more than 100%/)).toBeVisible();

  // Default: largest first.
  const sizes = (await columnTexts(frame, 1)).map(count);
  expect(sizes.length).toBeGreaterThan(1);
  expect(sizes).toEqual([...sizes].sort((x, y) => y - x));

  // Sorting by name puts it in the URL and orders the rows.
  await frame.getByRole("button", { name: "Segment", exact: true }).click();
  await expect.poll(() => frameUrl(page)).toMatch(/sort=name&dir=asc/);
  await expect(async () => {
    const names = await columnTexts(frame, 0);
    const sorted = [...names].sort((x, y) => x.toLowerCase().localeCompare(y.toLowerCase()));
    expect(names).toEqual(sorted);
  }).toPass({ timeout: 10_000 });

  // Sorting by customers, then again for ascending.
  await frame.getByRole("button", { name: "Customers", exact: true }).click();
  await expect.poll(() => frameUrl(page)).toMatch(/sort=size&dir=desc|dir=desc&.*sort=size|sort=size.*dir=desc/);
  await frame.getByRole("button", { name: "Customers", exact: true }).click();
  await expect.poll(() => frameUrl(page)).toMatch(/dir=asc/);
  await expect(async () => {
    const ascending = (await columnTexts(frame, 1)).map(count);
    expect(ascending).toEqual([...ascending].sort((x, y) => x - y));
  }).toPass({ timeout: 10_000 });

  // Filter by kind: only RFM segments, as many as the option says.
  const kind = frame.getByLabel("Kind");
  const rfmOption = (await kind.locator("option").allTextContents()).find((text) => text.startsWith("RFM ("))!;
  await kind.selectOption({ label: rfmOption });
  await expect.poll(() => frameUrl(page)).toMatch(/kind=rfm/);
  await expect(async () => {
    const kinds = await columnTexts(frame, 5);
    expect(kinds.length).toBe(count(rfmOption));
    expect(new Set(kinds)).toEqual(new Set(["RFM"]));
  }).toPass({ timeout: 10_000 });
  await expect(frame.getByText(/so their shares add to more than 100%/)).toHaveCount(0);

  // Search by name within the filter.
  const first = (await columnTexts(frame, 0))[0]!;
  const fragment = first.slice(0, 4);
  await frame.getByLabel("Search segments").fill(fragment);
  await expect
    .poll(() => frameUrl(page))
    .toMatch(new RegExp(`q=${encodeURIComponent(fragment).replace(/%20/g, "(\\+|%20)")}`));
  await expect(async () => {
    const names = await columnTexts(frame, 0);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(name.toLowerCase()).toContain(fragment.toLowerCase());
  }).toPass({ timeout: 10_000 });
  await frame.getByLabel("Search segments").fill("no segment is called this");
  await expect(frame.getByText("No segment matches this search.")).toBeVisible();

  // Unknown words in the URL fall back to the defaults instead of failing; a page number out of range is refused.
  await page.goto(adminUrl("/app/segments?sort=bogus&dir=sideways&kind=nope"));
  await expect(frame.getByText("All segments")).toBeVisible({ timeout: 30_000 });
  const fallback = (await columnTexts(frame, 1)).map(count);
  expect(fallback).toEqual([...fallback].sort((x, y) => y - x));
  await fullScreenshot(page, testInfo.outputPath("segments.png"));

  await phoneWidth(page);
  await page.reload();
  await phoneWidth(page);
  await expect(frame.getByText("All segments")).toBeVisible({ timeout: 30_000 });
  await page.waitForTimeout(1000);
  await noSidewaysScroll(page);
  await fullScreenshot(page, testInfo.outputPath("segments-phone.png"));

  await page.goto(adminUrl("/app/segments?page=-4"));
  await expect(frame.getByRole("heading", { name: "This link is not valid" })).toBeVisible({ timeout: 30_000 });
});

test("a segment's page: members link to their customer page, sizes agree, CSV export, push with progress", async ({
  page,
}, testInfo) => {
  await page.goto(adminUrl("/app/segments?sort=size&dir=desc"));
  const frame = page.frameLocator("#app-frame");
  await expect(frame.getByText("All segments")).toBeVisible({ timeout: 60_000 });
  const listedSize = count((await columnTexts(frame, 1))[0]!);
  const firstSegment = segmentRows(frame).first().getByRole("link");
  const name = (await firstSegment.textContent())!;
  await firstSegment.click();
  await expect(frame.getByRole("heading", { name, level: 1 })).toBeVisible();
  await expect(frame.getByText("Suggested actions")).toBeVisible();

  // The size agrees in the list, in the figures and in the pagination.
  const footer = frame.getByText(/ of [\d,]+ customers$/);
  await expect(footer).toBeVisible();
  expect(count((await footer.textContent())!.split(" of ")[1]!)).toBe(listedSize);
  const figure = frame.getByRole("heading", { name: "Customers", level: 3 }).locator("xpath=following-sibling::p");
  expect(count((await figure.textContent())!)).toBe(listedSize);

  // Members link to the app's customer page and to the customer in Shopify Admin.
  const memberLinks = frame.getByRole("table").locator('a[href^="/app/customers/"]');
  expect(await memberLinks.count()).toBeGreaterThan(0);
  for (const href of await memberLinks.evaluateAll((links) => links.map((link) => link.getAttribute("href")))) {
    expect(href).toMatch(/^\/app\/customers\/\d+$/);
  }
  const adminLinks = frame.getByRole("table").locator('a[href^="shopify:admin/customers/"]');
  expect(await adminLinks.count()).toBe(await memberLinks.count());

  // The CSV export: header, one row per member.
  const downloadPromise = page.waitForEvent("download");
  await frame.getByRole("button", { name: "Export CSV" }).click();
  const download = await downloadPromise;
  expect(download.suggestedFilename()).toMatch(/-members\.csv$/);
  const csv = await readFile((await download.path())!, "utf8");
  const lines = csv.split("\r\n").filter(Boolean);
  expect(lines[0]).toBe(
    "customer_id,first_name,last_name,email,days_since_last_order,orders,net_spend,predicted_spend_365_days,currency,r_score,f_score,m_score,rfm_segment",
  );
  expect(lines).toHaveLength(listedSize + 1);
  // The page-test shop sells in Canadian dollars; spend has two decimals.
  expect(lines[1]).toMatch(/^\d+,.*,\d+\.\d{2},,CAD,[1-5],[1-5],[1-5],[a-z-]+$/);

  // A push in progress shows a progress bar: a running push of this segment, half done.
  const segmentId = new URL(frameUrl(page)).pathname.split("/").pop()!;
  // The local Admin's own URL stays on the page it opened: reopen the segment's page by its path.
  const reopen = () => page.goto(adminUrl(`/app/segments/${segmentId}`));
  const client = new pg.Client({ connectionString: process.env.PAGE_TEST_DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO "SegmentSync" (id, shop, "segmentId", status, stage, total, tagged, "startedAt")
       SELECT gen_random_uuid(), shop, id, 'running', 'tagging', 10, 5, now() FROM "Segment" WHERE id = $1::uuid
       RETURNING id`,
      [segmentId],
    );
    await reopen();
    await expect(frame.getByRole("progressbar")).toBeVisible({ timeout: 30_000 });
    await expect(frame.getByText("Pushing: 5 tagged, 0 untagged of 10 changes…")).toBeVisible();
    await page.screenshot({ path: testInfo.outputPath("segment-pushing.png") });
    await client.query(`DELETE FROM "SegmentSync" WHERE id = $1::uuid`, [rows[0]!.id]);
  } finally {
    await client.end();
  }
  await reopen();
  await expect(frame.getByRole("progressbar")).toHaveCount(0, { timeout: 30_000 });

  // The real push to the simulated Shopify, then the link to its customer segment.
  await frame.getByRole("button", { name: "Push to Shopify" }).click();
  await expect(frame.getByText(/In Shopify since/)).toBeVisible({ timeout: 30_000 });
  await expect(frame.getByRole("link", { name: "Open the segment in Shopify" })).toHaveAttribute(
    "href",
    /^shopify:admin\/customers\/segments\/\d+$/,
  );
  await expect(frame.getByText(/^Times in America\/Toronto/)).toBeVisible();
  await fullScreenshot(page, testInfo.outputPath("segment.png"));

  await phoneWidth(page);
  await reopen();
  await phoneWidth(page);
  await expect(frame.getByText("Suggested actions")).toBeVisible({ timeout: 30_000 });
  await noSidewaysScroll(page);
  await fullScreenshot(page, testInfo.outputPath("segment-phone.png"));
});

test("unknown or malformed segment ids answer 404, never a 500", async ({ page }) => {
  for (const id of ["not-a-uuid", "00000000-0000-4000-8000-000000000000"]) {
    const answered = page.waitForResponse((response) => response.url().includes(`/app/segments/${id}`));
    await page.goto(adminUrl(`/app/segments/${id}`));
    expect((await answered).status()).toBe(404);
    await expect(page.frameLocator("#app-frame").getByText(/Application Error/)).toHaveCount(0);
  }
  const csv = page.waitForResponse((response) => response.url().includes("/members.csv"));
  await page.goto(adminUrl("/app/segments/00000000-0000-4000-8000-000000000000/members.csv"));
  expect((await csv).status()).toBe(404);
});
