import { readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simulatedInstall } from "../helpers/installed-shop";
import { startAppServer, type RunningProcess } from "../helpers/processes";
import { BROWSER_HEADERS, embeddedAppUrl, sessionToken } from "../helpers/shopify-requests";

/**
 * Input no route can use answers 4xx, never 500: the requests a security
 * review found answering 500, then every route of the app with hostile query
 * strings, as a page (in the Admin's frame) and as a script.
 */

type Install = Awaited<ReturnType<typeof simulatedInstall>>;
let install: Install;
let app: RunningProcess & { url: string };
let pullId: string;
const RANDOM_UUID = "0b9f7d3e-2c1a-4e5b-9a8d-7f6e5d4c3b2a";

beforeAll(async () => {
  install = await simulatedInstall({ size: "tiny" });
  // The sweep sends a few thousand API requests: the per-shop limit is not what it tests.
  app = await startAppServer({ ...install.env, NODE_ENV: "production", API_REQUESTS_PER_MINUTE: "1000000" });
  const started = await api("/api/pulls", { method: "POST", body: JSON.stringify({ kind: "full" }) });
  pullId = ((await started.json()) as { id: string }).id;
});

afterAll(async () => {
  await app?.stop();
  await install?.close();
});

function api(path: string, init: RequestInit = {}) {
  return fetch(`${app.url}${path}`, {
    redirect: "manual",
    ...init,
    headers: { authorization: `Bearer ${sessionToken(install.shop)}`, "user-agent": "curl/8.5.0", ...init.headers },
  });
}

/** A page as the Admin's frame loads it, with the query appended as it is written (not re-encoded). */
function page(path: string, query: string) {
  const url = embeddedAppUrl(app.url, install.shop, path);
  return fetch(`${url}&${query}`, { redirect: "manual", headers: BROWSER_HEADERS });
}

describe("what answered 500", () => {
  it("GET /assets/% is a 400", async () => {
    const response = await fetch(`${app.url}/assets/%`);
    expect(response.status).toBe(400);
    expect((await response.json()).error).toMatch(/percent-encoding/);
  });

  it("a segment's page with offset=1e20 shows the Polaris 'not valid' page with 400", async () => {
    const response = await page(`/app/segments/${RANDOM_UUID}`, "offset=1e20");
    expect(response.status).toBe(400);
    const html = await response.text();
    expect(html).toContain("This link is not valid");
    expect(html).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  it("the Products page with page=1e308 is a 400", async () => {
    const response = await page("/app/products", "page=1e308");
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("This link is not valid");
  });

  it("an API cursor with NUL is a 400 in JSON", async () => {
    const response = await api(`/api/pulls/${pullId}/results?resource=orders&cursor=%00`);
    expect(response.status).toBe(400);
    expect((await response.json()).error).toMatch(/^cursor: NUL/);
  });

  it("out-of-range numbers in the API are a 400 naming the field", async () => {
    for (const [path, field] of [
      [`/api/pulls/${pullId}/results?resource=orders&limit=1e308`, "limit"],
      [`/api/pulls/${pullId}/results?resource=orders&limit=-1`, "limit"],
      [`/api/segments/${RANDOM_UUID}?offset=1e20`, "offset"],
      [`/api/segments/${RANDOM_UUID}?limit=100000`, "limit"],
    ] as const) {
      const response = await api(path);
      expect(response.status, path).toBe(400);
      expect((await response.json()).error, path).toMatch(new RegExp(`^${field}:`));
    }
  });

  it("malformed percent-encoding anywhere in a URL is a 400", async () => {
    for (const path of ["/app%", "/api/pulls?cursor=%ZZ", "/app/segments?q=%E0%A4%A", "/webhooks/orders/create%zz"]) {
      const response = await fetch(`${app.url}${path}`, { headers: BROWSER_HEADERS });
      expect(response.status, path).toBe(400);
    }
  });
});

/** Every route file's URL, with ids that exist where one is needed to reach the query's parsing. */
function routeUrls() {
  return readdirSync("app/routes").map((file) => {
    const name = file.replace(/\.tsx?$/, "").replaceAll("[.]", "\u0001");
    const parts = name
      .split(".")
      .filter((part) => part !== "_index")
      .map((part) => {
        if (part === "$id") return name.startsWith("api.pulls") ? pullId : RANDOM_UUID;
        if (part === "$") return "no-such-page";
        return part.replaceAll("\u0001", ".");
      });
    return `/${parts.join("/")}`;
  });
}

const HOSTILE_QUERIES = [
  "page=1e308",
  "page=-1",
  "page=NaN",
  "page=99999999999999999999",
  "offset=1e20",
  "offset=-5",
  "limit=0",
  "limit=1e9",
  "cursor=%00",
  "q=%00",
  "x=%00",
  "period=%00",
  "resource=%00",
  "q=" + "%F0%9F%92%A9".repeat(300),
  "page=1&page=2&page=1e308",
  "state=%00&task=%00",
];

describe("every route with hostile query strings", () => {
  it("answers 4xx or its page, never 5xx", async () => {
    const urls = routeUrls();
    expect(urls).toEqual(expect.arrayContaining(["/", "/app", "/app/products", "/api/openapi.json", "/auth/login"]));
    const failures: string[] = [];
    for (const path of urls) {
      for (const query of HOSTILE_QUERIES) {
        const answers = await Promise.all([
          path.startsWith("/app") ? page(path, query) : fetch(`${app.url}${path}?${query}`, { redirect: "manual" }),
          api(`${path}?${query}`),
          api(`${path}?${query}`, { method: "POST", body: "{}" }),
        ]);
        answers.forEach((answer, n) => {
          // /readyz says 503 while no worker runs (none does here): its answer, whatever the query.
          const expected = path === "/readyz" && answer.status === 503;
          if (answer.status >= 500 && !expected)
            failures.push(`${["page", "GET", "POST"][n]} ${path}?${query.slice(0, 60)} → ${answer.status}`);
        });
      }
    }
    expect(failures).toEqual([]);
    expect(app.output()).not.toMatch(/"level":50/);
  });

  it("refuses NUL in any parameter of a page and of the API with 400", async () => {
    for (const path of ["/app", "/app/products", "/app/segments", "/app/customers", "/app/pixel"]) {
      const response = await page(path, "anything=%00");
      expect(response.status, path).toBe(400);
    }
    for (const path of ["/api/pulls", "/api/segments", `/api/pulls/${pullId}`, "/api/openapi.json"]) {
      const response = await api(`${path}?anything=%00`);
      expect(response.status, path).toBe(400);
      expect((await response.json()).error, path).toMatch(/^anything: NUL/);
    }
  });
});
