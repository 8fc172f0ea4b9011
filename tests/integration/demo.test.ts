import { rmSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { startDemo } from "../helpers/demo";
import { freePort } from "../helpers/processes";
import { BROWSER_HEADERS } from "../helpers/shopify-requests";

describe("npm run demo", () => {
  it("starts the simulator, the app (production build) and a worker, installs the app and prints the local Admin URL; Ctrl-C stops it", async () => {
    const port = await freePort();
    const simulatorPort = await freePort();
    const demo = startDemo({
      env: {
        DATABASE_URL: process.env.DATABASE_URL!,
        PORT: String(port),
        SIMULATOR_PORT: String(simulatorPort),
        DEMO_STORE_SIZE: "small",
        SIMULATOR_DATA_DIR: path.resolve(`.data/test-demo-${process.pid}`),
      },
    });
    let status: number | null;
    try {
      const url = await demo.adminUrl(90_000);
      expect(url, demo.output().slice(-2000)).toBeDefined();
      expect(demo.output()).toContain("(500 customers, 3000 orders)");
      const admin = await fetch(url!);
      expect(admin.status).toBe(200);
      const frame = /<iframe[^>]+src="([^"]+)"/.exec(await admin.text())![1]!.replaceAll("&amp;", "&");
      const app = await fetch(frame, { headers: BROWSER_HEADERS });
      expect(app.status).toBe(200);
      const html = await app.text();
      expect(html).toContain("Shopify connection");
      // The production build is served: hashed assets, no Vite dev client or HMR.
      expect(html).not.toContain("/@vite/client");
      expect(html).not.toContain("/@id/");
      const entry = /\/assets\/entry\.client-[\w-]+\.js/.exec(html)?.[0];
      expect(entry, "the client entry of the production build").toBeDefined();
      const asset = await fetch(new URL(entry!, frame));
      expect(asset.status).toBe(200);
      expect(asset.headers.get("cache-control")).toContain("immutable");
      // An unknown page is the app's own 404, not a bare "Not Found".
      const missing = await fetch(new URL("/no-such-page", frame));
      expect(missing.status).toBe(404);
      expect(await missing.text()).toContain("Page not found");
    } finally {
      status = await demo.interrupt();
    }
    // 130 is the conventional status after Ctrl-C (128 + SIGINT), which tsx reports.
    expect([0, 130]).toContain(status);
    for (const listening of [port, simulatorPort]) {
      await expect(fetch(`http://127.0.0.1:${listening}/healthz`)).rejects.toThrow();
    }
    rmSync(path.resolve(`.data/test-demo-${process.pid}`), { recursive: true, force: true });
  }, 120_000);
});
