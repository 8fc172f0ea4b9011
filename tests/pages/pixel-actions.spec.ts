import { expect, test } from "@playwright/test";
import pg from "pg";
import { PAGE_TEST_SHOP } from "./global-setup";

/**
 * The Pixel page's actions that break the storefront's tracking ask first, in
 * an App Bridge modal: cancelling changes nothing, confirming acts, and each
 * result is confirmed in the Admin's toast.
 */

async function pixelStatus() {
  const client = new pg.Client({ connectionString: process.env.PAGE_TEST_DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ status: string; accountId: string }>(
      `SELECT status, "accountId" FROM "PixelConnection" WHERE shop = $1`,
      [PAGE_TEST_SHOP],
    );
    return rows[0];
  } finally {
    await client.end();
  }
}

test("disconnecting the pixel and a new account id ask for confirmation; results show in a toast", async ({
  page,
}, testInfo) => {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => message.type() === "error" && errors.push(message.text()));

  await page.goto(process.env.LOCAL_ADMIN_URL!.replace("/admin/local?", "/admin/local?path=/app/pixel&"));
  const frame = page.frameLocator("#app-frame");
  const toasts = page.locator("#toasts");
  if ((await pixelStatus())?.status !== "connected") {
    await frame.getByRole("button", { name: "Connect pixel" }).click();
    await expect(toasts).toContainText("The pixel is connected.");
  }
  await expect(frame.getByText("Connected", { exact: true })).toBeVisible();
  const accountId = (await pixelStatus())!.accountId;

  // Cancel keeps it connected.
  await frame.getByRole("button", { name: "Disconnect" }).click();
  const disconnect = frame.getByRole("dialog", { name: "Disconnect the pixel?" });
  await expect(disconnect).toBeVisible();
  await expect(disconnect).toContainText("stops sending events");
  // Admin dims its own chrome while the app shows a modal.
  await expect(page.locator("body")).toHaveClass(/modal-open/);
  await page.screenshot({ path: testInfo.outputPath("pixel-disconnect-modal.png") });
  await disconnect.getByRole("button", { name: "Cancel" }).click();
  await expect(disconnect).toBeHidden();
  await expect(page.locator("body")).not.toHaveClass(/modal-open/);
  expect((await pixelStatus())!.status).toBe("connected");
  await expect(frame.getByText("Connected", { exact: true })).toBeVisible();

  // Escape closes it too, without acting.
  await frame.getByRole("button", { name: "Disconnect" }).click();
  await expect(disconnect).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(disconnect).toBeHidden();
  expect((await pixelStatus())!.status).toBe("connected");

  // A new account id asks too, and once confirmed the old id is replaced.
  await frame.getByRole("button", { name: "New account id" }).click();
  const rotate = frame.getByRole("dialog", { name: "Give the pixel a new account id?" });
  await expect(rotate).toBeVisible();
  await rotate.getByRole("button", { name: "Cancel" }).click();
  await expect(rotate).toBeHidden();
  expect((await pixelStatus())!.accountId).toBe(accountId);
  await frame.getByRole("button", { name: "New account id" }).click();
  await rotate.getByRole("button", { name: "New account id" }).click();
  await expect(toasts).toContainText("The pixel has a new account id");
  expect((await pixelStatus())!.accountId).not.toBe(accountId);

  // Confirming disconnects.
  await frame.getByRole("button", { name: "Disconnect" }).click();
  await expect(disconnect).toBeVisible();
  await disconnect.getByRole("button", { name: "Disconnect" }).click();
  await expect(disconnect).toBeHidden();
  await expect(toasts).toContainText("The pixel is disconnected.");
  await expect(frame.getByText("Not connected", { exact: true })).toBeVisible();
  expect((await pixelStatus())!.status).toBe("disconnected");
  await page.screenshot({ path: testInfo.outputPath("pixel-disconnected.png") });
  expect(errors).toEqual([]);
});
