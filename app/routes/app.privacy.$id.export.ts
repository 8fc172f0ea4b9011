import type { LoaderFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import { readyExport } from "../models/privacy.server";
import { authenticate } from "../shopify.server";
import { noQuery, parseQuery } from "../services/request-input.server";

/** The JSON export of a customers/data_request, for the merchant to hand over. */
export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  parseQuery(request, noQuery);
  const id = z.uuid().safeParse(params.id);
  const found = id.success ? await readyExport(session.shop, id.data) : null;
  if (!found) return Response.json({ error: "no such export" }, { status: 404 });
  return new Response(JSON.stringify(found.export, null, 2), {
    headers: {
      "content-type": "application/json",
      "content-disposition": `attachment; filename="customer-data-${found.id}.json"`,
      "cache-control": "no-store",
    },
  });
};
