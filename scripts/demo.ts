import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { createSimulator } from "../simulator/server";
import { embeddedAppUrl } from "../simulator/local-admin";
import { SimulatorStore } from "../simulator/store";
import { ensureDatabase, migrate } from "./database";
import { supervise } from "./processes";

/**
 * `npm run demo`: the whole app offline. Embedded PostgreSQL (unless
 * DATABASE_URL is set), the simulated Shopify store, the app and a worker;
 * installs the app into the simulated shop and prints the local Admin URL.
 * It serves the production build, as production does (no Vite dev server, so
 * no dependency re-optimisation on a first visit); `npm run dev` is the
 * development path. The build is remade when a source is newer than it.
 * The fixed credentials below are public demo values, never production ones.
 */

export const DEMO = {
  shop: "microsegment-demo.myshopify.com",
  apiKey: "demo-api-key",
  apiSecret: "demo-api-secret-not-for-production",
  encryptionKeys: "demo:ZGVtby1rZXktMzItYnl0ZXMtbm90LWZvci1wcm9kISE=",
  scopes: "read_customers,write_customers,read_orders,read_all_orders,read_products,write_pixels,read_customer_events",
};

async function portIsFree(port: number) {
  return new Promise<boolean>((resolve) => {
    const probe = createServer()
      .once("error", () => resolve(false))
      .listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

const appPort = Number(process.env.PORT ?? 3000);
const simulatorPort = Number(process.env.SIMULATOR_PORT ?? appPort + 1);
for (const [name, port] of [
  ["PORT", appPort],
  ["SIMULATOR_PORT", simulatorPort],
] as const) {
  if (!(await portIsFree(port))) {
    process.stderr.write(`demo: port ${port} is in use; set ${name} to a free port\n`);
    process.exit(1);
  }
}

/** Newest modification time of the files a build is made from. */
function newestSource() {
  const roots = ["app", "vite.config.ts", "package-lock.json", "tsconfig.json"];
  let newest = 0;
  for (const root of roots) {
    const info = statSync(root, { throwIfNoEntry: false });
    if (!info) continue;
    // app/types holds declarations and codegen's unpacked schema, which the build never reads (and which the
    // schema check rewrites while the tests run): a change there leaves the build as it is.
    const files = info.isDirectory()
      ? readdirSync(root, { recursive: true, withFileTypes: true })
          .filter((entry) => entry.isFile() && !path.join(entry.parentPath, entry.name).startsWith("app/types/"))
          .map((entry) => path.join(entry.parentPath, entry.name))
      : [root];
    for (const file of files) newest = Math.max(newest, statSync(file).mtimeMs);
  }
  return newest;
}

const BUILD_ENTRY = "build/server/index.js";
const builtAt = statSync(BUILD_ENTRY, { throwIfNoEntry: false })?.mtimeMs ?? 0;
if (builtAt < newestSource()) {
  process.stdout.write("demo: building the app (remix vite:build)…\n");
  const build = spawnSync(process.execPath, [path.resolve("node_modules/@remix-run/dev/dist/cli.js"), "vite:build"], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (build.status !== 0) {
    process.stderr.write(`demo: the build failed (exit ${build.status ?? build.signal})\n`);
    process.exit(1);
  }
}

const apiKey = process.env.SHOPIFY_API_KEY ?? DEMO.apiKey;
const apiSecret = process.env.SHOPIFY_API_SECRET ?? DEMO.apiSecret;
const appUrl = `http://127.0.0.1:${appPort}`;

const database = await ensureDatabase();
try {
  await migrate(database.url);
} catch (error) {
  // Stopped here, not left running: the next start would find its port and data folder taken.
  await database.stop();
  throw error;
}

const simulatorDir = process.env.SIMULATOR_DATA_DIR ?? ".data/simulator";
const store = new SimulatorStore(path.join(simulatorDir, "state.json"));
const existingShop = store.shops.get(DEMO.shop);
if (!existingShop || (process.env.DEMO_STORE_SIZE && existingShop.size !== process.env.DEMO_STORE_SIZE)) {
  store.addShop({
    domain: DEMO.shop,
    name: "MicroSegment Demo Outfitters",
    currencyCode: "USD",
    ianaTimezone: "America/New_York",
    size: process.env.DEMO_STORE_SIZE ?? "medium",
  });
}
const simulator = createSimulator({ apiKey, apiSecret, scopes: DEMO.scopes, store, appUrl, dataDir: simulatorDir });
const simulatorUrl = await simulator.listen(simulatorPort);

const env = {
  ...process.env,
  NODE_ENV: "production" as const,
  DATABASE_URL: database.url,
  SHOPIFY_API_KEY: apiKey,
  SHOPIFY_API_SECRET: apiSecret,
  SHOPIFY_APP_URL: appUrl,
  SCOPES: DEMO.scopes,
  TOKEN_ENCRYPTION_KEYS: process.env.TOKEN_ENCRYPTION_KEYS ?? DEMO.encryptionKeys,
  PORT: String(appPort),
  SHOPIFY_SIMULATOR_URL: simulatorUrl,
};
const processes = supervise();
processes.start("app", "server.ts", env);
processes.start("worker", "worker/index.ts", env);

let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  await processes.stopAll();
  await simulator.close();
  await database.stop();
  process.exit(code);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
void processes.firstExit.then(() => stop(1));

// Install: open the app once the way Admin does, which runs token exchange.
const installUrl = embeddedAppUrl({ appUrl, apiKey, apiSecret }, DEMO.shop);
const deadline = Date.now() + 120_000;
for (;;) {
  const response = await fetch(installUrl, {
    headers: { "user-agent": "Mozilla/5.0 MicroSegment demo installer" },
  }).catch(() => undefined);
  if (response?.ok) break;
  if (Date.now() > deadline) {
    process.stderr.write(`demo: the app did not come up at ${appUrl} (last status ${response?.status ?? "none"})\n`);
    await stop(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
}

const { data } = simulator.runtime(DEMO.shop)!;
process.stdout.write(
  `\nMicroSegment is running inside the simulated Shopify Admin (${data.customerCount} customers, ${data.orderCount} orders):\n\n` +
    `  ${simulatorUrl}/admin/local?shop=${DEMO.shop}\n\n` +
    `Send a webhook: npm run simulator -- send orders/create --customer 1 --url ${simulatorUrl}\nPress Ctrl-C to stop.\n`,
);
