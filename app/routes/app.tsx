import type { HeadersFunction, LoaderFunctionArgs } from "@remix-run/node";
import type { ReactNode } from "react";
import { Link, Outlet, useRouteError, useRouteLoaderData } from "@remix-run/react";
import { NavMenu } from "@shopify/app-bridge-react";
import { boundary } from "@shopify/shopify-app-remix/server";
import { AppProvider } from "@shopify/shopify-app-remix/react";
import polarisStyles from "@shopify/polaris/build/esm/styles.css?url";
import { AppErrorPage, errorKind, isShopifyResponse } from "../components/error-page";
import { DEFAULT_SHOP_FORMAT, type ShopFormat } from "../components/format";
import { loadConfig } from "../config.server";
import { getShop } from "../models/shop.server";
import { authenticate } from "../shopify.server";
import { noQuery, parseQuery } from "../services/request-input.server";

export const links = () => [{ rel: "stylesheet", href: polarisStyles }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  parseQuery(request, noQuery);
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

/** App Bridge, Polaris and the menu around a page; also around the error page, when this layout's loader ran. */
function AppFrame({ children }: { children: ReactNode }) {
  const layout = useRouteLoaderData<typeof loader>("routes/app");
  if (!layout) {
    return (
      <AppProvider isEmbeddedApp={false} apiKey="">
        {children}
      </AppProvider>
    );
  }
  const { apiKey, appBridgeUrl } = layout;
  return (
    <AppProvider isEmbeddedApp apiKey={apiKey} __APP_BRIDGE_URL={appBridgeUrl}>
      <NavMenu>
        <Link to="/app" rel="home">
          Dashboard
        </Link>
        <Link to="/app/segments">Segments</Link>
        <Link to="/app/predictions">Predictions</Link>
        <Link to="/app/customers">Customers</Link>
        <Link to="/app/data">Data</Link>
        <Link to="/app/products">Products</Link>
        <Link to="/app/pixel">Pixel</Link>
        <Link to="/app/privacy">Privacy requests</Link>
      </NavMenu>
      {children}
    </AppProvider>
  );
}

export default function EmbeddedApp() {
  return (
    <AppFrame>
      <Outlet />
    </AppFrame>
  );
}

// Shopify needs Remix to catch some thrown responses so their headers reach the browser; anything else
// (a page's loader failing, a render error) gets the app's own page, never a stack trace.
export function ErrorBoundary() {
  const error = useRouteError();
  if (isShopifyResponse(error)) return boundary.error(error);
  return (
    <AppFrame>
      <AppErrorPage kind={errorKind(error)} />
    </AppFrame>
  );
}

export const headers: HeadersFunction = (headersArgs) => boundary.headers(headersArgs);
