import prisma from "../db.server";
import { enqueueWebhookProcessing } from "../services/webhooks.server";

/** Deliveries that failed every attempt, for the merchant to see and retry. */
export function failedDeliveries(shop: string, take = 20) {
  return prisma.webhookDelivery.findMany({
    where: { shop, status: "failed" },
    orderBy: { receivedAt: "desc" },
    take,
    select: { id: true, topic: true, attempts: true, lastError: true, receivedAt: true },
  });
}

export async function retryDelivery(shop: string, id: string) {
  const updated = await prisma.webhookDelivery.updateMany({
    where: { id, shop, status: "failed" },
    data: { status: "received", lastError: null },
  });
  if (updated.count === 0) return false;
  await enqueueWebhookProcessing(id);
  return true;
}
