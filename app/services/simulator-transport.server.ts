import { setAbstractFetchFunc } from "@shopify/shopify-api/runtime";
import { logger } from "../logger.server";

/**
 * Points Shopify-bound requests of @shopify/shopify-api at the simulated
 * store. Only the transport changes: the library still builds the real
 * https://<shop>.myshopify.com URLs and validates shop domains as usual.
 * Imported only when SHOPIFY_SIMULATOR_URL is set.
 */
export const SIMULATED_SHOP_HEADER = "x-simulated-shop";

export function simulatorUrlFor(target: URL, simulatorUrl: string): URL | undefined {
  if (!target.hostname.endsWith(".myshopify.com")) return undefined;
  const redirected = new URL(target.pathname + target.search, simulatorUrl);
  return redirected;
}

export function useSimulatorTransport(simulatorUrl: string) {
  const realFetch = globalThis.fetch;
  const simulatedFetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const target = new URL(request.url);
    const redirected = simulatorUrlFor(target, simulatorUrl);
    if (!redirected) return realFetch(request);
    const headers = new Headers(request.headers);
    headers.set(SIMULATED_SHOP_HEADER, target.hostname);
    const body = request.body ? await request.arrayBuffer() : undefined;
    return realFetch(redirected, { method: request.method, headers, body, signal: request.signal });
  };
  setAbstractFetchFunc(simulatedFetch);
  logger.warn({ simulatorUrl }, "Shopify transport redirected to the simulated store (development only)");
  return {
    /**
     * The simulator's local Admin frames the app, as admin.shopify.com does,
     * and serves the App Bridge stand-in instead of the CDN script.
     */
    adaptDocumentHeaders(headers: Headers) {
      headers.delete("Link");
      const policy = headers.get("Content-Security-Policy");
      const origin = new URL(simulatorUrl).origin;
      if (policy?.includes("frame-ancestors")) {
        headers.set("Content-Security-Policy", policy.replace("frame-ancestors", `frame-ancestors ${origin}`));
      }
    },
  };
}
