import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";

/**
 * State of the simulated Shopify: shops and the access tokens issued for
 * them. Tokens look like Shopify's: shpat_ (offline), shpua_ (online),
 * shprt_ (refresh).
 */

export interface SimulatedShop {
  domain: string;
  name: string;
  email: string;
  currencyCode: string;
  ianaTimezone: string;
  planDisplayName: string;
  shopifyPlus: boolean;
  createdAt: string;
  /** Size and seed of the generated store data; the last day of its history. */
  size?: string;
  seed?: number;
  storeEnd?: string;
}

export type TokenKind = "offline" | "online" | "refresh";

export interface IssuedToken {
  token: string;
  kind: TokenKind;
  shop: string;
  scope: string;
  expiresAt: number | null;
  revoked: boolean;
}

const PREFIX: Record<TokenKind, string> = { offline: "shpat_", online: "shpua_", refresh: "shprt_" };

export class SimulatorStore {
  readonly shops = new Map<string, SimulatedShop>();
  private readonly tokens = new Map<string, IssuedToken>();

  /** With a file, shops and tokens survive a restart (the demo reuses them). */
  constructor(private readonly stateFile?: string) {
    if (stateFile && existsSync(stateFile)) {
      const state = JSON.parse(readFileSync(stateFile, "utf8")) as { shops: SimulatedShop[]; tokens: IssuedToken[] };
      for (const shop of state.shops) this.shops.set(shop.domain, shop);
      for (const token of state.tokens) this.tokens.set(token.token, token);
    }
  }

  private save() {
    if (!this.stateFile) return;
    mkdirSync(path.dirname(this.stateFile), { recursive: true });
    const now = Date.now();
    const live = [...this.tokens.values()].filter((t) => !t.revoked && (t.expiresAt === null || t.expiresAt > now));
    writeFileSync(`${this.stateFile}.tmp`, JSON.stringify({ shops: [...this.shops.values()], tokens: live }));
    renameSync(`${this.stateFile}.tmp`, this.stateFile);
  }

  addShop(shop: Partial<SimulatedShop> & { domain: string }): SimulatedShop {
    const complete: SimulatedShop = {
      name: shop.domain
        .replace(".myshopify.com", "")
        .replace(/-/g, " ")
        .replace(/\b\w/g, (c) => c.toUpperCase()),
      email: `owner@${shop.domain}`,
      currencyCode: "USD",
      ianaTimezone: "America/New_York",
      planDisplayName: "Basic",
      shopifyPlus: false,
      createdAt: new Date("2023-01-15T10:00:00Z").toISOString(),
      size: "tiny",
      seed: 1,
      storeEnd: new Date(
        Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()),
      ).toISOString(),
      ...shop,
      // Shopify's domains are lowercase, and the app's library lowercases what it sends.
      domain: shop.domain.toLowerCase(),
    };
    this.shops.set(complete.domain, complete);
    this.save();
    return complete;
  }

  issueToken(kind: TokenKind, shop: string, scope: string, lifetimeSeconds: number | null): IssuedToken {
    const issued: IssuedToken = {
      token: PREFIX[kind] + randomBytes(16).toString("hex"),
      kind,
      shop,
      scope,
      expiresAt: lifetimeSeconds === null ? null : Date.now() + lifetimeSeconds * 1000,
      revoked: false,
    };
    this.tokens.set(issued.token, issued);
    this.save();
    return issued;
  }

  /** The token if it is known, unrevoked and unexpired. */
  validToken(token: string | null | undefined, kinds: TokenKind[]): IssuedToken | undefined {
    const issued = token ? this.tokens.get(token) : undefined;
    if (!issued || issued.revoked || !kinds.includes(issued.kind)) return undefined;
    if (issued.expiresAt !== null && issued.expiresAt < Date.now()) return undefined;
    return issued;
  }

  allTokens(): IssuedToken[] {
    return [...this.tokens.values()];
  }

  revokeShopTokens(shop: string) {
    for (const issued of this.tokens.values()) if (issued.shop === shop) issued.revoked = true;
    this.save();
  }

  revokeToken(token: string) {
    const issued = this.tokens.get(token);
    if (issued) issued.revoked = true;
    this.save();
  }
}
