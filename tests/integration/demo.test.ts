import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { freePort } from "../helpers/processes";
import { BROWSER_HEADERS } from "../helpers/shopify-requests";

describe("npm run demo", () => {
  it("starts the simulator, the app (production build) and a worker, installs the app and prints the local Admin URL; Ctrl-C stops it", async () => {
    const port = await freePort();
    const simulatorPort = await freePort();
    const child = spawn(process.execPath, [path.resolve("node_modules/tsx/dist/cli.mjs"), "scripts/demo.ts"], {
      env: {
        ...process.env,
        DATABASE_URL: process.env.DATABASE_URL!,
        PORT: String(port),
        SIMULATOR_PORT: String(simulatorPort),
        DEMO_STORE_SIZE: "small",
        SIMULATOR_DATA_DIR: path.resolve(`.data/test-demo-${process.pid}`),
        TOKEN_ENCRYPTION_KEYS: undefined,
        SHOPIFY_API_KEY: undefined,
        SHOPIFY_API_SECRET: undefined,
        SHOPIFY_APP_URL: undefined,
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      const deadline = Date.now() + 90_000;
      while (!output.includes("Press Ctrl-C") && Date.now() < deadline && child.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const url = /(http:\/\/127\.0\.0\.1:\d+\/admin\/local\?shop=[^\s]+)/.exec(output)?.[1];
      expect(url, output.slice(-2000)).toBeDefined();
      expect(output).toContain("(500 customers, 3000 orders)");
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
      process.kill(-child.pid!, "SIGINT");
    }
    // 130 is the conventional status after Ctrl-C (128 + SIGINT), which tsx reports.
    expect([0, 130]).toContain(await exited);
    for (const listening of [port, simulatorPort]) {
      await expect(fetch(`http://127.0.0.1:${listening}/healthz`)).rejects.toThrow();
    }
    rmSync(path.resolve(`.data/test-demo-${process.pid}`), { recursive: true, force: true });
  });
});
