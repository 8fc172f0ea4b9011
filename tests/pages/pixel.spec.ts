import { expect, test } from "@playwright/test";
import pg from "pg";
import { runPixelSession } from "../helpers/web-pixel-harness";
import { PAGE_TEST_SHOP } from "./global-setup";

/**
 * The whole pixel path: the merchant connects the pixel on the Pixel page,
 * the real extension bundle runs in a Chromium web worker with the settings
 * Shopify would give it, its events reach the real ingestion endpoint and the
 * database, and the Pixel page shows them. Without consent nothing arrives.
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

const pixelPage = () => process.env.LOCAL_ADMIN_URL!.replace("/admin/local?", "/admin/local?path=/app/pixel&");

test("a connected pixel's storefront events reach the database and the Pixel page", async ({
  page,
  browser,
}, testInfo) => {
  await page.goto(pixelPage());
  const frame = page.frameLocator("#app-frame");
  await frame.getByRole("button", { name: "Connect pixel" }).click();
  // The result is confirmed in the Admin's toast (shopify.toast.show through the App Bridge stand-in).
  await expect(page.locator("#toasts")).toContainText("The pixel is connected.");
  await expect(frame.getByText("Connected", { exact: true })).toBeVisible();
  const [connection] = await query<{ accountId: string; ingestUrl: string }>(
    `SELECT "accountId", "ingestUrl" FROM "PixelConnection" WHERE shop = $1 AND status = 'connected'`,
    [PAGE_TEST_SHOP],
  );
  expect(connection).toBeDefined();
  const ingestUrl = `${process.env.PAGE_TEST_APP_URL}/api/pixel/events`;
  expect(connection!.ingestUrl).toBe(ingestUrl);

  const storefront = await browser.newPage();
  const shopper = await runPixelSession(storefront, { ingestUrl, accountId: connection!.accountId, consent: true });
  expect(shopper.statuses.every((status) => status === 202)).toBe(true);
  const stored = await query<{ eventId: string; name: string; shop: string }>(
    `SELECT "eventId", name, shop FROM "PixelEvent" WHERE "clientId" = $1`,
    [shopper.clientId],
  );
  expect(new Set(stored.map((row) => row.eventId))).toEqual(new Set(shopper.expectedEventIds));
  expect(new Set(stored.map((row) => row.shop))).toEqual(new Set([PAGE_TEST_SHOP]));
  expect(stored.map((row) => row.name)).toContain("checkout_completed");
  // The checkout names an order the app has not seen: it is kept as a claim and links nobody yet.
  const identities = await query<{ customerId: string }>(
    `SELECT "customerId" FROM "PixelIdentity" WHERE shop = $1 AND "clientId" = $2`,
    [PAGE_TEST_SHOP, shopper.clientId],
  );
  expect(identities).toHaveLength(0);
  const claims = await query<{ customerId: string }>(
    `SELECT "customerId" FROM "PixelIdentityClaim" WHERE shop = $1 AND "clientId" = $2`,
    [PAGE_TEST_SHOP, shopper.clientId],
  );
  expect(claims).toHaveLength(1);

  const withheld = await runPixelSession(storefront, { ingestUrl, accountId: connection!.accountId, consent: false });
  expect(withheld.requests).toHaveLength(0);
  const leaked = await query(`SELECT 1 FROM "PixelEvent" WHERE "clientId" = $1`, [withheld.clientId]);
  expect(leaked).toHaveLength(0);
  await storefront.close();

  await page.reload();
  const reloaded = page.frameLocator("#app-frame");
  await expect(reloaded.getByText("checkout completed").first()).toBeVisible();
  // Other specs store events of this shop too: the page lists the latest 20 of all of them.
  const [{ events }] = (await query<{ events: number }>(
    `SELECT count(*)::int AS events FROM "PixelEvent" WHERE shop = $1`,
    [PAGE_TEST_SHOP],
  )) as [{ events: number }];
  expect(events).toBeGreaterThanOrEqual(11);
  await expect(reloaded.getByText(`Latest ${Math.min(events, 20)} events`)).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("pixel.png"), fullPage: true });
});
