import type { PoolClient } from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import prisma from "../db.server";

/**
 * Writes pulled Shopify records. Batches go through COPY into a temporary
 * table and one INSERT … ON CONFLICT per table; a row is only rewritten when
 * something in it changed, so re-running a pull over unchanged data writes
 * nothing.
 */

export type Resource = "customers" | "products" | "orders";
export const RESOURCES: readonly Resource[] = ["customers", "products", "orders"];

type Value = string | number | boolean | null | string[] | Date | object;

interface TableSpec {
  table: string;
  columns: readonly string[];
  /** Columns of type json(b): written as JSON even when the value is an array. */
  json?: readonly string[];
}

export const TABLES = {
  Customer: {
    table: "Customer",
    columns: [
      "shop",
      "id",
      "legacyId",
      "firstName",
      "lastName",
      "email",
      "phone",
      "tags",
      "emailMarketing",
      "smsMarketing",
      "locale",
      "numberOfOrders",
      "amountSpent",
      "currencyCode",
      "city",
      "province",
      "countryCode",
      "zip",
      "address1",
      "shopifyCreatedAt",
      "shopifyUpdatedAt",
    ],
  },
  Product: {
    table: "Product",
    columns: [
      "shop",
      "id",
      "legacyId",
      "title",
      "handle",
      "description",
      "productType",
      "vendor",
      "tags",
      "status",
      "imageUrl",
      "options",
      "shopifyCreatedAt",
      "shopifyUpdatedAt",
    ],
    json: ["options"],
  },
  ProductVariant: {
    table: "ProductVariant",
    columns: ["shop", "id", "productId", "title", "sku", "price", "compareAtPrice", "selectedOptions"],
    json: ["selectedOptions"],
  },
  Order: {
    table: "Order",
    columns: [
      "shop",
      "id",
      "legacyId",
      "name",
      "customerId",
      "email",
      "phone",
      "currencyCode",
      "financialStatus",
      "discountCodes",
      "tags",
      "subtotal",
      "totalDiscounts",
      "totalShipping",
      "totalTax",
      "totalPrice",
      "totalRefunded",
      "shippingCity",
      "shippingCountry",
      "shippingZip",
      "shippingAddress1",
      "shippingName",
      "processedAt",
      "cancelledAt",
      "shopifyCreatedAt",
      "shopifyUpdatedAt",
    ],
  },
  OrderLineItem: {
    table: "OrderLineItem",
    columns: [
      "shop",
      "id",
      "orderId",
      "productId",
      "variantId",
      "title",
      "variantTitle",
      "sku",
      "quantity",
      "originalUnitPrice",
      "totalDiscount",
      "discountedTotal",
    ],
  },
  OrderTransaction: {
    table: "OrderTransaction",
    columns: ["shop", "id", "orderId", "kind", "status", "gateway", "amount", "processedAt"],
  },
} as const satisfies Record<string, TableSpec>;

export type TableName = keyof typeof TABLES;
export type Row<T extends TableName> = Record<(typeof TABLES)[T]["columns"][number], Value>;

const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;

/** One CSV field for COPY: NULL is an unquoted empty field, everything else is quoted. */
function csvField(value: Value, json: boolean): string {
  if (value === null || value === undefined) return "";
  let text: string;
  if (json) text = JSON.stringify(value);
  else if (value instanceof Date) text = value.toISOString();
  else if (Array.isArray(value))
    text = `{${value.map((item) => `"${String(item).replace(/["\\]/g, "\\$&")}"`).join(",")}}`;
  else if (typeof value === "object") text = JSON.stringify(value);
  else text = String(value);
  return `"${text.replaceAll('"', '""')}"`;
}

function mergeSql(spec: TableSpec, stage: string) {
  const columns = spec.columns.map(quote).join(", ");
  const keys = ["shop", "id"];
  const changing = spec.columns.filter((column) => !keys.includes(column));
  const set = [...changing.map((column) => `${quote(column)} = EXCLUDED.${quote(column)}`), `"syncedAt" = now()`].join(
    ", ",
  );
  const current = changing.map((column) => `${quote(spec.table)}.${quote(column)}`).join(", ");
  const incoming = changing.map((column) => `EXCLUDED.${quote(column)}`).join(", ");
  return `INSERT INTO ${quote(spec.table)} (${columns})
    SELECT DISTINCT ON ("shop", "id") ${columns} FROM ${stage} ORDER BY "shop", "id"
    ON CONFLICT ("shop", "id") DO UPDATE SET ${set}
    WHERE (${current}) IS DISTINCT FROM (${incoming})`;
}

/** Buffers rows per table and writes them in large batches inside the caller's transaction. */
export class StoreWriter {
  private readonly buffers = new Map<TableName, Row<TableName>[]>();
  private staged = new Set<TableName>();
  /** Rows inserted or changed by the flushes so far. */
  written = 0;

  add<T extends TableName>(table: T, row: Row<T>) {
    let buffer = this.buffers.get(table);
    if (!buffer) this.buffers.set(table, (buffer = []));
    buffer.push(row as Row<TableName>);
  }

  get pending() {
    let count = 0;
    for (const buffer of this.buffers.values()) count += buffer.length;
    return count;
  }

  async flush(client: PoolClient) {
    for (const [table, rows] of this.buffers) {
      if (rows.length === 0) continue;
      const spec: TableSpec = TABLES[table];
      const stage = `stage_${table.toLowerCase()}`;
      if (!this.staged.has(table)) {
        await client.query(
          `CREATE TEMP TABLE IF NOT EXISTS ${stage} (LIKE ${quote(spec.table)} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`,
        );
        this.staged.add(table);
      }
      const copy = client.query(
        copyFrom(`COPY ${stage} (${spec.columns.map(quote).join(", ")}) FROM STDIN (FORMAT csv)`),
      );
      const lines = (function* () {
        for (const row of rows) {
          yield `${spec.columns.map((column) => csvField(row[column as keyof typeof row], spec.json?.includes(column) ?? false)).join(",")}\n`;
        }
      })();
      await pipeline(Readable.from(lines), copy);
      const result = await client.query(mergeSql(spec, stage));
      this.written += result.rowCount ?? 0;
      rows.length = 0;
    }
  }
}

export async function storeCounts(shop: string) {
  const [customers, orders, products] = await Promise.all([
    prisma.customer.count({ where: { shop } }),
    prisma.order.count({ where: { shop } }),
    prisma.product.count({ where: { shop } }),
  ]);
  return { customers, orders, products };
}

/** Pulled records of one resource, in id order, for the results API. */
export async function listRecords(shop: string, resource: Resource, after: string | null, limit: number) {
  const where = { shop, ...(after ? { id: { gt: after } } : {}) };
  const take = limit + 1;
  const rows =
    resource === "customers"
      ? await prisma.customer.findMany({ where, orderBy: { id: "asc" }, take })
      : resource === "products"
        ? await prisma.product.findMany({ where, orderBy: { id: "asc" }, take })
        : await prisma.order.findMany({ where, orderBy: { id: "asc" }, take });
  const page = rows.slice(0, limit);
  return { records: page, nextCursor: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null };
}
