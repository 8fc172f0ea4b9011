import { z } from "zod";
import { withPgTransaction } from "../db.server";
import { StoreWriter, type Resource } from "../models/store-data.server";
import { adminGraphql } from "./admin-api.server";
import {
  customerNode,
  customerRow,
  lineItemNode,
  lineItemRow,
  orderNode,
  orderRow,
  productNode,
  productRow,
  transactionRow,
  variantNode,
  variantRow,
} from "./pull-queries.server";
import { PAGINATED } from "./pull-queries.server";

/**
 * Refreshes single records between pulls (orders/create, customers/update,
 * products/update): fetched by id through the same fields and rows as a pull,
 * so a webhook never writes a differently shaped record.
 */

const fieldsOf = (resource: Resource) => {
  // The node selection of the paginated query, reused for a single record.
  const query = PAGINATED[resource].query;
  const start = query.indexOf("nodes {") + "nodes {".length;
  let depth = 1;
  let end = start;
  while (depth > 0 && end < query.length) {
    if (query[end] === "{") depth++;
    if (query[end] === "}") depth--;
    end++;
  }
  return query.slice(start, end - 1);
};

const single = {
  customers: { field: "customer", schema: customerNode },
  products: {
    field: "product",
    schema: productNode.extend({ variants: z.object({ nodes: z.array(variantNode) }) }),
  },
  orders: {
    field: "order",
    schema: orderNode.extend({ lineItems: z.object({ nodes: z.array(lineItemNode) }) }),
  },
} as const;

export async function syncRecords(shop: string, resource: Resource, ids: string[]) {
  const writer = new StoreWriter();
  const { field, schema } = single[resource];
  const query = `query SyncRecord($id: ID!) { ${field}(id: $id) { ${fieldsOf(resource)} } }`;
  let found = 0;
  for (const id of ids) {
    const data = await adminGraphql(shop, query, z.object({ [field]: schema.nullable() }), { variables: { id } });
    const node = data[field] as z.infer<(typeof single)[typeof resource]["schema"]> | null;
    if (!node) continue;
    found++;
    if (resource === "customers") writer.add("Customer", customerRow(shop, node as z.infer<typeof customerNode>));
    if (resource === "products") {
      const product = node as z.infer<(typeof single)["products"]["schema"]>;
      writer.add("Product", productRow(shop, product));
      for (const variant of product.variants.nodes) writer.add("ProductVariant", variantRow(shop, product.id, variant));
    }
    if (resource === "orders") {
      const order = node as z.infer<(typeof single)["orders"]["schema"]>;
      writer.add("Order", orderRow(shop, order));
      for (const transaction of order.transactions)
        writer.add("OrderTransaction", transactionRow(shop, order.id, transaction));
      for (const item of order.lineItems.nodes) writer.add("OrderLineItem", lineItemRow(shop, order.id, item));
    }
  }
  await withPgTransaction((client) => writer.flush(client));
  return { found, written: writer.written };
}
