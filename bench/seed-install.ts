import { Session } from "@shopify/shopify-api";
import { loadConfig } from "../app/config.server";
import prisma from "../app/db.server";
import { logger } from "../app/logger.server";
import { createPull, type PullMode } from "../app/models/pulls.server";
import type { Resource } from "../app/models/store-tables.server";
import { EncryptedSessionStorage } from "../app/services/session-storage.server";

/** For benchmarks: installs the app into a simulated shop with the app's own storage, and starts a full pull. */
const shop = process.env.BENCH_SHOP!;
const scopes = process.env.BENCH_SCOPES || "read_customers,read_orders,read_products";
await new EncryptedSessionStorage(prisma, loadConfig().TOKEN_ENCRYPTION_KEYS).storeSession(
  new Session({
    id: `offline_${shop}`,
    shop,
    state: "",
    isOnline: false,
    scope: scopes,
    accessToken: process.env.BENCH_TOKEN!,
  }),
);
await prisma.shop.create({ data: { domain: shop, grantedScopes: scopes } });
const resources = (process.env.BENCH_RESOURCES || "").split(",").filter(Boolean) as Resource[];
const pull = await createPull({
  shop,
  kind: "full",
  mode: process.env.BENCH_MODE as PullMode,
  resources,
  trigger: "merchant",
});
logger.warn({ pullId: pull.id }, "bench pull created");
await prisma.$disconnect();
