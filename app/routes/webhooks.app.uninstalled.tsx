import type { ActionFunctionArgs } from "@remix-run/node";
import { receiveWebhook } from "../services/webhooks.server";

/** app/uninstalled: recorded durably and processed by the worker (app/services/webhook-processing.server.ts). */
export const action = ({ request }: ActionFunctionArgs) => receiveWebhook(request);
