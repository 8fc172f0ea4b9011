import type { HeadersFunction, LoaderFunctionArgs } from "@remix-run/node";
import { Link, Outlet, useLoaderData, useRouteError } from "@remix-run/react";
import { NavMenu } from "@shopify/app-bridge-react";
import { boundary } from "@shopify/shopify-app-remix/server";
import { AppProvider } from "@shopify/shopify-app-remix/react";
import polarisStyles from "@shopify/polaris/build/esm/styles.css?url";
import { DEFAULT_SHOP_FORMAT, type ShopFormat } from "../components/format";
import { loadConfig } from "../config.server";
import { getShop } from "../models/shop.server";
import { authenticate } from "../shopify.server";

export const links = () => [{ rel: "stylesheet", href: polarisStyles }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const config = loadConfig();
  const shop = await getShop(session.shop);
  const shopFormat: ShopFormat = {
    currencyCode: shop?.currencyCode ?? DEFAULT_SHOP_FORMAT.currencyCode,
    timeZone: shop?.ianaTimezone ?? DEFAULT_SHOP_FORMAT.timeZone,
  };
  return {
    shopFormat,
    apiKey: config.SHOPIFY_API_KEY,
    // Development against the simulated store only: its local App Bridge stand-in.
    appBridgeUrl: config.SHOPIFY_SIMULATOR_URL
      ? new URL("/app-bridge.js", config.SHOPIFY_SIMULATOR_URL).href
      : undefined,
  };
};

export default function EmbeddedApp() {
  const { apiKey, appBridgeUrl } = useLoaderData<typeof loader>();
  return (
    <AppProvider isEmbeddedApp apiKey={apiKey} __APP_BRIDGE_URL={appBridgeUrl}>
      <NavMenu>
        <Link to="/app" rel="home">
          Dashboard
        </Link>
        <Link to="/app/segments">Segments</Link>
        <Link to="/app/customers">Customers</Link>
        <Link to="/app/data">Data</Link>
        <Link to="/app/products">Products</Link>
        <Link to="/app/pixel">Pixel</Link>
        <Link to="/app/privacy">Privacy requests</Link>
      </NavMenu>
      <Outlet />
    </AppProvider>
  );
}

// Shopify needs Remix to catch some thrown responses so their headers reach the browser.
export function ErrorBoundary() {
  return boundary.error(useRouteError());
}

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);
