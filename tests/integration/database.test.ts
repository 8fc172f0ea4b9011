import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { ensureDatabase } from "../../scripts/database";
import { freePort } from "../helpers/processes";

async function selectOne(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query("SELECT current_database() AS name, version() AS version");
    return rows[0] as { name: string; version: string };
  } finally {
    await client.end();
  }
}

const savedUrl = process.env.DATABASE_URL;
afterEach(() => {
  process.env.DATABASE_URL = savedUrl;
});

describe("zero-setup database", () => {
  it("uses DATABASE_URL when it is set and embeds nothing", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "ms-pg-unused-"));
    await rm(dataDir, { recursive: true });
    process.env.DATABASE_URL = savedUrl;
    const database = await ensureDatabase({ dataDir, port: await freePort(), log: () => {} });
    expect(database.embedded).toBe(false);
    expect(database.url).toBe(process.env.DATABASE_URL!);
    expect(existsSync(dataDir)).toBe(false);
    expect((await selectOne(database.url)).name).toBe(new URL(process.env.DATABASE_URL!).pathname.slice(1));
  });

  it("starts an embedded PostgreSQL with its data in the given folder when DATABASE_URL is unset", async () => {
    delete process.env.DATABASE_URL;
    // Under the project, not /tmp: as root, Postgres runs as its own user and must reach the folder.
    const dataDir = path.resolve(`.data/test-embedded-${process.pid}-${Date.now()}`);
    const port = await freePort();
    const database = await ensureDatabase({ dataDir, port, database: "zero_setup", log: () => {} });
    try {
      expect(database.embedded).toBe(true);
      expect(database.url).toContain(`:${port}/zero_setup`);
      expect(existsSync(path.join(dataDir, "PG_VERSION"))).toBe(true);
      const server = await selectOne(database.url);
      expect(server.name).toBe("zero_setup");
      expect(server.version).toMatch(/^PostgreSQL \d+/);
    } finally {
      await database.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
