import type { ActionFunctionArgs } from "@remix-run/node";
import prisma from "../db.server";
import { logger } from "../logger.server";
import { authenticate } from "../shopify.server";

export const action = async ({ request }: ActionFunctionArgs) => {
  const { shop, topic } = await authenticate.webhook(request);
  logger.info({ shop, topic }, "webhook received");
  // Deliveries repeat after uninstall; both statements are idempotent.
  await prisma.$transaction([
    prisma.session.deleteMany({ where: { shop } }),
    prisma.shop.updateMany({ where: { domain: shop, uninstalledAt: null }, data: { uninstalledAt: new Date() } }),
  ]);
  return new Response();
};
