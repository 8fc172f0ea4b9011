import { parseArgs } from "node:util";
import { createSimulator, SIMULATED_EVENTS, type SimulatedEvent } from "./server";
import { SimulatorStore } from "./store";
import { STORE_SIZES } from "./generator";

/**
 * `npm run simulator -- <command>`
 *
 *   serve  [--port 3001] [--app-url http://127.0.0.1:3000] [--shop name.myshopify.com] [--size medium]
 *          runs a simulated Shopify on its own (SHOPIFY_API_KEY / SHOPIFY_API_SECRET or the demo values)
 *   send <topic> [--shop name.myshopify.com] [--customer N] [--product N] [--duplicates N] [--url http://127.0.0.1:3001]
 *          makes the running simulator deliver a webhook, e.g. "send customers/redact --customer 42"
 */

const DEMO_KEY = "demo-api-key";
const DEMO_SECRET = "demo-api-secret-not-for-production";
const DEFAULT_SHOP = "microsegment-demo.myshopify.com";

function fail(message: string): never {
  process.stderr.write(`simulator: ${message}\n`);
  process.exit(2);
}

const [command, ...rest] = process.argv.slice(2);

if (command === "send") {
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      shop: { type: "string", default: DEFAULT_SHOP },
      customer: { type: "string" },
      product: { type: "string" },
      duplicates: { type: "string" },
      url: { type: "string", default: process.env.SHOPIFY_SIMULATOR_URL ?? "http://127.0.0.1:3001" },
    },
  });
  const event = positionals[0] as SimulatedEvent | undefined;
  if (!event || !SIMULATED_EVENTS.includes(event)) fail(`send needs one of: ${SIMULATED_EVENTS.join(", ")}`);
  const number = (value: string | undefined) => (value === undefined ? undefined : Number(value));
  const response = await fetch(`${values.url}/simulator/events`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      event,
      shop: values.shop,
      customer: number(values.customer),
      product: number(values.product),
      duplicates: number(values.duplicates),
    }),
  }).catch((error: Error) => fail(`no simulator at ${values.url} (${error.message})`));
  const body = (await response.json()) as {
    deliveries?: { delivered: boolean; attempts: { status: number | null }[] }[];
    error?: string;
  };
  if (!response.ok) fail(body.error ?? `HTTP ${response.status}`);
  for (const delivery of body.deliveries ?? []) {
    process.stdout.write(
      `${event}: ${delivery.delivered ? "delivered" : "NOT delivered"} after ${delivery.attempts.length} attempt(s) (${delivery.attempts.map((a) => a.status ?? "network error").join(", ")})\n`,
    );
  }
  process.exit(body.deliveries?.every((delivery) => delivery.delivered) ? 0 : 1);
} else if (command === "serve") {
  const { values } = parseArgs({
    args: rest,
    options: {
      port: { type: "string", default: "3001" },
      "app-url": { type: "string", default: "http://127.0.0.1:3000" },
      shop: { type: "string", default: DEFAULT_SHOP },
      size: { type: "string", default: "medium" },
    },
  });
  if (!(values.size in STORE_SIZES)) fail(`--size must be one of ${Object.keys(STORE_SIZES).join(", ")}`);
  const store = new SimulatorStore(".data/simulator/state.json");
  if (!store.shops.has(values.shop)) store.addShop({ domain: values.shop, size: values.size });
  const simulator = createSimulator({
    apiKey: process.env.SHOPIFY_API_KEY ?? DEMO_KEY,
    apiSecret: process.env.SHOPIFY_API_SECRET ?? DEMO_SECRET,
    scopes:
      process.env.SCOPES ??
      "read_customers,write_customers,read_orders,read_all_orders,read_products,write_pixels,read_customer_events",
    store,
    appUrl: values["app-url"],
    dataDir: ".data/simulator",
  });
  const url = await simulator.listen(Number(values.port));
  process.stdout.write(`Simulated Shopify at ${url}; local Admin: ${url}/admin/local?shop=${values.shop}\n`);
  const stop = () => void simulator.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
} else {
  fail("usage: simulator serve [options] | simulator send <topic> [options] (see simulator/cli.ts)");
}
