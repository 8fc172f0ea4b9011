import { readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simulatedInstall } from "../helpers/installed-shop";
import { startAppServer, type RunningProcess } from "../helpers/processes";
import { BROWSER_HEADERS, embeddedAppUrl } from "../helpers/shopify-requests";

/**
 * The headers every answer carries (nosniff), the framing rule of documents
 * (refused outside the embedded app, the shop's Admin inside it), and HSTS
 * only for requests that came over HTTPS as a trusted proxy says.
 */

type Install = Awaited<ReturnType<typeof simulatedInstall>>;
let install: Install;
let app: RunningProcess & { url: string };
let untrusting: (RunningProcess & { url: string }) | undefined;
const OPS_SECRET = "ops-secret-for-header-tests-0123456789";

beforeAll(async () => {
  install = await simulatedInstall({ size: "tiny" });
  app = await startAppServer({ ...install.env, NODE_ENV: "production", OPS_SECRET });
});

afterAll(async () => {
  await Promise.all([app?.stop(), untrusting?.stop()]);
  await install?.close();
});

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${app.url}${path}`, { redirect: "manual", headers: { ...BROWSER_HEADERS, ...headers } });

describe("X-Content-Type-Options", () => {
  it("is nosniff on every kind of answer: pages, resource routes, static files, the pixel, metrics, errors", async () => {
    const asset = readdirSync("build/client/assets").find((file) => file.endsWith(".js"))!;
    const answers = await Promise.all([
      get("/"),
      get("/auth/login"),
      get("/healthz"),
      get("/api/openapi.json"),
      get(`/assets/${asset}`),
      get("/no-such-page"),
      get("/assets/%"),
      fetch(`${app.url}/api/pixel/events`, { method: "POST", body: "{}" }),
      fetch(`${app.url}/api/pixel/events`, { method: "OPTIONS" }),
      get("/metrics", { authorization: `Bearer ${OPS_SECRET}` }),
      get("/metrics"),
      fetch(embeddedAppUrl(app.url, install.shop, "/app"), { headers: BROWSER_HEADERS }),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([
      200, 200, 200, 200, 200, 404, 400, 400, 204, 200, 401, 200,
    ]);
    for (const answer of answers) expect(answer.headers.get("x-content-type-options"), answer.url).toBe("nosniff");
  });
});

describe("framing", () => {
  it("refuses every frame for documents outside the embedded app", async () => {
    for (const path of ["/", "/auth/login", "/no-such-page", "/wp-login.php?x=1"]) {
      const answer = await get(path);
      expect(answer.headers.get("content-security-policy"), path).toBe("frame-ancestors 'none'");
      expect(answer.headers.get("x-frame-options"), path).toBe("DENY");
    }
  });

  it("lets the shop's Admin (and only it) frame the app", async () => {
    const answer = await fetch(embeddedAppUrl(app.url, install.shop, "/app"), { headers: BROWSER_HEADERS });
    expect(answer.status).toBe(200);
    const policy = answer.headers.get("content-security-policy")!;
    expect(policy).toContain(`frame-ancestors`);
    expect(policy).toContain(`https://${install.shop}`);
    expect(policy).toContain("https://admin.shopify.com");
    expect(policy).not.toContain("'none'");
    expect(answer.headers.get("x-frame-options")).toBeNull();
  });
});

describe("Strict-Transport-Security", () => {
  it("is sent when a trusted proxy (loopback by default) says the request came over HTTPS", async () => {
    expect((await get("/healthz")).headers.get("strict-transport-security")).toBeNull();
    expect(
      (await get("/healthz", { "x-forwarded-proto": "http" })).headers.get("strict-transport-security"),
    ).toBeNull();
    for (const path of ["/healthz", "/", "/no-such-page"]) {
      const answer = await get(path, { "x-forwarded-proto": "https" });
      expect(answer.headers.get("strict-transport-security"), path).toBe("max-age=31536000; includeSubDomains");
    }
    const pixel = await fetch(`${app.url}/api/pixel/events`, {
      method: "POST",
      body: "{}",
      headers: { "x-forwarded-proto": "https" },
    });
    expect(pixel.headers.get("strict-transport-security")).toBe("max-age=31536000; includeSubDomains");
  });

  it("is not sent on the word of a client that is not a configured proxy", async () => {
    untrusting = await startAppServer({ ...install.env, NODE_ENV: "production", TRUSTED_PROXIES: "10.0.0.0/8" });
    const answer = await fetch(`${untrusting.url}/healthz`, { headers: { "x-forwarded-proto": "https" } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("strict-transport-security")).toBeNull();
  });
});
