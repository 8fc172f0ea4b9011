import { randomBytes } from "node:crypto";
import pg from "pg";
import { createDatabaseIfMissing, ensureDatabase, migrate } from "../../scripts/database";

/**
 * A fresh, migrated database for one test run, so runs never see each
 * other's data. The server is DATABASE_URL when set, else an embedded one
 * kept under .data/postgres-test.
 */
export async function createTestDatabase() {
  const server = await ensureDatabase({
    dataDir: ".data/postgres-test",
    port: Number(process.env.EMBEDDED_POSTGRES_TEST_PORT ?? 54330),
    database: "postgres",
    log: () => {},
  });
  const name = `microsegment_test_${Date.now()}_${randomBytes(3).toString("hex")}`;
  const adminUrl = new URL(server.url);
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  try {
    await createDatabaseIfMissing(adminUrl.toString(), name);
    await migrate(url.toString());
  } catch (error) {
    // A failed setup must not leave its server running: the next run would find the port and folder taken.
    await server.stop();
    throw error;
  }
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl.toString() });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
      await server.stop();
    },
  };
}
