import { inject } from "vitest";
import { TEST_APP } from "../helpers/app-env";

// Every module under test reads settings from process.env through loadConfig().
Object.assign(process.env, TEST_APP.env, { DATABASE_URL: inject("databaseUrl") });
