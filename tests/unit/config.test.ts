import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../app/config.server";
import { TEST_APP } from "../helpers/app-env";

const valid = { ...TEST_APP.env, DATABASE_URL: "postgresql://localhost:5432/db" };

describe("configuration", () => {
  it("accepts a complete environment and applies defaults", () => {
    const config = parseConfig(valid);
    expect(config.PORT).toBe(3000);
    expect(config.TOKEN_ENCRYPTION_KEYS[0]?.id).toBe("k1");
    expect(config.SCOPES).toContain("read_all_orders");
  });

  it.each(["SHOPIFY_API_KEY", "SHOPIFY_API_SECRET", "SHOPIFY_APP_URL", "TOKEN_ENCRYPTION_KEYS", "DATABASE_URL"])(
    "names a missing %s",
    (name) => {
      const env = { ...valid, [name]: undefined };
      expect(() => parseConfig(env)).toThrow(`Configuration error: ${name} is required`);
    },
  );

  it("refuses to run with TLS verification turned off", () => {
    expect(() => parseConfig({ ...valid, NODE_TLS_REJECT_UNAUTHORIZED: "0" })).toThrow(
      "Configuration error: NODE_TLS_REJECT_UNAUTHORIZED is invalid: TLS certificate verification must stay on; unset it",
    );
  });

  it("refuses a headers timeout longer than the request timeout, naming it even when left at its default", () => {
    expect(() => parseConfig({ ...valid, HTTP_REQUEST_TIMEOUT_MS: "5000" })).toThrow(
      "Configuration error: HTTP_HEADERS_TIMEOUT_MS is invalid: must not exceed HTTP_REQUEST_TIMEOUT_MS",
    );
    const config = parseConfig({ ...valid, HTTP_HEADERS_TIMEOUT_MS: "5000", HTTP_REQUEST_TIMEOUT_MS: "5000" });
    expect(config.HTTP_HEADERS_TIMEOUT_MS).toBe(5000);
  });

  it("names a malformed setting", () => {
    expect(() => parseConfig({ ...valid, PORT: "eighty" })).toThrow(/^Configuration error: PORT is invalid/);
    expect(() => parseConfig({ ...valid, TOKEN_ENCRYPTION_KEYS: "k1:c2hvcnQ=" })).toThrow(
      /TOKEN_ENCRYPTION_KEYS is invalid: expected comma-separated/,
    );
    expect(() => parseConfig({ ...valid, DATABASE_URL: "mysql://x/y" })).toThrow(/DATABASE_URL is invalid/);
  });

  it.each([
    ["the worker", "worker/index.ts"],
    ["the app server", "server.ts"],
  ])("stops %s with one line and exit code 1 when SHOPIFY_API_SECRET is unset", (_name, entry) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...valid };
    delete env.SHOPIFY_API_SECRET;
    const result = spawnSync(process.execPath, [path.resolve("node_modules/tsx/dist/cli.mjs"), entry], {
      env,
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe("Configuration error: SHOPIFY_API_SECRET is required (see .env.example)");
    expect(result.stdout).toBe("");
  });

  it("refuses a simulator that is not on this machine under NODE_ENV=production, and says so in one line", () => {
    const production = { ...valid, NODE_ENV: "production" as const };
    expect(() => parseConfig({ ...production, SHOPIFY_SIMULATOR_URL: "https://shopify.attacker.example" })).toThrow(
      "Configuration error: SHOPIFY_SIMULATOR_URL is invalid: must not be set under NODE_ENV=production (only a simulator on localhost is allowed there) (see .env.example)",
    );
    expect(() => parseConfig({ ...production, SHOPIFY_SIMULATOR_URL: "http://10.1.2.3:4001" })).toThrow(
      /SHOPIFY_SIMULATOR_URL is invalid/,
    );
    for (const local of ["http://127.0.0.1:4001", "http://localhost:4001", "http://[::1]:4001"]) {
      expect(parseConfig({ ...production, SHOPIFY_SIMULATOR_URL: local }).SHOPIFY_SIMULATOR_URL).toBe(local);
    }
    expect(parseConfig({ ...valid, SHOPIFY_SIMULATOR_URL: "https://sim.example" }).SHOPIFY_SIMULATOR_URL).toBe(
      "https://sim.example",
    );
    const env: NodeJS.ProcessEnv = { ...process.env, ...production, SHOPIFY_SIMULATOR_URL: "https://sim.example" };
    const result = spawnSync(process.execPath, [path.resolve("node_modules/tsx/dist/cli.mjs"), "server.ts"], {
      env,
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/^Configuration error: SHOPIFY_SIMULATOR_URL is invalid/);
  });

  it("reads trusted proxies as addresses or CIDR ranges, loopback by default, none on request", () => {
    expect(parseConfig(valid).TRUSTED_PROXIES).toEqual(["loopback"]);
    expect(parseConfig({ ...valid, TRUSTED_PROXIES: "none" }).TRUSTED_PROXIES).toEqual([]);
    expect(parseConfig({ ...valid, TRUSTED_PROXIES: "10.0.0.0/8, 2001:db8::1" }).TRUSTED_PROXIES).toEqual([
      "10.0.0.0/8",
      "2001:db8::1",
    ]);
    expect(() => parseConfig({ ...valid, TRUSTED_PROXIES: "proxy.internal" })).toThrow(/TRUSTED_PROXIES is invalid/);
    expect(() => parseConfig({ ...valid, TRUSTED_PROXIES: "10.0.0.0/33" })).toThrow(/TRUSTED_PROXIES is invalid/);
  });

  it("has a documented window for pixel event timestamps", () => {
    const config = parseConfig(valid);
    expect([config.PIXEL_EVENT_MAX_AGE_DAYS, config.PIXEL_EVENT_MAX_AHEAD_HOURS]).toEqual([30, 24]);
  });
});
