import "@shopify/shopify-api/adapters/node";
import { ApiVersion, shopifyApi } from "@shopify/shopify-api";
import { SIMULATED_API_VERSION } from "./admin-schema";
import { createSimulator, type SimulatorOptions } from "./server";

/** Shopify's own library, configured as an app of the test simulator, to check what the simulator produces. */
export const shopifyLibrary = () =>
  shopifyApi({
    apiKey: "sim-key",
    apiSecretKey: "sim-secret",
    scopes: ["read_customers"],
    hostName: "app.example.test",
    apiVersion: SIMULATED_API_VERSION as ApiVersion,
    isEmbeddedApp: true,
    logger: { level: 0 },
  });

/** A simulator on a free port with one shop and an offline token, for the simulator's own tests. */
export async function startTestSimulator(overrides: Partial<SimulatorOptions> & { size?: string } = {}) {
  const { size, ...options } = overrides;
  const simulator = createSimulator({
    apiKey: "sim-key",
    apiSecret: "sim-secret",
    scopes: "read_customers,write_customers",
    ...options,
  });
  const shop = `sim-${Math.random().toString(36).slice(2, 8)}.myshopify.com`;
  simulator.store.addShop({ domain: shop, size: size ?? "tiny", storeEnd: "2026-11-01T00:00:00.000Z" });
  const url = await simulator.listen();
  const token = simulator.store.issueToken("offline", shop, "read_customers,write_customers", null).token;
  async function graphql(query: string, variables?: Record<string, unknown>, accessToken = token) {
    const response = await fetch(`${url}/admin/api/${SIMULATED_API_VERSION}/graphql.json`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-simulated-shop": shop, "x-shopify-access-token": accessToken },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, body: (await response.json()) as any };
  }
  return { simulator, shop, url, token, graphql };
}
