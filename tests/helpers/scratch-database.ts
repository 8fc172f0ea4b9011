import { randomBytes } from "node:crypto";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@prisma/client";
import pg from "pg";
import { inject } from "vitest";
import { createDatabaseIfMissing, migrate } from "../../scripts/database";

/** A separate migrated database on the test server, for tests that touch every row. */
export async function createScratchDatabase() {
  const base = new URL(inject("databaseUrl"));
  const name = `scratch_${randomBytes(5).toString("hex")}`;
  const admin = new URL(base);
  admin.pathname = "/postgres";
  await createDatabaseIfMissing(admin.toString(), name);
  const url = new URL(base);
  url.pathname = `/${name}`;
  await migrate(url.toString());
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url.toString() }) });
  return {
    url: url.toString(),
    prisma,
    async drop() {
      await prisma.$disconnect();
      const client = new pg.Client({ connectionString: admin.toString() });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}
