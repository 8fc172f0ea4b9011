import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { TEST_APP } from "../helpers/app-env";
import { startAppServer } from "../helpers/processes";

/** The simulator redirection exists only when SHOPIFY_SIMULATOR_URL is set; production never loads it. */

async function loadedModules(extraEnv: Record<string, string>) {
  const log = path.join(tmpdir(), `modules-${process.pid}-${Date.now()}.log`);
  const app = await startAppServer({
    ...TEST_APP.env,
    NODE_ENV: "production",
    DATABASE_URL: process.env.DATABASE_URL!,
    MODULE_LOG: log,
    NODE_OPTIONS: `--import ${path.resolve("tests/helpers/record-modules.mjs")}`,
    ...extraEnv,
  });
  try {
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    return { modules: readFileSync(log, "utf8").split("\n"), output: app.output() };
  } finally {
    await app.stop();
    rmSync(log, { force: true });
  }
}

describe("simulator redirection", () => {
  it("is not loaded when SHOPIFY_SIMULATOR_URL is unset", async () => {
    const { modules, output } = await loadedModules({});
    expect(modules.some((url) => url.endsWith("/build/server/index.js"))).toBe(true);
    expect(modules.filter((url) => /simulator/i.test(url))).toEqual([]);
    expect(output).not.toContain("simulated store");
  });

  it("is loaded, and says so, when SHOPIFY_SIMULATOR_URL is set", async () => {
    const { modules, output } = await loadedModules({ SHOPIFY_SIMULATOR_URL: "http://127.0.0.1:9" });
    expect(modules.some((url) => /simulator-transport/.test(url))).toBe(true);
    expect(output).toContain("Shopify transport redirected to the simulated store");
  });
});
