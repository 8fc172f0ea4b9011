import { expect, test } from "@playwright/test";
import pg from "pg";
import { PAGE_TEST_SHOP } from "./global-setup";

/**
 * Customer search and the customer page on the page-test store (currency CAD, zone America/Toronto): search
 * by name, open the customer, and read why they are in their segments, with the shop's thresholds, money in
 * the shop's currency, their orders and their linked storefront activity; on a desktop and a phone.
 */

async function query<Row extends pg.QueryResultRow>(sql: string, params: unknown[] = []) {
  const client = new pg.Client({ connectionString: process.env.PAGE_TEST_DATABASE_URL });
  await client.connect();
  try {
    return (await client.query<Row>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

const adminPage = (path: string) =>
  process.env.LOCAL_ADMIN_URL!.replace("/admin/local?", `/admin/local?path=${encodeURIComponent(path)}&`);

const cad = (amount: string | number) =>
  new Intl.NumberFormat("en-US", { style: "currency", currency: "CAD", minimumFractionDigits: 2 }).format(
    Number(amount),
  );

test("search finds a customer whose page explains their segments in the shop's currency", async ({
  page,
}, testInfo) => {
  test.setTimeout(180_000);
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(error.message));
  page.on("console", (message) => {
    // The local Admin stand-in has no favicon; that 404 is the browser's, not the app's.
    if (message.type() === "error" && !message.location().url.endsWith("/favicon.ico")) {
      problems.push(`${message.text()} ${message.location().url}`);
    }
  });

  // Opening the app installs it; the install's first pull and segmentation give the store its scores.
  await page.goto(adminPage("/app/customers"));
  await expect(page.frameLocator("#app-frame").getByLabel("Search customers")).toBeVisible();
  type Scored = {
    legacyId: string;
    firstName: string;
    lastName: string;
    frequency: number;
    monetary: string;
    rScore: number;
    fScore: number;
    mScore: number;
  };
  let customer: Scored | undefined;
  await expect(async () => {
    [customer] = await query<Scored>(
      `SELECT c."legacyId"::text AS "legacyId", c."firstName", c."lastName", s.frequency, s.monetary::text AS monetary,
              s."rScore", s."fScore", s."mScore"
       FROM "CustomerScore" s JOIN "Customer" c ON c.shop = s.shop AND c.id = s."customerId"
       JOIN "Segment" g ON g.shop = s.shop AND g.kind = 'rfm'
       WHERE s.shop = $1 AND c."lastName" IS NOT NULL
       ORDER BY s.frequency DESC, s.monetary DESC LIMIT 1`,
      [PAGE_TEST_SHOP],
    );
    expect(customer).toBeDefined();
  }).toPass({ timeout: 120_000 });
  const { legacyId, firstName, lastName } = customer!;
  const gid = `gid://shopify/Customer/${legacyId}`;
  // A browser the pixel linked to them at checkout, with some browsing before it.
  await query(
    `INSERT INTO "PixelIdentity" (shop, "clientId", "customerId") VALUES ($1, 'customer-page-browser', $2)
     ON CONFLICT DO NOTHING`,
    [PAGE_TEST_SHOP, gid],
  );
  await query(
    `INSERT INTO "PixelEvent" (shop, "eventId", name, "clientId", "occurredAt", url, data) VALUES
       ($1, 'cp-1', 'product_viewed', 'customer-page-browser', now() - interval '20 minutes', NULL, '{"productTitle": "Trail Jacket"}'),
       ($1, 'cp-2', 'search_submitted', 'customer-page-browser', now() - interval '15 minutes', NULL, '{"query": "wool socks"}'),
       ($1, 'cp-3', 'checkout_completed', 'customer-page-browser', now() - interval '5 minutes', NULL, '{"itemCount": 2}')
     ON CONFLICT DO NOTHING`,
    [PAGE_TEST_SHOP],
  );

  await page.reload();
  const frame = page.frameLocator("#app-frame");
  await frame.getByLabel("Search customers").fill(lastName);
  await frame.getByRole("button", { name: "Search" }).click();
  const results = frame.getByRole("list", { name: "Customers" });
  await expect(frame.getByText(`Customers matching “${lastName}”`)).toBeVisible();
  const link = results.getByRole("link", { name: `${firstName} ${lastName}` });
  await expect(link).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("customer-search.png"), fullPage: true });

  await link.click();
  await expect(frame.getByRole("heading", { name: `${firstName} ${lastName}`, level: 1 })).toBeVisible();
  await expect(frame.getByText("Why they are in their segments")).toBeVisible();
  await expect(frame.getByText(`R ${customer!.rScore} · F ${customer!.fScore} · M ${customer!.mScore}`)).toBeVisible();
  await expect(frame.getByText(`${cad(customer!.monetary)} spent, net of refunds`)).toBeVisible();
  await expect(
    frame
      .getByText(`${customer!.frequency} ${customer!.frequency === 1 ? "order" : "orders"}`, { exact: true })
      .first(),
  ).toBeVisible();
  // The shop's thresholds: every score the shop's customers hold, money in Canadian dollars.
  const money = frame.getByRole("list", { name: "Monetary thresholds" }).getByRole("listitem");
  const bands = await query<{ score: number }>(
    `SELECT DISTINCT "mScore" AS score FROM "CustomerScore" WHERE shop = $1`,
    [PAGE_TEST_SHOP],
  );
  await expect(money).toHaveCount(bands.length);
  await expect(money.first()).toContainText("CA$");
  await expect(frame.getByRole("list", { name: "Recency thresholds" }).getByRole("listitem").first()).toContainText(
    "days",
  );
  await expect(frame.getByText(/^Times in America\/Toronto/)).toHaveCount(1);
  // The page-test store is small: the prediction gate says why there are no predictions.
  await expect(frame.getByText(/^Predicted value is not shown: /)).toBeVisible();
  const orders = await query<{ total: number }>(
    `SELECT count(*)::int AS total FROM "Order" WHERE shop = $1 AND "customerId" = $2`,
    [PAGE_TEST_SHOP, gid],
  );
  await expect(frame.getByRole("list", { name: "Orders" }).getByRole("listitem")).toHaveCount(
    Math.min(25, orders[0]!.total),
  );
  const events = frame.getByRole("list", { name: "Storefront events" }).getByRole("listitem");
  await expect(events).toHaveCount(3);
  await expect(events.first()).toContainText("Completed checkout (2 items)");
  await expect(events.nth(1)).toContainText("Searched for “wool socks”");
  await expect(frame.getByRole("link", { name: "Open in Shopify Admin" })).toHaveAttribute(
    "href",
    `shopify:admin/customers/${legacyId}`,
  );
  await page.screenshot({ path: testInfo.outputPath("customer-desktop.png"), fullPage: true });

  // A phone: the app's own document at 375 px (the local Admin's sidebar would leave the frame narrower
  // still), nothing wider than the screen.
  const phone = await page.context().newPage();
  phone.on("pageerror", (error) => problems.push(error.message));
  await phone.setViewportSize({ width: 375, height: 800 });
  await page.goto(adminPage(`/app/customers/${legacyId}`));
  await phone.goto(new URL((await page.locator("#app-frame").getAttribute("src"))!, page.url()).href);
  await expect(phone.getByText("Why they are in their segments")).toBeVisible();
  await expect(phone.getByRole("list", { name: "Monetary thresholds" })).toBeVisible();
  const widths = await phone.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  expect(widths.scroll).toBeLessThanOrEqual(widths.client);
  await phone.screenshot({ path: testInfo.outputPath("customer-phone.png"), fullPage: true });
  await page.goto(adminPage(`/app/customers?q=${encodeURIComponent(lastName)}`));
  await phone.goto(new URL((await page.locator("#app-frame").getAttribute("src"))!, page.url()).href);
  await expect(
    phone.getByRole("list", { name: "Customers" }).getByRole("link", { name: `${firstName} ${lastName}` }),
  ).toBeVisible();
  expect(
    await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth),
  ).toBeLessThanOrEqual(0);
  await phone.screenshot({ path: testInfo.outputPath("customer-search-phone.png"), fullPage: true });
  await phone.close();

  expect(problems).toEqual([]);
});

test("a customer id that is not this shop's, or not an id, is not found", async ({ page }) => {
  for (const path of ["/app/customers/987654321987", "/app/customers/not-a-customer"]) {
    const response = page.waitForResponse((candidate) => new URL(candidate.url()).pathname === path);
    await page.goto(adminPage(path));
    expect((await response).status()).toBe(404);
  }
});
