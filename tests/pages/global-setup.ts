import { createSimulator } from "../../simulator/server";
import { TEST_APP } from "../helpers/app-env";
import { freePort, startAppServer, startWorker } from "../helpers/processes";
import { createTestDatabase } from "../setup/test-database";

/** The whole stack for page tests: database, simulated store, app server and a worker. */

export const PAGE_TEST_SHOP = "page-tests.myshopify.com";

export default async function globalSetup() {
  const database = await createTestDatabase();
  const appUrl = `http://127.0.0.1:${await freePort()}`;
  const simulator = createSimulator({
    apiKey: TEST_APP.apiKey,
    apiSecret: TEST_APP.apiSecret,
    scopes: TEST_APP.scopes,
    appUrl,
  });
  simulator.store.addShop({
    domain: PAGE_TEST_SHOP,
    name: "Page Test Provisions",
    currencyCode: "CAD",
    ianaTimezone: "America/Toronto",
  });
  const simulatorUrl = await simulator.listen();
  const env = {
    ...TEST_APP.env,
    NODE_ENV: "production",
    DATABASE_URL: database.url,
    SHOPIFY_APP_URL: appUrl,
    PORT: new URL(appUrl).port,
    SHOPIFY_SIMULATOR_URL: simulatorUrl,
    // The page-test store is tiny: let small groups count as micro-segments.
    SEGMENT_MIN_SIZE: "3",
  };
  const app = await startAppServer(env);
  const worker = await startWorker(env);
  process.env.LOCAL_ADMIN_URL = `${simulatorUrl}/admin/local?shop=${PAGE_TEST_SHOP}`;
  // For specs that check what reached the app (the pixel's events) rather than only what a page shows.
  process.env.PAGE_TEST_APP_URL = appUrl;
  process.env.PAGE_TEST_DATABASE_URL = database.url;

  return async () => {
    await Promise.all([app.stop(), worker.stop()]);
    await simulator.close();
    await database.drop();
  };
}
