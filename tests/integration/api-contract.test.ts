import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  API_OPERATIONS,
  jobAccepted,
  pullStatusResponse,
  pullSummary,
  segmentsResponse,
} from "../../app/services/api.server";
import { simulatedInstall } from "../helpers/installed-shop";
import { startAppServer, type RunningProcess } from "../helpers/processes";
import { signSessionToken } from "../../simulator/session-token";
import { TEST_APP } from "../helpers/app-env";
import { BROWSER_HEADERS, sessionToken } from "../helpers/shopify-requests";

/**
 * The JSON API's contract: every API route is in /api/openapi.json, answers
 * match the schemas the document is made from, and a shop's requests are
 * limited across app instances.
 */

type Install = Awaited<ReturnType<typeof simulatedInstall>>;
let install: Install;
let apps: (RunningProcess & { url: string })[];
const LIMIT = 12;

beforeAll(async () => {
  install = await simulatedInstall({ size: "tiny" });
  const env = { ...install.env, NODE_ENV: "production", API_REQUESTS_PER_MINUTE: String(LIMIT) };
  apps = await Promise.all([startAppServer(env), startAppServer(env)]);
});

afterAll(async () => {
  await Promise.all((apps ?? []).map((app) => app.stop()));
  await install?.close();
});

const CURL = { "user-agent": "curl/8.5.0" };
const PYTHON_REQUESTS = { "user-agent": "python-requests/2.32.3" };

/** As a script calls the API: curl's user agent unless told otherwise. */
const api = (app: { url: string }, path: string, init: RequestInit = {}) =>
  fetch(`${app.url}${path}`, {
    redirect: "manual",
    ...init,
    headers: {
      authorization: `Bearer ${sessionToken(install.shop)}`,
      "content-type": "application/json",
      ...CURL,
      ...init.headers,
    },
  });

/** /api/pulls/$id/cancel.ts → ["/api/pulls/{id}/cancel", methods] from the route file itself. */
function routeOperations() {
  return readdirSync("app/routes")
    .filter((file) => file.startsWith("api.") && !file.startsWith("api.openapi"))
    .flatMap((file) => {
      const path = `/${file
        .replace(/\.tsx?$/, "")
        .replaceAll(".", "/")
        .replace(/\$(\w+)/g, "{$1}")}`;
      const source = readFileSync(`app/routes/${file}`, "utf8");
      return [
        ...(source.includes("export const loader") ? [`get ${path}`] : []),
        ...(source.includes("export const action") ? [`post ${path}`] : []),
      ];
    });
}

describe("/api/openapi.json", () => {
  it("documents every API route and method, generated from the zod schemas", async () => {
    const response = await fetch(`${apps[0]!.url}/api/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>>;
    };
    expect(document.openapi).toBe("3.1.0");
    const documented = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method} ${path}`),
    );
    expect(new Set(documented)).toEqual(new Set([...routeOperations(), "post /api/pixel/events"]));
    expect(documented).toHaveLength(API_OPERATIONS.length);
    const startPull = document.paths["/api/pulls"]!.post!.requestBody!.content["application/json"]!.schema;
    expect(startPull).toMatchObject({ properties: { mode: { enum: ["bulk", "paginated"] } } });
  });
});

describe("answers match the document", () => {
  it("pulls: start, then status", async () => {
    const started = await api(apps[0]!, "/api/pulls", { method: "POST", body: JSON.stringify({ kind: "full" }) });
    expect(started.status).toBe(202);
    const pull = pullSummary.parse(await started.json());
    const status = await api(apps[1]!, `/api/pulls/${pull.id}`);
    expect(status.status).toBe(200);
    expect(pullStatusResponse.parse(await status.json()).id).toBe(pull.id);
    const invalid = await api(apps[0]!, "/api/pulls", { method: "POST", body: JSON.stringify({ mode: "fast" }) });
    expect(invalid.status).toBe(400);
    expect((await invalid.json()).error).toMatch(/^mode:/);
  });

  it("segments: run, then list", async () => {
    const run = await api(apps[0]!, "/api/segments/run", { method: "POST" });
    expect(run.status).toBe(202);
    jobAccepted.parse(await run.json());
    const list = await api(apps[1]!, "/api/segments");
    expect(list.status).toBe(200);
    segmentsResponse.parse(await list.json());
  });
});

describe("scripts", () => {
  it("are served whatever their user agent: curl, python-requests, a browser", async () => {
    for (const agent of [CURL, PYTHON_REQUESTS, BROWSER_HEADERS]) {
      const response = await api(apps[0]!, "/api/segments", { headers: agent });
      expect(response.status, agent["user-agent"]).toBe(200);
      segmentsResponse.parse(await response.json());
    }
  });

  it("get 401 in JSON with WWW-Authenticate for a missing, forged, expired or foreign token, never a redirect", async () => {
    const token = (options: Partial<Parameters<typeof signSessionToken>[0]>) =>
      signSessionToken({ shop: install.shop, apiKey: TEST_APP.apiKey, apiSecret: TEST_APP.apiSecret, ...options });
    const cases: [string, Record<string, string>][] = [
      ["missing", {}],
      ["not a JWT", { authorization: "Bearer not-a-token" }],
      ["another scheme", { authorization: `Basic ${sessionToken(install.shop)}` }],
      ["signed with another secret", { authorization: `Bearer ${token({ apiSecret: "someone-elses-secret" })}` }],
      ["for another app", { authorization: `Bearer ${token({ apiKey: "another-app" })}` }],
      ["expired", { authorization: `Bearer ${token({ lifetimeSeconds: -120 })}` }],
      ["for a shop without the app", { authorization: `Bearer ${token({ shop: "never-installed.myshopify.com" })}` }],
    ];
    for (const [label, headers] of cases) {
      for (const agent of [CURL, PYTHON_REQUESTS]) {
        const response = await fetch(`${apps[0]!.url}/api/pulls`, {
          redirect: "manual",
          headers: { ...agent, ...headers },
        });
        expect(response.status, label).toBe(401);
        expect(response.headers.get("location"), label).toBeNull();
        expect(response.headers.get("www-authenticate"), label).toMatch(/^Bearer realm="MicroSegment API"/);
        expect(response.headers.get("content-type"), label).toContain("application/json");
        expect((await response.json()).error, label).toEqual(expect.any(String));
      }
    }
    const pulls = () => install.prisma.dataPull.count({ where: { shop: install.shop } });
    const before = await pulls();
    const posted = await fetch(`${apps[0]!.url}/api/pulls`, {
      method: "POST",
      redirect: "manual",
      headers: CURL,
      body: "{}",
    });
    expect(posted.status).toBe(401);
    expect(await pulls()).toBe(before);
  });

  it("stay closed to other origins: no CORS headers, preflights refused", async () => {
    const origin = { origin: "https://attacker.example" };
    const preflight = await fetch(`${apps[0]!.url}/api/pulls`, {
      method: "OPTIONS",
      headers: {
        ...origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization",
      },
    });
    expect(preflight.status).toBe(405);
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
    expect(preflight.headers.get("access-control-allow-headers")).toBeNull();
    const read = await api(apps[0]!, "/api/pulls", { headers: origin });
    expect(read.status).toBe(200);
    expect(read.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("per-shop rate limit", () => {
  it("counts a shop's requests across app instances and answers 429 with Retry-After", async () => {
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 50_000) await new Promise((resolve) => setTimeout(resolve, 60_500 - intoMinute));
    const used = (await install.prisma.rateLimitWindow.findMany({ where: { key: { startsWith: "api:" } } }))
      .filter((row) => row.windowStart.getTime() === Math.floor(Date.now() / 60_000) * 60_000)
      .reduce((sum, row) => sum + row.count, 0);
    const statuses: number[] = [];
    for (let n = used; n < LIMIT + 2; n++) statuses.push((await api(apps[n % 2]!, "/api/pulls")).status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(LIMIT - used);
    expect(statuses.slice(-2)).toEqual([429, 429]);
    const limited = await api(apps[0]!, "/api/pulls");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  });
});
