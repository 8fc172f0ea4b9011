import type { ActionFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import { logger } from "../logger.server";
import { continueStepsOfBulkOperation } from "../services/pull-jobs.server";
import { authenticate } from "../shopify.server";

const payload = z.object({ admin_graphql_api_id: z.string(), status: z.string() });

/** A bulk operation ended: run the waiting pull step now instead of at its next poll. */
export const action = async ({ request }: ActionFunctionArgs) => {
  const { shop, topic, payload: body } = await authenticate.webhook(request);
  const parsed = payload.safeParse(body);
  if (!parsed.success) return new Response("Malformed payload", { status: 400 });
  const continued = await continueStepsOfBulkOperation(shop, parsed.data.admin_graphql_api_id);
  logger.info({ shop, topic, status: parsed.data.status, continued }, "webhook received");
  return new Response();
};
