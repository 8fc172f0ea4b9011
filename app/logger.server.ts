import { AsyncLocalStorage } from "node:async_hooks";
import pino from "pino";

/**
 * The one logger. Structured JSON with the request id of the request in
 * flight; secrets are removed twice: by key (redact) and by pattern (scrub),
 * so a token that slips into a message string is still never written.
 */

// Shared through globalThis because server.ts and the bundled Remix build each
// load their own copy of this module in production.
const CONTEXT_KEY = Symbol.for("microsegment.requestContext");
type RequestStore = { requestId: string };
const globalWithContext = globalThis as unknown as Record<symbol, AsyncLocalStorage<RequestStore> | undefined>;
export const requestContext: AsyncLocalStorage<RequestStore> = (globalWithContext[CONTEXT_KEY] ??=
  new AsyncLocalStorage<RequestStore>());

const SECRET_KEYS = [
  "accessToken",
  "refreshToken",
  "access_token",
  "refresh_token",
  "apiSecretKey",
  "idToken",
  "id_token",
  "sessionToken",
  "hmac",
  "email",
  "password",
  "authorization",
  "x-shopify-access-token",
  "x-shopify-hmac-sha256",
];

const SECRET_PATTERNS: [RegExp, string][] = [
  [/shp(at|ua|ca|pa|ss|rt)_[A-Za-z0-9_-]+/g, "shp$1_[redacted]"],
  [/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, "[jwt redacted]"],
  [/(id_token|hmac|signature|access_token|refresh_token|code)=[^&\s"]+/gi, "$1=[redacted]"],
  [/Bearer\s+[A-Za-z0-9._~+/=-]+/g, "Bearer [redacted]"],
  [/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, "[email redacted]"],
];

export function scrub(text: string): string {
  let result = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) result = result.replace(pattern, replacement);
  return result;
}

function scrubDeep(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return scrub(value);
  if (depth > 6 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) {
    return { type: value.name, message: scrub(value.message), stack: value.stack && scrub(value.stack) };
  }
  if (Array.isArray(value)) return value.map((item) => scrubDeep(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = SECRET_KEYS.includes(key) ? "[redacted]" : scrubDeep(inner, depth + 1);
  }
  return out;
}

export const logger = pino({
  level: process.env.LOG_LEVEL ?? "info",
  base: { pid: process.pid },
  timestamp: pino.stdTimeFunctions.isoTime,
  mixin: () => {
    const context = requestContext.getStore();
    return context ? { requestId: context.requestId } : {};
  },
  formatters: {
    level: (label) => ({ level: label }),
    log: (object) => scrubDeep(object) as Record<string, unknown>,
  },
  hooks: {
    logMethod(args, method) {
      method.apply(this, args.map((arg) => (typeof arg === "string" ? scrub(arg) : arg)) as Parameters<typeof method>);
    },
  },
});
