import { createHash, timingSafeEqual } from "node:crypto";
import { loadConfig } from "../config.server";

/**
 * Operator access (metrics, the /ops page): its own secret, separate from
 * Shopify's sessions. Compared by hash in constant time.
 */

const digest = (value: string) => createHash("sha256").update(value).digest();

function matchesSecret(candidate: string | undefined) {
  const secret = loadConfig().OPS_SECRET;
  if (!secret || candidate === undefined) return false;
  return timingSafeEqual(digest(candidate), digest(secret));
}

export const opsEnabled = () => Boolean(loadConfig().OPS_SECRET);

/** "Authorization: Bearer <secret>" (Prometheus) or "Basic <user:secret>" (a browser). */
export function opsAuthorized(authorization: string | null | undefined) {
  if (!authorization) return false;
  const [scheme, value = ""] = authorization.split(" ", 2);
  if (scheme === "Bearer") return matchesSecret(value);
  if (scheme === "Basic") {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    return matchesSecret(decoded.slice(decoded.indexOf(":") + 1));
  }
  return false;
}
