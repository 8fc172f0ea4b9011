import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";

/**
 * Session tokens (ID tokens) as Shopify Admin issues them to embedded apps:
 * HS256 JWTs signed with the app secret, aud = client id, dest = the shop,
 * valid for one minute.
 */

export interface SessionTokenClaims {
  iss: string;
  dest: string;
  aud: string;
  sub: string;
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  sid: string;
}

const base64url = (value: string | Buffer) => Buffer.from(value).toString("base64url");

export function signSessionToken(options: {
  shop: string;
  apiKey: string;
  apiSecret: string;
  userId?: string;
  lifetimeSeconds?: number;
}): string {
  const now = Math.floor(Date.now() / 1000);
  const claims: SessionTokenClaims = {
    iss: `https://${options.shop}/admin`,
    dest: `https://${options.shop}`,
    aud: options.apiKey,
    sub: options.userId ?? "1",
    exp: now + (options.lifetimeSeconds ?? 60),
    nbf: now - 1,
    iat: now,
    jti: randomUUID(),
    sid: randomUUID(),
  };
  const header = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = base64url(JSON.stringify(claims));
  const signature = createHmac("sha256", options.apiSecret).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${signature}`;
}

export class InvalidSessionTokenError extends Error {}

export function verifySessionToken(token: string, apiKey: string, apiSecret: string): SessionTokenClaims {
  const [header, payload, signature] = token.split(".");
  if (!header || !payload || !signature) throw new InvalidSessionTokenError("malformed token");
  const expected = createHmac("sha256", apiSecret).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new InvalidSessionTokenError("bad signature");
  }
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as SessionTokenClaims;
  const now = Math.floor(Date.now() / 1000);
  if (claims.aud !== apiKey) throw new InvalidSessionTokenError("wrong audience");
  if (claims.exp + 10 < now || claims.nbf - 10 > now) throw new InvalidSessionTokenError("expired or not yet valid");
  return claims;
}
