import type { PoolClient } from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import prisma, { withPgTransaction } from "../db.server";
import { TABLES, type Resource, type Row, type TableName, type TableSpec, type Value } from "./store-tables.server";

/**
 * Writes pulled Shopify records. Batches go through COPY into a temporary
 * table and one INSERT … ON CONFLICT per table; a row is only rewritten when
 * something in it changed, so re-running a pull over unchanged data writes
 * nothing. While a table holds no row of the shop yet (its first pull), a
 * batch is COPied straight into it instead, under a savepoint that falls back
 * to the merge should any row exist after all.
 */

const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;

/** A CSV field quoted for COPY (quotes doubled); only values that need it go through replaceAll. */
const quoted = (text: string) => (text.includes('"') ? `"${text.replaceAll('"', '""')}"` : `"${text}"`);

/** A text[] literal, already quoted for CSV: elements in double quotes, `\` and `"` backslash-escaped. */
function csvArray(items: readonly unknown[]): string {
  let text = '"{';
  for (let i = 0; i < items.length; i++) {
    const item = String(items[i]);
    const escaped = item.includes("\\") || item.includes('"') ? item.replace(/["\\]/g, "\\$&") : item;
    text += `${i === 0 ? "" : ","}""${escaped.replaceAll('"', '""')}""`;
  }
  return `${text}}"`;
}

/** One CSV field for COPY: NULL is an unquoted empty field, every string is quoted (so "" stays an empty string). */
function csvField(value: Value | undefined, json: boolean): string {
  if (value === null || value === undefined) return "";
  if (json) return quoted(JSON.stringify(value));
  if (typeof value === "string") return quoted(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value instanceof Date) return quoted(value.toISOString());
  if (Array.isArray(value)) return csvArray(value);
  if (typeof value === "object") return quoted(JSON.stringify(value));
  return quoted(String(value));
}

function mergeSql(spec: TableSpec, stage: string, distinct: boolean) {
  const columns = spec.columns.map(quote).join(", ");
  const keys = ["shop", "id"];
  const changing = spec.columns.filter((column) => !keys.includes(column));
  const set = [...changing.map((column) => `${quote(column)} = EXCLUDED.${quote(column)}`), `"syncedAt" = now()`].join(
    ", ",
  );
  const current = changing.map((column) => `${quote(spec.table)}.${quote(column)}`).join(", ");
  const incoming = changing.map((column) => `EXCLUDED.${quote(column)}`).join(", ");
  // DISTINCT ON (and its sort) only when the batch holds an id twice: ON CONFLICT may not touch a row twice.
  const source = distinct
    ? `SELECT DISTINCT ON ("shop", "id") ${columns} FROM ${stage} ORDER BY "shop", "id"`
    : `SELECT ${columns} FROM ${stage}`;
  return `INSERT INTO ${quote(spec.table)} (${columns})
    ${source}
    ON CONFLICT ("shop", "id") DO UPDATE SET ${set}
    WHERE (${current}) IS DISTINCT FROM (${incoming})`;
}

/** What a table's batches need, worked out once. */
class TablePlan {
  readonly stage: string;
  readonly createStage: string;
  readonly copy: string;
  readonly copyDirect: string;
  readonly hasRowsOfShop: string;
  readonly merge: string;
  readonly mergeDistinct: string;
  private readonly json: boolean[];
  private readonly columns: readonly string[];

  constructor(spec: TableSpec) {
    this.stage = `stage_${spec.table.toLowerCase()}`;
    this.createStage = `CREATE TEMP TABLE IF NOT EXISTS ${this.stage} (LIKE ${quote(spec.table)} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`;
    this.copy = `COPY ${this.stage} (${spec.columns.map(quote).join(", ")}) FROM STDIN (FORMAT csv)`;
    this.copyDirect = `COPY ${quote(spec.table)} (${spec.columns.map(quote).join(", ")}) FROM STDIN (FORMAT csv)`;
    this.hasRowsOfShop = `SELECT EXISTS (SELECT 1 FROM ${quote(spec.table)} WHERE "shop" = $1) AS "has"`;
    this.merge = mergeSql(spec, this.stage, false);
    this.mergeDistinct = mergeSql(spec, this.stage, true);
    this.columns = spec.columns;
    this.json = spec.columns.map((column) => spec.json?.includes(column) ?? false);
  }

  /** One row as a CSV line. */
  line(row: Record<string, Value>): string {
    let line = "";
    for (let i = 0; i < this.columns.length; i++) {
      if (i > 0) line += ",";
      line += csvField(row[this.columns[i]!], this.json[i]!);
    }
    return `${line}\n`;
  }
}

const PLANS = Object.fromEntries(Object.entries(TABLES).map(([name, spec]) => [name, new TablePlan(spec)])) as Record<
  TableName,
  TablePlan
>;

/**
 * COPY data is written into slabs of this size: one protocol message each
 * rather than one per row. A writer reuses the slabs of a batch once it is
 * written, so a long import keeps a steady set of buffers instead of leaving
 * each batch's to the garbage collector.
 */
const SLAB_BYTES = 256 * 1024;

class SlabPool {
  private readonly free: Buffer[] = [];
  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(SLAB_BYTES);
  }
  give(slabs: Buffer[]) {
    for (const slab of slabs) if (slab.length === SLAB_BYTES) this.free.push(slab);
  }
}

/** One table's rows of a batch, already encoded as COPY CSV. */
class TableRows {
  /** Filled slabs (and the odd oversized line), each cut to its length. */
  readonly chunks: Buffer[] = [];
  private readonly owned: Buffer[] = [];
  private slab: Buffer | undefined;
  private used = 0;
  rows = 0;
  /** The shop of every row, or null once two shops are mixed. */
  shop: unknown = undefined;

  constructor(
    readonly plan: TablePlan,
    private readonly pool: SlabPool,
  ) {}

  add(row: Record<string, Value>) {
    const line = this.plan.line(row);
    if (this.rows === 0) this.shop = row.shop;
    else if (this.shop !== row.shop) this.shop = null;
    this.rows++;
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    if (!this.slab || this.used + line.length * 3 > this.slab.length) {
      this.seal();
      if (line.length * 3 > SLAB_BYTES) {
        this.chunks.push(Buffer.from(line, "utf8"));
        return;
      }
      this.slab = this.pool.take();
      this.owned.push(this.slab);
    }
    this.used += this.slab.write(line, this.used);
  }

  seal() {
    if (this.slab && this.used > 0) this.chunks.push(this.slab.subarray(0, this.used));
    this.slab = undefined;
    this.used = 0;
  }

  /** Once the data is written (and no longer queued on the socket), the slabs can be refilled. */
  recycle() {
    this.pool.give(this.owned);
    this.owned.length = 0;
    this.chunks.length = 0;
  }
}

/**
 * Merges a table's stage. A batch almost never holds the same record twice,
 * so the plain merge runs first, under a savepoint; only if Postgres reports
 * a row affected twice does the merge run again deduplicated (which costs a
 * sort of the whole stage).
 */
async function merge(client: PoolClient, plan: TablePlan): Promise<number> {
  try {
    const results = (await client.query(
      `SAVEPOINT merge_once; ${plan.merge}; RELEASE SAVEPOINT merge_once`,
    )) as unknown as { rowCount: number | null }[];
    return results[1]?.rowCount ?? 0;
  } catch (error) {
    if ((error as { code?: string }).code !== CARDINALITY_VIOLATION) throw error;
    await client.query("ROLLBACK TO SAVEPOINT merge_once");
    const result = await client.query(plan.mergeDistinct);
    await client.query("RELEASE SAVEPOINT merge_once");
    return result.rowCount ?? 0;
  }
}

/** "ON CONFLICT DO UPDATE command cannot affect row a second time" */
const CARDINALITY_VIOLATION = "21000";

/** "duplicate key value violates unique constraint" */
const UNIQUE_VIOLATION = "23505";

/**
 * COPY straight into the table, for rows the table does not have yet (a
 * shop's first pull): the same work as a plain COPY, where staging and
 * merging costs half as much again. Under a savepoint: if any row exists
 * after all, nothing of it stays and the caller merges instead. Answers the
 * rows inserted, or undefined after such a conflict.
 */
async function copyNew(client: PoolClient, rows: TableRows): Promise<number | undefined> {
  await client.query("SAVEPOINT copy_new");
  try {
    const copy = client.query(copyFrom(rows.plan.copyDirect));
    await pipeline(Readable.from(rows.chunks), copy);
    await client.query("RELEASE SAVEPOINT copy_new");
    return copy.rowCount;
  } catch (error) {
    if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
    await client.query("ROLLBACK TO SAVEPOINT copy_new");
    return undefined;
  }
}

/** How a writer stores each table: COPY of new rows while the shop has none there, merges once it has. */
type Modes = Map<TableName, "copy" | "merge">;

/**
 * Rows buffered for one transaction, per table, held as CSV rather than
 * objects. Written by COPY into a temporary table and one INSERT … ON
 * CONFLICT per table (or, for a shop's first rows in a table, by COPY
 * straight into it).
 */
export class StoreBatch {
  private readonly tables = new Map<TableName, TableRows>();
  rows = 0;

  constructor(
    private readonly pool = new SlabPool(),
    private readonly modes: Modes = new Map(),
  ) {}

  add<T extends TableName>(table: T, row: Row<T>) {
    let rows = this.tables.get(table);
    if (!rows) this.tables.set(table, (rows = new TableRows(PLANS[table], this.pool)));
    rows.add(row as Record<string, Value>);
    this.rows++;
  }

  /** Writes the rows inside the caller's transaction; answers how many were inserted or changed. */
  async write(client: PoolClient): Promise<number> {
    let written = 0;
    for (const [table, rows] of this.tables) {
      if (rows.rows === 0) continue;
      const { plan } = rows;
      rows.seal();
      if (typeof rows.shop === "string" && this.modes.get(table) !== "merge") {
        if (!this.modes.has(table)) {
          const { has } = (await client.query(plan.hasRowsOfShop, [rows.shop])).rows[0] as { has: boolean };
          this.modes.set(table, has ? "merge" : "copy");
        }
        if (this.modes.get(table) === "copy") {
          const inserted = await copyNew(client, rows);
          if (inserted !== undefined) {
            written += inserted;
            continue;
          }
          // Some row exists after all (written meanwhile, or twice in the batch): merge from now on.
          this.modes.set(table, "merge");
        }
      }
      // The stage lives as long as the pooled session; IF NOT EXISTS also covers a creation rolled back earlier.
      await client.query(plan.createStage);
      await pipeline(Readable.from(rows.chunks), client.query(copyFrom(plan.copy)));
      written += await merge(client, plan);
    }
    return written;
  }

  /**
   * Once the transaction that wrote the batch has committed, its slabs serve
   * the next batches (until then, a retry may need them).
   */
  release() {
    for (const rows of this.tables.values()) rows.recycle();
    this.tables.clear();
    this.rows = 0;
  }
}

/** Buffers rows per table and writes them in large batches inside the caller's transaction. */
export class StoreWriter {
  private readonly pool = new SlabPool();
  private readonly modes: Modes = new Map();
  private batch = new StoreBatch(this.pool, this.modes);
  /** Rows inserted or changed by the flushes so far. */
  written = 0;

  add<T extends TableName>(table: T, row: Row<T>) {
    this.batch.add(table, row);
  }

  get pending() {
    return this.batch.rows;
  }

  /** Hands over the buffered rows, to be written (see StoreBatch.write) while new ones are added. */
  take(): StoreBatch {
    const batch = this.batch;
    this.batch = new StoreBatch(this.pool, this.modes);
    return batch;
  }

  async flush(client: PoolClient) {
    const batch = this.take();
    this.written += await batch.write(client);
    batch.release();
  }

  /** Writes the buffered rows in a transaction of their own. */
  async commit() {
    await withPgTransaction((client) => this.flush(client));
  }
}

/** "deadlock detected": two batches (or a batch and a webhook's refresh) locked the same rows in opposite orders. */
const DEADLOCK_DETECTED = "40P01";

/** Writes a batch in a transaction of its own, again when it lost a deadlock; then frees its buffers. */
export async function commitBatch(batch: StoreBatch) {
  if (batch.rows === 0) return;
  for (let attempt = 1; ; attempt++) {
    try {
      await withPgTransaction((client) => batch.write(client));
      break;
    } catch (error) {
      if ((error as { code?: string }).code !== DEADLOCK_DETECTED || attempt >= 3) throw error;
    }
  }
  batch.release();
}

export async function storeCounts(shop: string) {
  const [customers, orders, products] = await Promise.all([
    prisma.customer.count({ where: { shop } }),
    prisma.order.count({ where: { shop } }),
    prisma.product.count({ where: { shop } }),
  ]);
  return { customers, orders, products };
}

/**
 * Pulled records of one resource, in id order, for the results API: orders
 * with their line items and transactions, products with their variants.
 */
export async function listRecords(shop: string, resource: Resource, after: string | null, limit: number) {
  const where = { shop, ...(after ? { id: { gt: after } } : {}) };
  const take = limit + 1;
  const page = <T>(rows: T[]) => rows.slice(0, limit);
  const nextCursor = (rows: { id: string }[]) => (rows.length > limit ? (rows[limit - 1]?.id ?? null) : null);
  if (resource === "customers") {
    const rows = await prisma.customer.findMany({ where, orderBy: { id: "asc" }, take });
    return { records: page(rows), nextCursor: nextCursor(rows) };
  }
  if (resource === "products") {
    const rows = await prisma.product.findMany({ where, orderBy: { id: "asc" }, take });
    const products = page(rows);
    const variants = await prisma.productVariant.findMany({
      where: { shop, productId: { in: products.map((product) => product.id) } },
      orderBy: { id: "asc" },
    });
    const records = products.map((product) => ({
      ...product,
      variants: variants.filter((variant) => variant.productId === product.id),
    }));
    return { records, nextCursor: nextCursor(rows) };
  }
  const rows = await prisma.order.findMany({ where, orderBy: { id: "asc" }, take });
  const orders = page(rows);
  const ids = orders.map((order) => order.id);
  const [lineItems, transactions] = await Promise.all([
    prisma.orderLineItem.findMany({ where: { shop, orderId: { in: ids } }, orderBy: { id: "asc" } }),
    prisma.orderTransaction.findMany({ where: { shop, orderId: { in: ids } }, orderBy: { id: "asc" } }),
  ]);
  const records = orders.map((order) => ({
    ...order,
    lineItems: lineItems.filter((item) => item.orderId === order.id),
    transactions: transactions.filter((transaction) => transaction.orderId === order.id),
  }));
  return { records, nextCursor: nextCursor(rows) };
}
