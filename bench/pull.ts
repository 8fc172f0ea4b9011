/**
 * `npm run bench:pull`: a full bulk pull of a simulated store of 50k customers,
 * 10k products and 300k orders (about 1M line items) through the real worker,
 * against plain COPY of the same rows into the same tables, measured in the
 * same run; then the same for a store four times smaller, and a paginated
 * pull of the small store's customers and products to measure pacing. The
 * small store is pulled twice more while the simulator takes time to prepare
 * each export in proportion to its size, as Shopify does: with the three bulk
 * operations at once (the app's default) and one after another
 * (PULL_BULK_CONCURRENCY=1), to show what running them side by side saves.
 * Prints progress to stderr and, last, one JSON line.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { startProcess } from "../tests/helpers/processes";
import { smsConsentState } from "../simulator/admin-resolvers";
import { createSimulator } from "../simulator/server";
import { formatCents, storeSpec, type StoreSizeName } from "../simulator/generator";
import { gid, ShopData } from "../simulator/shop-data";
import { TABLES } from "../app/models/store-tables.server";
import { BENCH_APP, benchAppEnv, benchPostgres, log, peakResidentMb } from "./bench-env";

const STORE_END = new Date("2026-11-01T00:00:00Z");
/** How long the simulated Shopify takes to prepare each page of 250 top-level records of an export. */
const SHOPIFY_PAGE_MS = 40;
const server = await benchPostgres(".data/postgres-bench", 54331);
const freshDatabase = server.freshDatabase;

async function runPull(
  size: StoreSizeName,
  mode: "bulk" | "paginated",
  options: {
    resources?: string[];
    restoreRate?: number;
    bucketSize?: number;
    bulkPageDelayMs?: number;
    env?: Record<string, string>;
    label?: string;
  } = {},
) {
  const databaseUrl = await freshDatabase(`bench_pull_${size.toLowerCase()}_${mode}${options.label ?? ""}`);
  const simulator = createSimulator({
    ...BENCH_APP,
    scopes: "read_customers,read_orders,read_products",
    dataDir: ".data/bench-simulator",
    restoreRate: options.restoreRate ?? 100,
    bucketSize: options.bucketSize ?? 2000,
    bulkPageDelayMs: options.bulkPageDelayMs ?? 0,
  });
  const shop = `bench-${size.toLowerCase()}.myshopify.com`;
  simulator.store.addShop({ domain: shop, size, storeEnd: STORE_END.toISOString() });
  const simulatorUrl = await simulator.listen();
  const token = simulator.store.issueToken("offline", shop, "read_customers,read_orders,read_products", null).token;
  const env = {
    ...benchAppEnv(databaseUrl),
    SHOPIFY_SIMULATOR_URL: simulatorUrl,
    BULK_POLL_INTERVAL_MS: "250",
    ...options.env,
  };
  // The app's own code stores the session and starts the pull, in a helper process with these settings.
  const seeded = startProcess("bench/seed-install.ts", {
    ...env,
    BENCH_SHOP: shop,
    BENCH_TOKEN: token,
    BENCH_MODE: mode,
    BENCH_RESOURCES: (options.resources ?? []).join(","),
  });
  const created = await seeded.waitForLog((line) => line.msg === "bench pull created", 60_000);
  await seeded.stop();
  const worker = startProcess("worker/index.ts", env);
  const db = new pg.Client({ connectionString: databaseUrl });
  db.on("error", (error) => log(`bench client (${databaseUrl.split("/").pop()}): ${error.message}`));
  await db.connect();
  const started = performance.now();
  let status = "queued";
  while (!["succeeded", "failed", "cancelled"].includes(status)) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    status = (await db.query(`SELECT status FROM "DataPull" WHERE id = $1`, [created.pullId])).rows[0].status;
  }
  const seconds = (performance.now() - started) / 1000;
  if (status !== "succeeded") {
    const steps = await db.query(`SELECT resource, status, error FROM "DataPullStep" WHERE "pullId" = $1`, [
      created.pullId,
    ]);
    throw new Error(`bench pull ${status}: ${JSON.stringify(steps.rows)}\n${worker.output().slice(-2000)}`);
  }
  const rss = Math.round(peakResidentMb(worker.child.pid!));
  // Shopify's own export time is not the app's: per step, the import runs from the
  // moment its bulk operation completed to the moment the step finished.
  const steps = (
    await db.query(`SELECT "bulkOperationId", "finishedAt" FROM "DataPullStep" WHERE "pullId" = $1`, [created.pullId])
  ).rows as {
    bulkOperationId: string | null;
    finishedAt: Date;
  }[];
  // Imports run side by side, so their time is the union of the steps' intervals, not their sum.
  const operations = simulator.runtime(shop)!.bulkOperations;
  const intervals = steps
    .flatMap((step) => {
      const completedAt = step.bulkOperationId ? operations.get(step.bulkOperationId)?.completedAt : null;
      return completedAt ? [[Date.parse(completedAt), step.finishedAt.getTime()] as const] : [];
    })
    .sort((a, b) => a[0] - b[0]);
  let importSeconds = 0;
  let coveredUntil = -Infinity;
  for (const [from, to] of intervals) {
    const start = Math.max(from, coveredUntil);
    if (to > start) importSeconds += (to - start) / 1000;
    coveredUntil = Math.max(coveredUntil, to);
  }
  await worker.stop();
  const counts = (
    await db.query(`SELECT (SELECT count(*) FROM "Customer") + (SELECT count(*) FROM "Product") + (SELECT count(*) FROM "ProductVariant")
      + (SELECT count(*) FROM "Order") + (SELECT count(*) FROM "OrderLineItem") + (SELECT count(*) FROM "OrderTransaction") AS records`)
  ).rows[0].records;
  const runtime = simulator.runtime(shop)!;
  await db.end();
  await simulator.close();
  return {
    databaseUrl,
    records: Number(counts),
    seconds,
    importSeconds: importSeconds || seconds,
    peakRssMb: rss,
    counters: runtime.counters,
    restoreRate: options.restoreRate ?? 100,
    bucketSize: options.bucketSize ?? 2000,
  };
}

/** A text[] literal: elements in double quotes, `\` and `"` backslash-escaped. */
const pgArray = (items: string[]) => `{${items.map((item) => `"${item.replace(/["\\]/g, "\\$&")}"`).join(",")}}`;

/**
 * The reference: the same rows, generated and loaded with plain COPY into the
 * same tables (same indexes), ending in the same rows as the pull (checked by
 * sameRows). Rows are generated as they are sent, and sent in large CopyData
 * messages. Customer totals come from a pass over the orders made before the
 * clock starts, as Shopify's export is not timed for the pull either.
 */
async function copyReference(size: StoreSizeName) {
  const databaseUrl = await freshDatabase(`bench_copy_${size.toLowerCase()}`);
  const data = new ShopData(storeSpec(size, { end: STORE_END }));
  const generator = data.generator;
  data.customerStats(0);
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on("error", (error) => log(`copy client: ${error.message}`));
  await client.connect();
  const shop = `bench-${size.toLowerCase()}.myshopify.com`;
  const csv = (values: (string | number | null)[]) =>
    `${values.map((value) => (value === null ? "" : `"${String(value).replaceAll('"', '""')}"`)).join(",")}\n`;
  const chunks = function* (rows: Iterable<string>) {
    let text = "";
    for (const row of rows) {
      text += row;
      if (text.length >= 256 * 1024) {
        yield text;
        text = "";
      }
    }
    if (text) yield text;
  };
  const copy = async (table: string, columns: readonly string[], rows: Iterable<string>) =>
    pipeline(
      Readable.from(chunks(rows)),
      client.query(copyFrom(`COPY "${table}" (${columns.map((c) => `"${c}"`).join(",")}) FROM STDIN (FORMAT csv)`)),
    );
  const started = performance.now();
  await copy(
    "Customer",
    TABLES.Customer.columns,
    (function* () {
      for (const c of generator.customers()) {
        const stats = data.customerStats(c.index);
        yield csv([
          shop,
          gid("Customer", c.id),
          c.id,
          c.firstName,
          c.lastName,
          c.email,
          c.phone,
          pgArray(c.tags),
          c.emailMarketingState,
          c.phone ? smsConsentState(c.smsMarketingState) : null,
          c.locale,
          stats.orders,
          formatCents(stats.spentCents),
          "USD",
          c.defaultAddress.city,
          c.defaultAddress.province,
          c.defaultAddress.countryCode,
          c.defaultAddress.zip,
          c.defaultAddress.address1,
          c.createdAt.toISOString(),
          c.updatedAt.toISOString(),
        ]);
      }
    })(),
  );
  await copy(
    "Product",
    TABLES.Product.columns,
    (function* () {
      for (const p of generator.products())
        yield csv([
          shop,
          gid("Product", p.id),
          p.id,
          p.title,
          p.handle,
          p.description,
          p.productType,
          p.vendor,
          pgArray(p.tags),
          p.status,
          p.imageUrl,
          JSON.stringify(p.options.map(({ name, values }) => ({ name, values }))),
          p.createdAt.toISOString(),
          p.updatedAt.toISOString(),
        ]);
    })(),
  );
  await copy(
    "ProductVariant",
    TABLES.ProductVariant.columns,
    (function* () {
      for (const p of generator.products())
        for (const v of p.variants)
          yield csv([
            shop,
            gid("ProductVariant", v.id),
            gid("Product", p.id),
            v.title,
            v.sku,
            formatCents(v.priceCents),
            v.compareAtPriceCents === null ? null : formatCents(v.compareAtPriceCents),
            JSON.stringify(v.selectedOptions.map(({ name, value }) => ({ name, value }))),
          ]);
    })(),
  );
  await copy(
    "Order",
    TABLES.Order.columns,
    (function* () {
      for (const o of generator.orders()) {
        const address = o.shippingAddress;
        yield csv([
          shop,
          gid("Order", o.id),
          o.id,
          o.name,
          o.customerIndex === null ? null : gid("Customer", generator.customer(o.customerIndex).id),
          o.email,
          o.phone,
          o.currencyCode,
          o.financialStatus,
          pgArray(o.discountCode ? [o.discountCode] : []),
          pgArray(o.tags),
          formatCents(o.subtotalCents),
          formatCents(o.discountCents),
          formatCents(o.shippingCents),
          formatCents(o.taxCents),
          formatCents(o.totalCents),
          formatCents(o.refundedCents),
          formatCents(o.netCents),
          address.city,
          address.countryCode,
          address.zip,
          address.address1,
          [address.firstName, address.lastName].filter(Boolean).join(" ") || null,
          o.processedAt.toISOString(),
          null,
          o.createdAt.toISOString(),
          o.updatedAt.toISOString(),
        ]);
      }
    })(),
  );
  await copy(
    "OrderLineItem",
    TABLES.OrderLineItem.columns,
    (function* () {
      for (const o of generator.orders())
        for (const l of o.lineItems)
          yield csv([
            shop,
            gid("LineItem", l.id),
            gid("Order", o.id),
            gid("Product", l.productId),
            gid("ProductVariant", l.variantId),
            l.title,
            l.variantTitle,
            l.sku,
            l.quantity,
            formatCents(l.unitPriceCents),
            formatCents(l.automaticDiscountCents + l.lineCodeDiscountCents),
            formatCents(l.unitPriceCents * l.quantity - l.automaticDiscountCents - l.lineCodeDiscountCents),
            formatCents(l.netCents),
          ]);
    })(),
  );
  await copy(
    "OrderTransaction",
    TABLES.OrderTransaction.columns,
    (function* () {
      for (const o of generator.orders())
        for (const t of o.transactions)
          yield csv([
            shop,
            gid("OrderTransaction", t.id),
            gid("Order", o.id),
            t.kind,
            t.status,
            t.gateway,
            formatCents(t.amountCents),
            t.processedAt.toISOString(),
          ]);
    })(),
  );
  const seconds = (performance.now() - started) / 1000;
  const records = Number(
    (
      await client.query(
        `SELECT (SELECT count(*) FROM "Customer") + (SELECT count(*) FROM "Product") + (SELECT count(*) FROM "ProductVariant") + (SELECT count(*) FROM "Order") + (SELECT count(*) FROM "OrderLineItem") + (SELECT count(*) FROM "OrderTransaction") AS n`,
      )
    ).rows[0].n,
  );
  await client.end();
  return { records, seconds, databaseUrl };
}

/** Whether two databases hold the same store rows (all but syncedAt), table by table; names those that differ. */
async function sameRows(urlA: string, urlB: string) {
  const digests = async (url: string) => {
    const client = new pg.Client({ connectionString: url });
    client.on("error", (error) => log(`digest client: ${error.message}`));
    await client.connect();
    const out: Record<string, string> = {};
    for (const table of ["Customer", "Product", "ProductVariant", "Order", "OrderLineItem", "OrderTransaction"]) {
      out[table] = (
        await client.query(
          `SELECT count(*) || ':' || coalesce(md5(string_agg(md5((to_jsonb(t) - 'syncedAt')::text), '' ORDER BY "id")), '') AS digest FROM "${table}" t`,
        )
      ).rows[0].digest;
    }
    await client.end();
    return out;
  };
  const [a, b] = await Promise.all([digests(urlA), digests(urlB)]);
  return Object.keys(a).filter((table) => a[table] !== b[table]);
}

try {
  log("paginated pull of the small store's customers and products (restore rate 1000 points/s)…");
  const paginated = await runPull("benchSmall", "paginated", {
    resources: ["customers", "products"],
    restoreRate: 1000,
    bucketSize: 2000,
  });
  log(`bulk pull of the 75k-order store, Shopify preparing ${SHOPIFY_PAGE_MS} ms per 250 records, operations at once…`);
  const small = await runPull("benchSmall", "bulk", { bulkPageDelayMs: SHOPIFY_PAGE_MS });
  log(
    `  ${small.records} rows in ${small.seconds.toFixed(1)} s, ${small.counters.peakBulkOperations} operations at once, worker peak RSS ${small.peakRssMb} MB`,
  );
  log("the same, one operation after another (PULL_BULK_CONCURRENCY=1)…");
  const sequential = await runPull("benchSmall", "bulk", {
    bulkPageDelayMs: SHOPIFY_PAGE_MS,
    env: { PULL_BULK_CONCURRENCY: "1" },
    label: "_sequential",
  });
  log(
    `  ${sequential.records} rows in ${sequential.seconds.toFixed(1)} s, ${sequential.counters.peakBulkOperations} operation at once`,
  );
  if (sequential.records !== small.records) throw new Error("the sequential and parallel pulls differ in rows");
  log("reference: plain COPY of the 300k-order store…");
  const reference = await copyReference("bench");
  log(`  ${reference.records} rows in ${reference.seconds.toFixed(1)} s`);
  log("bulk pull of the 300k-order store through the worker…");
  const large = await runPull("bench", "bulk");
  log(
    `  ${large.records} rows in ${large.seconds.toFixed(1)} s end to end, ${large.importSeconds.toFixed(1)} s importing; worker peak RSS ${large.peakRssMb} MB`,
  );
  // The comparison holds only if both end in the same rows.
  const differing = await sameRows(reference.databaseUrl, large.databaseUrl);
  if (differing.length > 0) throw new Error(`the pull and the COPY reference differ in ${differing.join(", ")}`);
  log("  the pull and the COPY reference hold the same rows");
  const usable = paginated.restoreRate * paginated.seconds;
  const restoreUsed = Math.max(0, paginated.counters.pointsSpent - paginated.bucketSize) / usable;
  log(
    `  ${paginated.records} rows in ${paginated.seconds.toFixed(1)} s, ${paginated.counters.throttled} THROTTLED, ${(restoreUsed * 100).toFixed(1)}% of the restore rate used`,
  );
  // The app's part of a bulk pull: download, parse, check and write (Shopify's export time excluded).
  const recordsPerSecond = large.records / large.importSeconds;
  const copyPerSecond = reference.records / reference.seconds;
  process.stdout.write(
    `${JSON.stringify({
      records: large.records,
      seconds: Math.round(large.seconds * 10) / 10,
      import_seconds: Math.round(large.importSeconds * 10) / 10,
      records_per_s: Math.round(recordsPerSecond),
      copy_records_per_s: Math.round(copyPerSecond),
      ratio_to_copy: Math.round((recordsPerSecond / copyPerSecond) * 100) / 100,
      peak_rss_mb: large.peakRssMb,
      small_peak_rss_mb: small.peakRssMb,
      paginated_throttled: paginated.counters.throttled,
      paginated_restore_rate_used: Math.round(restoreUsed * 100) / 100,
      bulk_parallel: small.counters.peakBulkOperations,
      small_parallel_seconds: Math.round(small.seconds * 10) / 10,
      small_sequential_seconds: Math.round(sequential.seconds * 10) / 10,
      sequential_to_parallel: Math.round((sequential.seconds / small.seconds) * 100) / 100,
    })}\n`,
  );
} finally {
  await server.stop();
}
