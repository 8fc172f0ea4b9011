import type { LoaderFunctionArgs } from "@remix-run/node";
import { z } from "zod";
import prisma from "../db.server";
import { getPull } from "../models/pulls.server";
import { listRecords } from "../models/store-data.server";
import { RESOURCES } from "../models/store-tables.server";
import { badRequest, jsonResponse } from "../services/json.server";
import { authenticateApi, pullResultsQuery } from "../services/api.server";

/** GET /api/pulls/<id>/results?resource=orders&cursor=…: the shop's pulled records, a page at a time. */
export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticateApi(request);
  const id = z.uuid().safeParse(params.id);
  const pull = id.success ? await getPull(session.shop, id.data) : null;
  if (!pull) return Response.json({ error: "no such pull" }, { status: 404 });
  const parsed = pullResultsQuery.safeParse(Object.fromEntries(new URL(request.url).searchParams));
  if (!parsed.success) return badRequest(parsed.error);
  const resource = parsed.data.resource as (typeof RESOURCES)[number];
  const page = await listRecords(session.shop, resource, parsed.data.cursor ?? null, parsed.data.limit);
  const ids = page.records.map((record) => record.id);
  let records: unknown[] = page.records;
  if (resource === "orders") {
    const [lineItems, transactions] = await Promise.all([
      prisma.orderLineItem.findMany({ where: { shop: session.shop, orderId: { in: ids } }, orderBy: { id: "asc" } }),
      prisma.orderTransaction.findMany({ where: { shop: session.shop, orderId: { in: ids } }, orderBy: { id: "asc" } }),
    ]);
    records = page.records.map((order) => ({
      ...order,
      lineItems: lineItems.filter((item) => item.orderId === order.id),
      transactions: transactions.filter((transaction) => transaction.orderId === order.id),
    }));
  } else if (resource === "products") {
    const variants = await prisma.productVariant.findMany({ where: { shop: session.shop, productId: { in: ids } } });
    records = page.records.map((product) => ({
      ...product,
      variants: variants.filter((v) => v.productId === product.id),
    }));
  }
  return jsonResponse({ resource, records, nextCursor: page.nextCursor });
};
