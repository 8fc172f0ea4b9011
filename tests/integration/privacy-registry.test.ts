import { describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import { SHOP_SCOPED_TABLES } from "../../app/models/privacy.server";

describe("privacy registry", () => {
  it("knows every table that holds shop data, so shop/redact misses none", async () => {
    // Partitions (PixelEvent's days) are reached through their parent table.
    const tables = await prisma.$queryRaw<{ table_name: string }[]>`
      SELECT table_name::text FROM information_schema.columns col
      JOIN pg_class c ON c.relname = col.table_name AND c.relnamespace = 'public'::regnamespace
      WHERE col.table_schema = 'public' AND col.column_name = 'shop' AND NOT c.relispartition`;
    expect(tables.map((t) => t.table_name).sort()).toEqual([...SHOP_SCOPED_TABLES].sort());
  });
});
