import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@prisma/client";
import { Session } from "@shopify/shopify-api";
import { loadConfig } from "../../app/config.server";
import { EncryptedSessionStorage } from "../../app/services/session-storage.server";
import { createSimulator, type Simulator, type SimulatorOptions } from "../../simulator/server";
import { TEST_APP } from "./app-env";

/**
 * Installs the app in a shop the simulated Shopify already has: an offline token issued by it, stored as the
 * app stores sessions (encrypted), and the shop recorded with the test app's scopes.
 */
export async function recordInstall(simulator: Simulator, prisma: PrismaClient, domain: string) {
  const token = simulator.store.issueToken("offline", domain, TEST_APP.scopes, null);
  await new EncryptedSessionStorage(prisma, loadConfig().TOKEN_ENCRYPTION_KEYS).storeSession(
    new Session({
      id: `offline_${domain}`,
      shop: domain,
      state: "",
      isOnline: false,
      scope: TEST_APP.scopes,
      accessToken: token.token,
    }),
  );
  await prisma.shop.create({ data: { domain, grantedScopes: TEST_APP.scopes } });
}

/**
 * A simulated Shopify with one shop in which the app is installed (session stored, shop recorded). Its orders end
 * on a fixed day, so figures repeat from run to run, unless `storeEnd` says otherwise: a run as of now sees the
 * weeks since as weeks without orders, and its backtest withholds predictions.
 */
export async function simulatedInstall(options: Partial<SimulatorOptions> & { size?: string; storeEnd?: string } = {}) {
  const { size, storeEnd = "2026-11-01T00:00:00.000Z", ...simulatorOptions } = options;
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL! }) });
  const simulator = createSimulator({
    apiKey: TEST_APP.apiKey,
    apiSecret: TEST_APP.apiSecret,
    scopes: TEST_APP.scopes,
    webhookMaxAttempts: 3,
    webhookBaseDelayMs: 200,
    ...simulatorOptions,
  });
  /** Adds a shop to the simulated Shopify and installs the app in it: its offline session stored, the shop recorded. */
  async function installShop(prefix: string, shopSize: string) {
    const domain = `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 6)}.myshopify.com`;
    simulator.store.addShop({ domain, size: shopSize, storeEnd });
    await recordInstall(simulator, prisma, domain);
    return domain;
  }
  const shop = await installShop("pull", size ?? "tiny");
  const url = await simulator.listen();
  const data = simulator.runtime(shop)!.data;
  return {
    simulator,
    simulatorUrl: url,
    shop,
    prisma,
    data,
    /** A second shop with the app installed, in the same simulated Shopify (answers its domain). */
    installAnotherShop: (prefix = "other", shopSize = "tiny") => installShop(prefix, shopSize),
    env: {
      ...TEST_APP.env,
      DATABASE_URL: process.env.DATABASE_URL!,
      SHOPIFY_SIMULATOR_URL: url,
      BULK_POLL_INTERVAL_MS: "200",
      WORKER_HEARTBEAT_MS: "1000",
      WORKER_STALE_AFTER_MS: "6000",
    },
    /** What the simulated store holds, to compare a pull against. */
    truth() {
      let lineItems = 0;
      let transactions = 0;
      let totalCents = 0;
      let netCents = 0;
      let lineNetCents = 0;
      for (let i = 0; i < data.orderCount; i++) {
        const order = data.order(i)!;
        lineItems += order.lineItems.length;
        transactions += order.transactions.length;
        totalCents += order.totalCents;
        netCents += order.netCents;
        for (const item of order.lineItems) lineNetCents += item.netCents;
      }
      let variants = 0;
      for (let k = 0; k < data.productCount; k++) variants += data.product(k)!.variants.length;
      return {
        customers: data.customerCount,
        products: data.productCount,
        variants,
        orders: data.orderCount,
        lineItems,
        transactions,
        totalCents,
        netCents,
        lineNetCents,
      };
    },
    async counts() {
      const where = { shop };
      const [customers, products, variants, orders, lineItems, transactions, totals] = await Promise.all([
        prisma.customer.count({ where }),
        prisma.product.count({ where }),
        prisma.productVariant.count({ where }),
        prisma.order.count({ where }),
        prisma.orderLineItem.count({ where }),
        prisma.orderTransaction.count({ where }),
        prisma.$queryRaw<{ cents: string; net: string; lineNet: string }[]>`
          SELECT (COALESCE(sum("totalPrice"), 0) * 100)::text AS cents, (COALESCE(sum("netRevenue"), 0) * 100)::text AS net,
                 (SELECT COALESCE(sum("netRevenue"), 0) * 100 FROM "OrderLineItem" WHERE shop = ${shop})::text AS "lineNet"
          FROM "Order" WHERE shop = ${shop}`,
      ]);
      return {
        customers,
        products,
        variants,
        orders,
        lineItems,
        transactions,
        totalCents: Number(totals[0]!.cents.split(".")[0]),
        netCents: Number(totals[0]!.net.split(".")[0]),
        lineNetCents: Number(totals[0]!.lineNet.split(".")[0]),
      };
    },
    async close() {
      await simulator.close();
      await prisma.$disconnect();
    },
  };
}
