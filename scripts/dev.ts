import { existsSync } from "node:fs";
import { ensureDatabase, migrate } from "./database";
import { supervise } from "./processes";

/**
 * `npm run dev` (and the command `shopify app dev` runs): database (embedded
 * unless DATABASE_URL is set), migrations, then the app server with Vite and
 * a worker. Ctrl-C stops everything.
 */
if (existsSync(".env")) process.loadEnvFile(".env");

const database = await ensureDatabase();
try {
  await migrate(database.url);
} catch (error) {
  // Stopped here, not left running: the next start would find its port and data folder taken.
  await database.stop();
  throw error;
}

const env = { ...process.env, DATABASE_URL: database.url };
const processes = supervise();
processes.start("app", "server.ts", env);
processes.start("worker", "worker/index.ts", env);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await processes.stopAll();
  await database.stop();
  process.exit(0);
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
void processes.firstExit.then(stop);
