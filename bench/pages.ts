/**
 * `npm run bench:pages`: Built for Shopify's Web Vitals for every embedded
 * page. Runs `npm run demo` (production build) on a fresh medium store,
 * times install -> first segments ("first_insight_s"), then loads every page
 * of the app's navigation cold (a new browser context each time) five times
 * inside the local Admin in Chromium, reading LCP, CLS and INP from the
 * page's own PerformanceObserver, with one typical interaction per page.
 * The reference, measured in the same run and browser: a static page of the
 * same size class served by node:http (ratios hold on a noisy machine).
 * Prints progress to stderr and, last, one JSON line.
 */
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { rmSync } from "node:fs";
import pg from "pg";
import { chromium, type Browser, type Frame } from "playwright";
import { benchPostgres, log, percentile } from "./bench-env";

const LOADS = Number(process.env.BENCH_PAGE_LOADS ?? 5);
const STORE_SIZE = process.env.BENCH_STORE_SIZE ?? "medium";
const SHOP = "microsegment-demo.myshopify.com";
const PHONE = { width: 375, height: 812 };

/** Web Vitals as Chromium reports them, collected in every frame from the first byte on. */
const VITALS_OBSERVER = `(() => {
  const vitals = { lcp: 0, cls: 0, inp: 0, interactions: 0 };
  window.__vitals = vitals;
  const observe = (type, onEntry, extra = {}) => {
    try { new PerformanceObserver((list) => list.getEntries().forEach(onEntry)).observe({ type, buffered: true, ...extra }); } catch {}
  };
  observe("largest-contentful-paint", (entry) => { vitals.lcp = entry.startTime; });
  let session = 0, sessionStart = 0, sessionEnd = 0;
  observe("layout-shift", (entry) => {
    if (entry.hadRecentInput) return;
    if (entry.startTime - sessionEnd > 1000 || entry.startTime - sessionStart > 5000) { session = 0; sessionStart = entry.startTime; }
    session += entry.value; sessionEnd = entry.startTime;
    vitals.cls = Math.max(vitals.cls, session);
  });
  observe("event", (entry) => {
    if (!entry.interactionId) return;
    vitals.interactions += 1;
    vitals.inp = Math.max(vitals.inp, entry.duration);
  }, { durationThreshold: 16 });
})();`;

interface Vitals {
  lcp: number;
  cls: number;
  inp: number;
  interactions: number;
}

async function waitForDemo(child: ReturnType<typeof spawn>) {
  let output = "";
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the demo printed no URL in 10 min:\n${output.slice(-3000)}`)),
      600_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = output.match(/(http:\/\/127\.0\.0\.1:\d+\/admin\/local\?shop=\S+)/)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve(url);
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`the demo exited (${code}):\n${output.slice(-3000)}`)));
  });
}

async function firstInsightSeconds(db: pg.Client) {
  const deadline = Date.now() + 900_000;
  for (;;) {
    const { rows } = await db.query<{ seconds: number | null; failed: string | null }>(
      `SELECT extract(epoch FROM (SELECT min("finishedAt") FROM "SegmentationRun" WHERE shop = $1 AND status = 'succeeded')
                 - (SELECT "installedAt" FROM "Shop" WHERE domain = $1))::float AS seconds,
              (SELECT string_agg(error, '; ') FROM "SegmentationRun" WHERE shop = $1 AND status = 'failed') AS failed`,
      [SHOP],
    );
    if (rows[0]?.seconds != null) return Math.round(rows[0].seconds * 10) / 10;
    if (rows[0]?.failed) throw new Error(`the first segmentation run failed: ${rows[0].failed}`);
    if (Date.now() > deadline) throw new Error("no segmentation run succeeded within 15 min of install");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The app's frame inside the local Admin, once its document has loaded. */
async function appFrame(page: import("playwright").Page): Promise<Frame> {
  const handle = await page.waitForSelector("iframe#app-frame");
  const frame = (await handle.contentFrame())!;
  await frame.waitForLoadState("load");
  return frame;
}

/** One typical interaction per page: what a merchant does first there. */
async function interact(frame: Frame) {
  const candidates = [
    frame.getByRole("button", { name: /sort|last 90 days|period/i }).first(),
    frame.locator("th button").first(),
    frame.getByRole("tab").nth(1),
    frame.getByRole("combobox").first(),
    frame.locator("h1, h2").first(),
  ];
  for (const candidate of candidates) {
    if (await candidate.isVisible().catch(() => false)) {
      await candidate.click({ timeout: 5_000 }).catch(() => undefined);
      await frame
        .page()
        .keyboard.press("Escape")
        .catch(() => undefined);
      return;
    }
  }
}

// A merchant's browser: the app answers bots (HeadlessChrome among them) with 410, as Shopify's library does.
const BROWSER_USER_AGENT =
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";

async function measure(browser: Browser, url: string, inFrame: boolean, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, userAgent: BROWSER_USER_AGENT });
  await context.addInitScript(VITALS_OBSERVER);
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on("console", (message) => message.type() === "error" && consoleErrors.push(message.text()));
  try {
    await page.goto(url, { waitUntil: "load" });
    const frame = inFrame ? await appFrame(page) : page.mainFrame();
    await frame.waitForLoadState("networkidle").catch(() => undefined);
    await page.waitForTimeout(500);
    await interact(frame);
    await page.waitForTimeout(500);
    const vitals = (await frame.evaluate("window.__vitals")) as Vitals;
    const overflow = (await frame.evaluate(
      "document.documentElement.scrollWidth - document.documentElement.clientWidth",
    )) as number;
    return { ...vitals, overflow, consoleErrors };
  } finally {
    await context.close();
  }
}

function referenceServer(): Promise<{ server: Server; url: string }> {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Reference</title>
<style>body{font-family:system-ui,sans-serif;margin:24px}</style></head><body><h1>Reference page</h1>
${Array.from({ length: 20 }, (_, i) => `<p>Static paragraph ${i + 1} with text a merchant reads.</p>`).join("")}
<button>Interact</button></body></html>`;
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
    res.end(html);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` }),
    ),
  );
}

const postgres = await benchPostgres(".data/postgres-bench-pages", 54337);
const databaseUrl = await postgres.freshDatabase("bench_pages");
const simulatorDir = ".data/bench-pages-simulator";
rmSync(simulatorDir, { recursive: true, force: true });
const appPort = Number(process.env.BENCH_PAGES_PORT ?? 3900);
const demo = spawn(process.execPath, ["--import", "tsx", "scripts/demo.ts"], {
  env: {
    ...process.env,
    DATABASE_URL: databaseUrl,
    SIMULATOR_DATA_DIR: simulatorDir,
    DEMO_STORE_SIZE: STORE_SIZE,
    PORT: String(appPort),
    SIMULATOR_PORT: String(appPort + 1),
    LOG_LEVEL: "warn",
  },
  stdio: ["ignore", "pipe", "pipe"],
});
const db = new pg.Client({ connectionString: databaseUrl });
let browser: Browser | undefined;
const reference = await referenceServer();
try {
  log(`starting the demo on a fresh ${STORE_SIZE} store`);
  const adminUrl = await waitForDemo(demo);
  await db.connect();
  const firstInsight = await firstInsightSeconds(db);
  log(`first insight ${firstInsight} s after install`);

  const [segment] = (
    await db.query<{ id: string }>(`SELECT id FROM "Segment" WHERE shop = $1 AND active ORDER BY size DESC LIMIT 1`, [
      SHOP,
    ])
  ).rows;
  const [customer] = (
    await db.query<{ legacyId: string }>(
      `SELECT c."legacyId" FROM "CustomerScore" s JOIN "Customer" c ON c.shop = s.shop AND c.id = s."customerId"
       WHERE s.shop = $1 ORDER BY s.monetary DESC LIMIT 1`,
      [SHOP],
    )
  ).rows;

  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
  });
  // The app's own navigation, as the local Admin's sidebar shows it, plus one page of each detail kind.
  const navContext = await browser.newContext({ userAgent: BROWSER_USER_AGENT });
  const navPage = await navContext.newPage();
  await navPage.goto(adminUrl);
  await navPage.waitForSelector("#app-nav a", { timeout: 60_000 }).catch(() => undefined);
  const navPaths = await navPage
    .locator("#app-nav a")
    .evaluateAll((links) => links.map((link) => link.getAttribute("data-href") ?? link.getAttribute("href") ?? ""));
  await navContext.close();
  const paths = [
    ...new Set([
      "/app",
      ...navPaths.filter((path) => path.startsWith("/app")),
      ...(segment ? [`/app/segments/${segment.id}`] : []),
      ...(customer ? [`/app/customers/${customer.legacyId}`] : []),
    ]),
  ];
  log(`pages: ${paths.join(", ")}`);

  const pageFigures: { path: string; lcp: number; cls: number; inp: number; phoneOverflow: number }[] = [];
  const lcps: number[] = [];
  const inps: number[] = [];
  let clsMax = 0;
  const consoleErrors = new Set<string>();
  for (const path of paths) {
    const url = `${adminUrl}&path=${encodeURIComponent(path)}`;
    const samples: Vitals[] = [];
    for (let load = 0; load < LOADS; load++) {
      const result = await measure(browser, url, true);
      result.consoleErrors.forEach((error) => consoleErrors.add(`${path}: ${error}`));
      samples.push(result);
    }
    const phone = await measure(browser, url, true, PHONE);
    const sortedLcp = samples.map((s) => s.lcp).sort((a, b) => a - b);
    const sortedInp = samples.map((s) => s.inp).sort((a, b) => a - b);
    lcps.push(...sortedLcp);
    inps.push(...sortedInp);
    const cls = Math.max(...samples.map((s) => s.cls));
    clsMax = Math.max(clsMax, cls);
    pageFigures.push({
      path,
      lcp: percentile(sortedLcp, 75),
      cls: Math.round(cls * 1000) / 1000,
      inp: percentile(sortedInp, 75),
      phoneOverflow: phone.overflow,
    });
    log(`${path}: ${JSON.stringify(pageFigures.at(-1))}`);
  }

  const referenceLcps: number[] = [];
  for (let load = 0; load < LOADS; load++) referenceLcps.push((await measure(browser, reference.url, false)).lcp);
  referenceLcps.sort((a, b) => a - b);

  const slowest = pageFigures.reduce((worst, page) => (page.lcp > worst.lcp ? page : worst), pageFigures[0]!);
  const lcpP75 = percentile(
    lcps.sort((a, b) => a - b),
    75,
  );
  const referenceLcpP75 = percentile(referenceLcps, 75);
  if (consoleErrors.size) log(`console errors:\n  ${[...consoleErrors].join("\n  ")}`);
  const wide = pageFigures.filter((page) => page.phoneOverflow > 0).map((page) => page.path);
  process.stdout.write(
    `${JSON.stringify({
      pages: pageFigures.length,
      lcp_p75_ms: lcpP75,
      cls_max: Math.round(clsMax * 1000) / 1000,
      inp_p75_ms: percentile(
        inps.sort((a, b) => a - b),
        75,
      ),
      slowest_page: slowest.path,
      slowest_lcp_p75_ms: slowest.lcp,
      reference_lcp_p75_ms: referenceLcpP75,
      lcp_ratio_to_reference: referenceLcpP75 ? Math.round((lcpP75 / referenceLcpP75) * 100) / 100 : null,
      phone_overflowing_pages: wide,
      console_errors: consoleErrors.size,
      first_insight_s: firstInsight,
    })}\n`,
  );
} finally {
  await browser?.close();
  reference.server.close();
  demo.kill("SIGINT");
  await new Promise((resolve) => demo.once("exit", resolve));
  await db.end().catch(() => undefined);
  await postgres.stop();
}
