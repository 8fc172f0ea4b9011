import { describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import { SHOP_SCOPED_TABLES } from "../../app/models/privacy.server";

describe("privacy registry", () => {
  it("knows every table that holds shop data, so shop/redact misses none", async () => {
    const tables = await prisma.$queryRaw<{ table_name: string }[]>`
      SELECT table_name::text FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'shop'`;
    expect(tables.map((t) => t.table_name).sort()).toEqual([...SHOP_SCOPED_TABLES].sort());
  });
});
