import { expect, test, type Page } from "@playwright/test";

/**
 * The local Admin plays Shopify Admin: the app's NavMenu becomes its sidebar,
 * a click navigates inside the frame without reloading it, the title bar and
 * the address follow the app, and unknown pages get the app's own 404.
 */

const adminUrl = (path?: string) =>
  path
    ? process.env.LOCAL_ADMIN_URL!.replace("/admin/local?", `/admin/local?path=${encodeURIComponent(path)}&`)
    : process.env.LOCAL_ADMIN_URL!;

/** Errors of the Admin page and of the app's frame, as a person with the console open would see them. */
function collectErrors(page: Page, allowed: RegExp[] = []) {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const text = message.text();
    if (!allowed.some((pattern) => pattern.test(text))) errors.push(`console: ${text} (${message.location().url})`);
  });
  return errors;
}

test("the sidebar shows the app's menu and navigates inside the frame", async ({ page }, testInfo) => {
  const errors = collectErrors(page);
  await page.goto(adminUrl());
  const app = page.frameLocator("#app-frame");
  await expect(app.getByRole("heading", { name: "Shopify connection" })).toBeVisible();

  const nav = page.locator("#admin-nav");
  await expect(nav.locator("#app-home")).toHaveText("MicroSegment");
  const menu = page.locator("#app-nav a");
  // Every link of the app's NavMenu but the home one (the app's name stands for it), in its order.
  const frame = page.frame({ url: /\/app\?/ })!;
  const navMenu = await frame.evaluate(() =>
    [...document.querySelectorAll("ui-nav-menu a:not([rel=home])")].map((a) => a.textContent!.trim()),
  );
  expect(navMenu).toEqual(expect.arrayContaining(["Segments", "Data", "Products", "Pixel", "Privacy requests"]));
  await expect(menu).toHaveText(navMenu);
  await expect(nav.locator("#app-home")).toHaveAttribute("aria-current", "page");

  // A marker in the frame's window survives only a client-side navigation.
  await frame.evaluate(() => ((window as unknown as { navigationMarker: number }).navigationMarker = 42));
  const documentRequests: string[] = [];
  page.on("request", (request) => {
    if (request.resourceType() === "document") documentRequests.push(request.url());
  });

  await menu.getByText("Data", { exact: true }).click();
  await expect(app.getByText("Pull data from Shopify")).toBeVisible();
  await expect(page.locator("#title")).toHaveText("Data");
  await expect(menu.getByText("Data", { exact: true })).toHaveAttribute("aria-current", "page");
  await expect(nav.locator("#app-home")).not.toHaveAttribute("aria-current", /.*/);
  await expect(page).toHaveURL(/path=%2Fapp%2Fdata/);

  await menu.getByText("Pixel", { exact: true }).click();
  await expect(app.getByRole("heading", { name: "Storefront pixel" })).toBeVisible();
  await expect(page.locator("#title")).toHaveText("Pixel");
  await expect(menu.getByText("Pixel", { exact: true })).toHaveAttribute("aria-current", "page");
  await expect(menu.getByText("Data", { exact: true })).not.toHaveAttribute("aria-current", /.*/);

  await nav.locator("#app-home").click();
  await expect(app.getByRole("heading", { name: "Shopify connection" })).toBeVisible();
  await expect(page.locator("#title")).toHaveText("MicroSegment");

  expect(await frame.evaluate(() => (window as unknown as { navigationMarker?: number }).navigationMarker)).toBe(42);
  expect(documentRequests).toEqual([]);

  // The address the Admin shows opens the same page after a reload.
  await menu.getByText("Privacy requests", { exact: true }).click();
  await expect(app.getByText("Erasures")).toBeVisible();
  await page.reload();
  await expect(page.frameLocator("#app-frame").getByText("Erasures")).toBeVisible();
  await expect(page.locator("#app-nav a", { hasText: "Privacy requests" })).toHaveAttribute("aria-current", "page");
  await page.screenshot({ path: testInfo.outputPath("shell-navigation.png") });
  expect(errors).toEqual([]);
});

test("a title bar's buttons appear in the Admin's title bar and act on the app's own buttons", async ({ page }) => {
  await page.goto(adminUrl("/app/privacy"));
  await expect(page.frameLocator("#app-frame").getByText("Erasures")).toBeVisible();
  const frame = page.frame({ url: /\/app\/privacy\?/ })!;
  // What <TitleBar title="…"><button variant="primary" onClick={…}>…</button></TitleBar> renders.
  await frame.evaluate(() => {
    const titleBar = document.createElement("ui-title-bar");
    titleBar.setAttribute("title", "Export");
    const primary = Object.assign(document.createElement("button"), { textContent: "Download" });
    primary.setAttribute("variant", "primary");
    primary.addEventListener("click", () => document.body.setAttribute("data-clicked", "download"));
    const secondary = Object.assign(document.createElement("button"), { textContent: "Later", disabled: true });
    titleBar.append(primary, secondary);
    document.body.append(titleBar);
  });
  await expect(page.locator("#title")).toHaveText("Export");
  const actions = page.locator("#title-actions button");
  await expect(actions).toHaveText(["Later", "Download"]);
  await expect(actions.first()).toBeDisabled();
  await actions.getByText("Download").click();
  await expect(frame.locator("body")).toHaveAttribute("data-clicked", "download");
  // Removed, the page's own title comes back.
  await frame.evaluate(() => document.querySelector("body > ui-title-bar")!.remove());
  await expect(page.locator("#title")).toHaveText("Privacy requests");
  await expect(actions).toHaveCount(0);
});

test("an unknown page shows the app's own 404 inside the frame, with a way back", async ({ page }, testInfo) => {
  // Chromium reports the 404 status of the frame's document itself; nothing else may fail.
  const errors = collectErrors(page, [/status of 404/]);
  await page.goto(adminUrl("/app/no-such-page"));
  const app = page.frameLocator("#app-frame");
  await expect(app.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expect(page.locator("#title")).toHaveText("Page not found");
  // The app's menu is still there.
  await expect(page.locator("#app-nav a", { hasText: "Segments" })).toBeVisible();
  await expect(app.getByText(/Application Error|at .*\.js:\d+/)).toHaveCount(0);
  await page.screenshot({ path: testInfo.outputPath("shell-404.png") });

  await app.getByRole("link", { name: "Go to the Dashboard" }).click();
  await expect(app.getByRole("heading", { name: "Shopify connection" })).toBeVisible();
  await expect(page.locator("#title")).toHaveText("MicroSegment");

  // A page whose loader throws 404 (a segment that does not exist) gets the same page, menu included.
  await page.goto(adminUrl("/app/segments/no-such-segment"));
  await expect(app.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expect(page.locator("#app-nav a", { hasText: "Segments" })).toBeVisible();
  await expect(app.getByText("Segment not found")).toHaveCount(0);
  expect(errors).toEqual([]);
});

test("a path outside the app answers a plain styled 404 page", async ({ page }, testInfo) => {
  const response = await page.goto(`${process.env.PAGE_TEST_APP_URL}/no-such-thing`);
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Go to MicroSegment" })).toHaveAttribute("href", "/");
  await page.screenshot({ path: testInfo.outputPath("plain-404.png") });
});

test("the Pixel, Privacy and Products pages fit a phone's width", async ({ page }, testInfo) => {
  const errors = collectErrors(page);
  await page.setViewportSize({ width: 375, height: 812 });
  for (const [path, ready] of [
    ["/app/pixel", "Storefront pixel"],
    ["/app/privacy", "Erasures"],
    ["/app/products", "Product enrichment"],
  ] as const) {
    await page.goto(adminUrl(path));
    await expect(page.frameLocator("#app-frame").getByText(ready).first()).toBeVisible();
    const frame = page.frame({ url: new RegExp(`${path}\\?`) })!;
    // Tables may scroll inside their card; the page itself must not scroll sideways.
    const overflow = await frame.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${path} is wider than the phone`).toBeLessThanOrEqual(0);
    expect(await frame.evaluate(() => window.innerWidth)).toBe(375);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await page.screenshot({ path: testInfo.outputPath(`phone${path.replaceAll("/", "-")}.png`), fullPage: true });
  }
  // At this width the menu sits behind the menu button.
  await page.getByRole("button", { name: "Menu" }).click();
  await page.locator("#app-nav a", { hasText: "Data" }).click();
  await expect(page.frameLocator("#app-frame").getByText("Pull data from Shopify")).toBeVisible();
  expect(errors).toEqual([]);
});
