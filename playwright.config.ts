import { defineConfig } from "@playwright/test";

export default defineConfig({
  testDir: "tests/pages",
  globalSetup: "./tests/pages/global-setup.ts",
  timeout: 60_000,
  workers: 1,
  reporter: [["list"]],
  outputDir: "test-results/pages",
  use: {
    browserName: "chromium",
    viewport: { width: 1280, height: 900 },
    // shopify-app-remix answers bots (HeadlessChrome included) with 410, as it should in production.
    userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36",
    launchOptions: {
      // Debian's Chromium: Playwright's own browser download is not reachable here.
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--disable-quic",
      ],
    },
  },
});
