import type { LoaderFunctionArgs } from "@remix-run/node";
import { checkReadiness } from "../models/health.server";

export const loader = async ({ context }: LoaderFunctionArgs) => {
  if (context.draining()) {
    return Response.json({ ready: false, draining: true }, { status: 503, headers: { "Cache-Control": "no-store" } });
  }
  const readiness = await checkReadiness();
  return Response.json(readiness, { status: readiness.ready ? 200 : 503, headers: { "Cache-Control": "no-store" } });
};
