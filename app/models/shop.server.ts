import type { Prisma, PrismaClient } from "@prisma/client";
import prisma from "../db.server";

type Db = PrismaClient | Prisma.TransactionClient;

/** Records an install (or a token renewal). A shop that had uninstalled starts a new installation. */
export async function recordInstall(db: Db, domain: string, grantedScopes: string) {
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
