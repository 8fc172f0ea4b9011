import type { ReactNode } from "react";
import { Links, Meta, Outlet, Scripts, ScrollRestoration, useRouteError } from "@remix-run/react";
import { boundary } from "@shopify/shopify-app-remix/server";
import { errorKind, isShopifyResponse, PlainErrorPage } from "./components/error-page";

export function Layout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width,initial-scale=1" />
        <link rel="preconnect" href="https://cdn.shopify.com/" />
        <Meta />
        <Links />
      </head>
      <body>
        {children}
        <ScrollRestoration />
        <Scripts />
      </body>
    </html>
  );
}

export default function App() {
  return <Outlet />;
}

// The last resort for every route without its own boundary (the app's pages have one in routes/app.tsx):
// never Remix's "Application Error" with a stack trace.
export function ErrorBoundary() {
  const error = useRouteError();
  // /auth/* answers with App Bridge pages that shopify-app-remix throws as responses.
  if (isShopifyResponse(error)) return boundary.error(error);
  return <PlainErrorPage kind={errorKind(error)} />;
}
