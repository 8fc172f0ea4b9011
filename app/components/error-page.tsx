import { isRouteErrorResponse, useRouteError } from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import { boundary } from "@shopify/shopify-app-remix/server";
import { BlockStack, Box, Button, Card, InlineStack, Layout, Page, Text } from "@shopify/polaris";

/**
 * What a merchant sees when a page cannot be shown: a plain explanation and a
 * way back, never the error's message or stack (those go to the server log,
 * through entry.server's handleError).
 */

export type ErrorKind = "not-found" | "invalid" | "unexpected";

export const ERROR_COPY: Record<ErrorKind, { title: string; message: string }> = {
  "not-found": {
    title: "Page not found",
    message:
      "This page does not exist or is no longer available. The link may be mistyped, or what it showed was removed.",
  },
  invalid: {
    title: "This link is not valid",
    message: "The address of this page is incomplete or malformed, so there is nothing to show.",
  },
  unexpected: {
    title: "Something went wrong",
    message: "The app could not show this page. Try again in a moment; your data is safe.",
  },
};

/** How an error caught by a boundary is explained: thrown 404 and 400 Responses name themselves, the rest is ours. */
export function errorKind(error: unknown): ErrorKind {
  if (isRouteErrorResponse(error)) {
    if (error.status === 404) return "not-found";
    if (error.status === 400) return "invalid";
  }
  return "unexpected";
}

/**
 * Responses that shopify-app-remix throws from `authenticate.admin` for the
 * browser to act on, which its `boundary.error` must render as they are: the
 * App Bridge pages (200, HTML that reloads or leaves the iframe), 401 asking for
 * a new session token, and 410 for bots.
 */
export function isShopifyResponse(error: unknown) {
  return (
    isRouteErrorResponse(error) &&
    ((error.status >= 200 && error.status < 300) || error.status === 401 || error.status === 410)
  );
}

interface ErrorPageProps {
  kind: ErrorKind;
  /** Overrides the standard explanation, e.g. "This segment no longer exists." */
  message?: string;
  backUrl?: string;
  backLabel?: string;
}

/** The error page inside the app frame (Polaris, with the title bar set), linking back to the Dashboard. */
export function AppErrorPage({ kind, message, backUrl = "/app", backLabel = "Go to the Dashboard" }: ErrorPageProps) {
  const copy = ERROR_COPY[kind];
  return (
    <Page narrowWidth>
      <TitleBar title={copy.title} />
      <Layout>
        <Layout.Section>
          <Card>
            <Box paddingBlock="400">
              <BlockStack gap="400" inlineAlign="center">
                <Text as="h1" variant="headingLg" alignment="center">
                  {copy.title}
                </Text>
                <Text as="p" tone="subdued" alignment="center">
                  {message ?? copy.message}
                </Text>
                <InlineStack align="center">
                  <Button variant="primary" url={backUrl}>
                    {backLabel}
                  </Button>
                </InlineStack>
              </BlockStack>
            </Box>
          </Card>
        </Layout.Section>
      </Layout>
    </Page>
  );
}

/**
 * An ErrorBoundary for a page under /app, so that a missing or malformed id
 * (the loader throws `new Response(null, { status: 404 })`) shows a page inside
 * the app with its menu intact:
 *
 *   export { AppRouteErrorBoundary as ErrorBoundary } from "../components/error-page";
 */
export function AppRouteErrorBoundary() {
  const error = useRouteError();
  if (isShopifyResponse(error)) return boundary.error(error);
  return <AppErrorPage kind={errorKind(error)} />;
}

/** The error page outside the app frame (no Polaris styles there): plain HTML with its own small style. */
export function PlainErrorPage({ kind, backUrl = "/", backLabel = "Go to MicroSegment" }: ErrorPageProps) {
  const copy = ERROR_COPY[kind];
  return (
    <main className="plain-error">
      {/* Raw, not a text child: React escapes the quotes of a text child, which CSS does not decode. */}
      <style dangerouslySetInnerHTML={{ __html: PLAIN_STYLE }} />
      <div className="plain-error-card">
        <p className="plain-error-app">MicroSegment</p>
        <h1>{copy.title}</h1>
        <p>{copy.message}</p>
        <a href={backUrl}>{backLabel}</a>
      </div>
    </main>
  );
}

const PLAIN_STYLE = `
  body { margin: 0; background: #f1f1f1; }
  .plain-error { font-family: -apple-system, BlinkMacSystemFont, "San Francisco", "Segoe UI", Roboto, sans-serif;
    color: #303030; min-height: 100vh; display: flex; align-items: center; justify-content: center; padding: 16px;
    box-sizing: border-box; }
  .plain-error-card { background: #fff; border-radius: 12px; box-shadow: 0 1px 3px rgba(0,0,0,.15); padding: 32px;
    max-width: 480px; width: 100%; box-sizing: border-box; text-align: center; line-height: 1.5; }
  .plain-error-app { margin: 0 0 8px; font-size: 13px; font-weight: 600; color: #616161; }
  .plain-error h1 { margin: 0 0 8px; font-size: 20px; }
  .plain-error p { margin: 0 0 20px; }
  .plain-error a { display: inline-block; background: #303030; color: #fff; text-decoration: none; font-weight: 600;
    padding: 8px 16px; border-radius: 8px; }
`;
