import { ensureDatabase, migrate } from "./database";

/** `npm run migrate`: the release step. Applies every pending migration, then exits. */
const database = await ensureDatabase();
try {
  await migrate(database.url);
  process.stderr.write("Migrations applied\n");
} finally {
  await database.stop();
}
