import type { Prisma, PrismaClient } from "@prisma/client";
import prisma, { pgPool } from "../db.server";
import { enqueueJob } from "./jobs.server";

type Db = PrismaClient | Prisma.TransactionClient;

/**
 * Records an install (or a token renewal) and, in the same transaction, asks
 * for the shop's details. A shop that had uninstalled starts a new installation.
 */
export function recordInstall(domain: string, grantedScopes: string) {
  return prisma.$transaction(async (tx) => {
    const installed = await upsertInstall(tx, domain, grantedScopes);
    await enqueueJob("shop-details-sync", { shop: domain }, {}, tx);
    return installed;
  });
}

async function upsertInstall(db: Db, domain: string, grantedScopes: string) {
  const existing = await db.shop.findUnique({ where: { domain } });
  const now = new Date();
  if (!existing) {
    await db.shop.create({ data: { domain, grantedScopes, installedAt: now } });
    return { firstInstall: true };
  }
  const reinstall = existing.uninstalledAt !== null;
  await db.shop.update({
    where: { domain },
    data: {
      grantedScopes,
      needsReauthAt: null,
      ...(reinstall ? { installedAt: now, uninstalledAt: null } : {}),
    },
  });
  return { firstInstall: reinstall };
}

export interface ShopDetails {
  name: string;
  planName: string | null;
  currencyCode: string;
  ianaTimezone: string;
}

export async function saveShopDetails(domain: string, details: ShopDetails) {
  await prisma.shop.update({
    where: { domain },
    data: { ...details, detailsSyncedAt: new Date() },
  });
}

export async function markNeedsReauth(domain: string) {
  await prisma.shop.update({ where: { domain }, data: { needsReauthAt: new Date() } });
}

export function getShop(domain: string) {
  return prisma.shop.findUnique({ where: { domain } });
}

export type InstallState = "installed" | "uninstalled" | "never-installed";

/**
 * Whether the app is installed in the shop now. A stored session counts as installed even before the
 * shop's row exists (the library stores the session before the install is recorded).
 */
export async function installState(domain: string, db?: Db): Promise<InstallState> {
  // One statement, and on the plain pg pool unless a transaction is given: every webhook batch asks this, and
  // Prisma's own cost per query is several times the database's.
  const sql = `SELECT (SELECT "uninstalledAt" IS NOT NULL FROM "Shop" WHERE domain = $1) AS uninstalled,
                      EXISTS (SELECT 1 FROM "Session" WHERE shop = $1) AS sessions`;
  type Row = { uninstalled: boolean | null; sessions: boolean };
  const [row] = db ? await db.$queryRawUnsafe<Row[]>(sql, domain) : (await pgPool.query<Row>(sql, [domain])).rows;
  const { uninstalled, sessions } = row!;
  if (sessions || uninstalled === false) return "installed";
  return uninstalled === null ? "never-installed" : "uninstalled";
}

/** app/uninstalled: the shop's sessions go, and it is marked uninstalled. */
export async function markUninstalled(domain: string) {
  await prisma.$transaction([
    prisma.session.deleteMany({ where: { shop: domain } }),
    prisma.shop.updateMany({ where: { domain, uninstalledAt: null }, data: { uninstalledAt: new Date() } }),
  ]);
}

/** app/scopes_update: the scopes the merchant granted now. */
export async function recordGrantedScopes(domain: string, scopes: string[]) {
  const scope = scopes.join(",");
  // One statement (both rows or neither), not a transaction of two round trips.
  await pgPool.query(
    `WITH shop AS (UPDATE "Shop" SET "grantedScopes" = $1, "updatedAt" = now() WHERE domain = $2)
     UPDATE "Session" SET scope = $1 WHERE shop = $2 AND "isOnline" = false`,
    [scope, domain],
  );
}
