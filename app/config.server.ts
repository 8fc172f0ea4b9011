import { isIP } from "node:net";
import { z } from "zod";

/**
 * The one place settings are read. Every process calls `loadConfig()` at
 * start; a missing or malformed variable stops it with one line naming it.
 */

const DEFAULT_SCOPES =
  "read_customers,write_customers,read_orders,read_all_orders,read_products,write_pixels,read_customer_events";

const keyRing = z.string().transform((value, ctx) => {
  const keys: { id: string; key: Buffer }[] = [];
  for (const entry of value
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)) {
    const separator = entry.indexOf(":");
    const id = entry.slice(0, separator);
    const key = Buffer.from(entry.slice(separator + 1), "base64");
    if (separator < 1 || !/^[A-Za-z0-9_-]{1,32}$/.test(id) || key.length !== 32) {
      ctx.addIssue({
        code: "custom",
        message: "expected comma-separated <id>:<base64 of 32 random bytes>, newest first",
      });
      return z.NEVER;
    }
    keys.push({ id, key });
  }
  if (keys.length === 0) {
    ctx.addIssue({ code: "custom", message: "needs at least one key" });
    return z.NEVER;
  }
  if (new Set(keys.map((k) => k.id)).size !== keys.length) {
    ctx.addIssue({ code: "custom", message: "key ids must be unique" });
    return z.NEVER;
  }
  return keys;
});

/** `NAME=` (as .env.example has it) means not set. */
const unsetIfEmpty = <Schema extends z.ZodType>(schema: Schema) =>
  z.preprocess((value) => (value === "" ? undefined : value), schema);

const settingsSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  SHOPIFY_API_KEY: z.string().min(1),
  SHOPIFY_API_SECRET: z.string().min(1),
  SHOPIFY_APP_URL: z.url({ protocol: /^https?$/ }),
  SCOPES: z.string().min(1).default(DEFAULT_SCOPES),
  TOKEN_ENCRYPTION_KEYS: keyRing,
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(5),
  // The worker's scheduling priority (Unix niceness, 0 to 19): where it shares a machine with the app server
  // (the demo, a small host), background jobs yield the CPU to requests and webhook intake. 0 keeps Node's own.
  WORKER_NICENESS: z.coerce.number().int().min(0).max(19).default(10),
  // HTTP server limits. Bodies: pages and the JSON API read at most MAX_BODY_BYTES, webhooks at most
  // WEBHOOK_MAX_BODY_BYTES (Shopify's largest orders stay well below), the pixel its own 64 KiB, any other
  // path none. A client has HTTP_HEADERS_TIMEOUT_MS to send its headers and HTTP_REQUEST_TIMEOUT_MS for the
  // whole request, body included; at most HTTP_MAX_CONNECTIONS sockets are open at once (more are closed).
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(256 * 1024),
  WEBHOOK_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(2 * 1024 * 1024),
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  HTTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(1000),
  // Data pulls: how often a waiting bulk operation is polled when its webhook has not come, and
  // how long one resource of a pull may run before it fails as timed out.
  BULK_POLL_INTERVAL_MS: z.coerce.number().int().min(100).default(10_000),
  PULL_STEP_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .default(2 * 3_600_000),
  // Bulk operations a shop's pulls run at once: Shopify allows five since API 2026-01; 1 runs a full
  // pull's resources one after another (the benchmark's reference).
  PULL_BULK_CONCURRENCY: z.coerce.number().int().min(1).max(5).default(5),
  // Workers: heartbeat period, and silence after which a worker counts as dead and its jobs are released.
  WORKER_HEARTBEAT_MS: z.coerce.number().int().min(100).default(15_000),
  WORKER_STALE_AFTER_MS: z.coerce.number().int().min(500).default(60_000),
  // Storefront pixel events a shop, and one visitor (pixel client id), may send a minute, shared by every app instance.
  PIXEL_SHOP_EVENTS_PER_MINUTE: z.coerce.number().int().min(1).default(60_000),
  PIXEL_CLIENT_EVENTS_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  // How far a storefront event's own timestamp may lie before and after its arrival; others are refused (400).
  PIXEL_EVENT_MAX_AGE_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  PIXEL_EVENT_MAX_AHEAD_HOURS: z.coerce.number().int().min(1).max(168).default(24),
  // AI (any OpenAI-compatible server; OpenRouter by default). Without LLM_API_KEY nothing is sent
  // anywhere: a deterministic local namer stands in. Prices are USD per million tokens, for cost records.
  LLM_BASE_URL: z.url({ protocol: /^https?$/ }).default("https://openrouter.ai/api/v1"),
  LLM_API_KEY: z
    .string()
    .optional()
    .transform((value) => value?.trim() || undefined),
  LLM_MODEL: z.string().min(1).default("openai/gpt-4o-mini"),
  LLM_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  LLM_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  LLM_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  LLM_INPUT_USD_PER_MTOK: z.coerce.number().min(0).default(0.15),
  LLM_OUTPUT_USD_PER_MTOK: z.coerce.number().min(0).default(0.6),
  // Segmentation: groups smaller than SEGMENT_MIN_SIZE customers are merged or dropped, and at most
  // SEGMENT_MAX_MICRO micro-segments (the largest) are kept. Predictions are shown only for shops with
  // at least this many customers with orders, repeat customers and days of order history.
  SEGMENT_MIN_SIZE: z.coerce.number().int().min(1).default(50),
  SEGMENT_MAX_MICRO: z.coerce.number().int().min(0).max(500).default(60),
  PREDICTION_MIN_CUSTOMERS: z.coerce.number().int().min(2).default(200),
  PREDICTION_MIN_REPEAT_CUSTOMERS: z.coerce.number().int().min(1).default(50),
  // When the LLM could not name some segments, they are tried again after this delay (then with growing delays).
  SEGMENT_NAMING_RETRY_MS: z.coerce
    .number()
    .int()
    .min(100)
    .default(10 * 60_000),
  PREDICTION_MIN_HISTORY_DAYS: z.coerce.number().int().min(1).default(180),
  // Predictions are shown only when the chosen purchase model, fitted on the history before the
  // holdout, predicted the holdout's repeat orders within this relative error (0.25 = 25 %).
  PREDICTION_MAX_HOLDOUT_ERROR: z.coerce.number().min(0).default(0.25),
  // A push to Shopify with more tag changes than this goes out as one bulk mutation per change
  // (tag, untag) instead of batches of tagsAdd / tagsRemove requests.
  SEGMENT_BULK_TAG_THRESHOLD: z.coerce.number().int().min(1).default(5000),
  // A metafield sync with more values to write than this goes out as one bulk mutation of
  // metafieldsSet instead of requests of 25 (2,500 values: 100 requests, about a minute of API budget).
  METAFIELD_BULK_THRESHOLD: z.coerce.number().int().min(1).default(2500),
  // The largest variables file one bulk mutation (metafields, segment tags) uploads; more goes as several in
  // turn. Bounds the worker's memory whatever the shop's size (16 MiB: about 25,000 customers' five metafields,
  // or 220,000 customers' tag), and stays under the 100 MB Shopify accepts.
  BULK_MUTATION_FILE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(100_000_000)
    .default(16 * 1024 * 1024),
  // Operations: the secret that opens /metrics (Bearer) and the operator page /ops (Basic, any user name).
  // Unset, both answer 404. The worker serves its own /metrics on WORKER_METRICS_PORT when set.
  OPS_SECRET: unsetIfEmpty(z.string().min(24, "use at least 24 random characters").optional()),
  WORKER_METRICS_PORT: unsetIfEmpty(z.coerce.number().int().min(1).max(65535).optional()),
  // JSON API requests a shop may make a minute (all app instances together).
  API_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  // Retention: the daily data-retention job removes what is older than these (README, "What we keep and for
  // how long"). Pixel events go by whole UTC days; segments read the last 30 days of them.
  PIXEL_EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  WEBHOOK_PAYLOAD_RETENTION_DAYS: z.coerce.number().int().min(0).max(3650).default(7),
  // A delivery's record keeps repeats of its event out; Shopify stops retrying after 48 hours.
  WEBHOOK_RECORD_RETENTION_DAYS: z.coerce.number().int().min(3).max(3650).default(90),
  DATA_REQUEST_EXPORT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  AI_CALL_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(400),
  RATE_LIMIT_WINDOW_RETENTION_MINUTES: z.coerce.number().int().min(1).default(60),
  // A checkout's claim waits this long for its order; the order comes by orders/create or the next daily pull.
  PIXEL_IDENTITY_CLAIM_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(7),
  // Proxies whose X-Forwarded-Proto is believed (comma-separated addresses or CIDR ranges, or "none"): only
  // then does a request count as HTTPS and get HSTS. The default, loopback, fits a proxy or tunnel on this host.
  TRUSTED_PROXIES: z
    .string()
    .default("loopback")
    .transform((value, ctx) => {
      const entries = value
        .split(",")
        .map((entry) => entry.trim())
        .filter(Boolean);
      if (entries.length === 1 && entries[0] === "none") return [];
      for (const entry of entries) {
        const [address, bits] = entry.split("/");
        const family = isIP(address ?? "");
        const maxBits = family === 6 ? 128 : 32;
        const validBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= maxBits);
        if (entry !== "loopback" && (family === 0 || !validBits)) {
          ctx.addIssue({ code: "custom", message: `"${entry}" is not an IP address, a CIDR range or "loopback"` });
          return z.NEVER;
        }
      }
      return entries;
    }),
  // Set only for local development and tests: points the transport to
  // *.myshopify.com (and the App Bridge script) at the simulated store.
  // Under NODE_ENV=production only a simulator on this machine is accepted (the demo and the tests serve the
  // production build against it): a production deployment can never send shops' tokens to another host.
  SHOPIFY_SIMULATOR_URL: unsetIfEmpty(z.url({ protocol: /^https?$/ }).optional()),
  // TLS verification is never turned off: refuse to start if someone tried.
  NODE_TLS_REJECT_UNAUTHORIZED: z
    .string()
    .refine((value) => value !== "0", "TLS certificate verification must stay on; unset it")
    .optional(),
});

const configSchema = settingsSchema.refine(
  (config) => config.HTTP_HEADERS_TIMEOUT_MS <= config.HTTP_REQUEST_TIMEOUT_MS,
  // Node keeps a request open until the larger of the two: headers slower than the whole request must not outlive it.
  { message: "must not exceed HTTP_REQUEST_TIMEOUT_MS", path: ["HTTP_HEADERS_TIMEOUT_MS"] },
);

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

const checkedConfigSchema = configSchema.superRefine((config, ctx) => {
  const simulator = config.SHOPIFY_SIMULATOR_URL;
  if (config.NODE_ENV === "production" && simulator && !LOOPBACK_HOSTS.has(new URL(simulator).hostname)) {
    ctx.addIssue({
      code: "custom",
      path: ["SHOPIFY_SIMULATOR_URL"],
      message: "must not be set under NODE_ENV=production (only a simulator on localhost is allowed there)",
    });
  }
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {}

export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = checkedConfigSchema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const name = String(issue.path[0] ?? "environment");
  const missing = (env[name] === undefined || env[name] === "") && issue.code !== "custom";
  const problem = missing ? "is required" : `is invalid: ${issue.message}`;
  throw new ConfigError(`Configuration error: ${name} ${problem} (see .env.example)`);
}

let cached: Config | undefined;

/** Reads and validates settings once; exits the process with code 1 when they are wrong. */
export function loadConfig(): Config {
  if (cached) return cached;
  try {
    cached = parseConfig(process.env);
    return cached;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}
