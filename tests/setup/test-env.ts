import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, inject } from "vitest";
import { TEST_APP } from "../helpers/app-env";

/**
 * Every test file gets its own database, copied from the run's migrated one,
 * so files running side by side (and their worker processes) never see each
 * other's jobs or rows. Modules under test read it from DATABASE_URL.
 */
const template = new URL(inject("databaseUrl"));
const admin = new URL(template);
admin.pathname = "/postgres";
const name = `file_${randomBytes(6).toString("hex")}`;

async function adminQuery(sql: string) {
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

await adminQuery(`CREATE DATABASE "${name}" TEMPLATE "${template.pathname.slice(1)}"`);
const url = new URL(template);
url.pathname = `/${name}`;
Object.assign(process.env, TEST_APP.env, { DATABASE_URL: url.toString() });

afterAll(async () => {
  await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
});
