import prisma from "../app/db.server";
import { logger } from "../app/logger.server";
import { requestMetafieldSync } from "../app/models/customer-metafields.server";

/**
 * For bench:segments: forgets what the app last wrote to the shop's customer metafields and queues a sync of
 * its latest run, so that a fresh worker sends every value again and its memory can be measured alone.
 */
const shop = process.env.BENCH_SHOP!;
const run = await prisma.segmentationRun.findFirstOrThrow({
  where: { shop, status: "succeeded" },
  orderBy: { requestedAt: "desc" },
});
await prisma.customerMetafieldValue.deleteMany({ where: { shop } });
const sync = await requestMetafieldSync(shop, run.id);
if (!sync) throw new Error(`${shop} cannot take metafields: not installed, or no write_customers scope`);
logger.warn({ syncId: sync.id }, "bench metafield sync requested");
await prisma.$disconnect();
