import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import { enqueueJob } from "../../app/models/jobs.server";
import { TEST_APP } from "../helpers/app-env";
import { freePort, startAppServer, startWorker, waitFor, type RunningProcess } from "../helpers/processes";

/** What operators get: Prometheus metrics from app and worker, and the /ops page with retry and cancel. */

const OPS_SECRET = "ops-secret-for-tests-0123456789";
const basic = `Basic ${Buffer.from(`operator:${OPS_SECRET}`).toString("base64")}`;
let app: RunningProcess & { url: string };
let worker: RunningProcess | undefined;
let env: Record<string, string>;

beforeAll(async () => {
  env = { ...TEST_APP.env, NODE_ENV: "production", DATABASE_URL: process.env.DATABASE_URL!, OPS_SECRET };
  app = await startAppServer(env);
});

afterAll(async () => {
  await Promise.all([app?.stop(), worker?.stop()]);
});

/** A job of a task no worker knows, so that it stays where the test puts it. */
async function parkedJob() {
  const rows = await prisma.$queryRaw<{ id: bigint }[]>`
    SELECT id FROM graphile_worker.add_job('ops-test-parked', '{}'::json, max_attempts => 3, run_at => now() + interval '1 hour')`;
  return String(rows[0]!.id);
}

const stateOf = async (id: string) =>
  (
    await prisma.$queryRaw<{ attempts: number; max_attempts: number; run_at: Date; last_error: string | null }[]>`
      SELECT attempts, max_attempts, run_at, last_error FROM graphile_worker.jobs WHERE id = ${BigInt(id)}`
  )[0];

describe("/metrics", () => {
  it("needs the operator secret, then serves HTTP, queue and ingest metrics", async () => {
    expect((await fetch(`${app.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${app.url}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    await fetch(`${app.url}/healthz`);
    await fetch(`${app.url}/api/pixel/events`, { method: "POST", body: "{}" });
    await parkedJob();
    const response = await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${OPS_SECRET}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain");
    const text = await response.text();
    expect(text).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/healthz",status="2xx"\} 1/);
    expect(text).toMatch(
      /http_request_duration_seconds_count\{method="POST",route="\/api\/pixel\/events",status="4xx"\} 1/,
    );
    expect(text).toMatch(/job_queue_depth\{task="ops-test-parked",state="scheduled"\} \d+/);
    expect(text).toContain("process_resident_memory_bytes");
  });

  it("is not served at all without an operator secret", async () => {
    const plain = await startAppServer({ ...env, OPS_SECRET: "" });
    try {
      expect((await fetch(`${plain.url}/metrics`, { headers: { authorization: `Bearer ${OPS_SECRET}` } })).status).toBe(
        404,
      );
      expect((await fetch(`${plain.url}/ops`, { headers: { authorization: basic } })).status).toBe(404);
    } finally {
      await plain.stop();
    }
  });

  it("from the worker: durations and failures of jobs by task", async () => {
    const port = await freePort();
    worker = await startWorker({ ...env, WORKER_METRICS_PORT: String(port) });
    const job = await enqueueJob("pull-scheduled", {});
    await waitFor(
      async () =>
        !(await prisma.$queryRaw<unknown[]>`SELECT 1 FROM graphile_worker.jobs WHERE id = ${BigInt(job.id)}`).length,
    );
    const text = await waitFor(async () => {
      const response = await fetch(`http://127.0.0.1:${port}/metrics`, {
        headers: { authorization: `Bearer ${OPS_SECRET}` },
      });
      const body = await response.text();
      return body.includes('job_duration_seconds_count{task="pull-scheduled",outcome="success"} 1') && body;
    });
    expect(text).toContain("job_duration_seconds_bucket");
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(401);
  });

  it("runs the worker at a lower CPU priority than the app server, so jobs yield to requests", () => {
    // Field 19 of /proc/<pid>/stat is the niceness (after the command's closing parenthesis, field 17).
    const niceness = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[16]);
    expect(niceness(worker!.child.pid!) - niceness(app.child.pid!)).toBe(10);
  });
});

describe("metrics labels", () => {
  const series = async () => {
    const text = await (
      await fetch(`${app.url}/metrics`, { headers: { authorization: `Bearer ${OPS_SECRET}` } })
    ).text();
    return new Set(
      text
        .split("\n")
        .filter((line) => line.startsWith("http_request_duration_seconds_count{"))
        .map((line) => line.replace(/ \d+$/, "")),
    );
  };

  it("name known routes by their pattern and everything else 'other': 1,000 random paths add no series", async () => {
    const segment = () => Math.random().toString(36).slice(2).replace(/\d/g, "x");
    const prefixes = ["", "api/", "webhooks/", "assets/", "auth/", "app/"];
    // A first request of each kind makes the few series random paths may share (other, /assets/*, /auth/*, /app/*).
    for (const prefix of prefixes) await fetch(`${app.url}/${prefix}${segment()}`, { redirect: "manual" });
    await fetch(`${app.url}/app/segments/${randomUUID()}`, { redirect: "manual" });
    await fetch(`${app.url}/healthz`);
    await series(); // the scrape's own series
    const before = await series();
    for (let n = 0; n < 1000; n += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => {
          const depth = 1 + ((n + i) % 4);
          const path = Array.from({ length: depth }, segment).join("/");
          const prefix = prefixes[(n + i) % prefixes.length];
          return fetch(`${app.url}/${prefix}${path}`, { redirect: "manual" }).then((response) =>
            response.body?.cancel(),
          );
        }),
      );
    }
    const after = await series();
    expect([...after].filter((line) => !before.has(line))).toEqual([]);
    const routes = new Set([...after].map((line) => /route="([^"]*)"/.exec(line)![1]));
    expect(routes).toContain("other");
    expect(routes).toContain("/app/segments/:id");
    expect(routes).toContain("/healthz");
    for (const route of routes) expect(route).toMatch(/^(other|\/[a-z_./:*-]*)$/);
  });
});

describe("/ops", () => {
  it("asks for the operator secret with HTTP Basic", async () => {
    const response = await fetch(`${app.url}/ops`);
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
    const wrong = `Basic ${Buffer.from("operator:guess").toString("base64")}`;
    expect((await fetch(`${app.url}/ops`, { headers: { authorization: wrong } })).status).toBe(401);
  });

  it("lists jobs, cancels and retries them, and refuses cross-site changes", async () => {
    const id = await parkedJob();
    const page = await fetch(`${app.url}/ops?task=ops-test-parked`, { headers: { authorization: basic } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toBe("frame-ancestors 'none'");
    expect(await page.text()).toContain(id);

    const post = (intent: string, headers: Record<string, string> = {}) =>
      fetch(`${app.url}/ops?_data=routes%2Fops`, {
        method: "POST",
        headers: { authorization: basic, ...headers },
        body: new URLSearchParams({ intent, id }),
      });
    expect((await post("cancel", { origin: "https://attacker.example" })).status).toBe(403);
    expect((await stateOf(id))!.attempts).toBe(0);

    expect((await post("cancel")).status).toBe(200);
    const cancelled = (await stateOf(id))!;
    expect(cancelled.attempts).toBe(cancelled.max_attempts);
    expect(cancelled.last_error).toMatch(/cancelled by an operator/);

    expect((await post("retry")).status).toBe(200);
    const retried = (await stateOf(id))!;
    expect(retried.attempts).toBe(0);
    expect(retried.run_at.getTime()).toBeLessThanOrEqual(Date.now() + 1000);
  });
});
