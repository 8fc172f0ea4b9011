import type { ActionFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import prisma from "../db.server";
import { logger } from "../logger.server";
import { authenticate } from "../shopify.server";

const scopesUpdatePayload = z.object({ current: z.array(z.string()) });

export const action = async ({ request }: ActionFunctionArgs) => {
  const { shop, topic, payload, session } = await authenticate.webhook(request);
  logger.info({ shop, topic }, "webhook received");
  const parsed = scopesUpdatePayload.safeParse(payload);
  if (!parsed.success) return new Response("Malformed payload", { status: 400 });
  const scope = parsed.data.current.join(",");
  await prisma.shop.updateMany({ where: { domain: shop }, data: { grantedScopes: scope } });
  if (session) await prisma.session.update({ where: { id: session.id }, data: { scope } });
  return new Response();
};
