import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { useFetcher, useLoaderData } from "@remix-run/react";
import { Modal, TitleBar, useAppBridge } from "@shopify/app-bridge-react";
import {
  Badge,
  Banner,
  BlockStack,
  Box,
  Button,
  Card,
  DataTable,
  InlineGrid,
  InlineStack,
  Layout,
  Page,
  Text,
} from "@shopify/polaris";
import { useEffect, useRef, useState, type ReactNode } from "react";
import { z } from "zod";
import { useShopFormat, type ShopFormatters } from "../components/format";
import { getPixelConnection, pixelActivity } from "../models/pixel.server";
import { PermanentShopifyError } from "../services/admin-api.server";
import { connectWebPixel, disconnectWebPixel, ingestUrl, updateWebPixel } from "../services/web-pixel.server";
import { authenticate } from "../shopify.server";
import { noQuery, parseQuery } from "../services/request-input.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  parseQuery(request, noQuery);
  const [connection, activity] = await Promise.all([getPixelConnection(session.shop), pixelActivity(session.shop)]);
  return {
    // The account id stays on the server: the page needs only to know that one exists.
    connection: connection && {
      status: connection.status,
      connectedAt: connection.connectedAt.toISOString(),
      disconnectedAt: connection.disconnectedAt?.toISOString() ?? null,
      urlOutdated: connection.ingestUrl !== ingestUrl(),
    },
    since: activity.since.toISOString(),
    perHour: activity.perHour.map((row) => ({ hour: row.hour.toISOString(), events: row.events })),
    totals: activity.totals,
    latest: activity.latest.map((event) => ({
      id: event.eventId,
      name: event.name,
      clientId: event.clientId,
      occurredAt: event.occurredAt.toISOString(),
      detail: describeEvent(event.data as Record<string, unknown> | null, event.url),
    })),
  };
};

function describeEvent(data: Record<string, unknown> | null, url: string | null) {
  if (data?.productTitle) return String(data.productTitle);
  if (data?.query) return `“${String(data.query)}”`;
  if (data?.collectionTitle) return String(data.collectionTitle);
  if (data?.orderId) return String(data.orderId).replace("gid://shopify/", "");
  if (url) {
    try {
      return new URL(url).pathname;
    } catch {
      return "";
    }
  }
  return "";
}

const pixelAction = z.object({ intent: z.enum(["connect", "update", "rotate", "disconnect"]) });

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const parsed = pixelAction.safeParse(Object.fromEntries(await request.formData()));
  if (!parsed.success) return Response.json({ error: "invalid request" }, { status: 400 });
  try {
    switch (parsed.data.intent) {
      case "connect":
        await connectWebPixel(session.shop);
        return { done: "The pixel is connected." };
      case "update":
        await updateWebPixel(session.shop);
        return { done: "The pixel's settings are up to date." };
      case "rotate":
        await updateWebPixel(session.shop, { rotate: true });
        return { done: "The pixel has a new account id; the old one no longer works." };
      case "disconnect":
        await disconnectWebPixel(session.shop);
        return { done: "The pixel is disconnected." };
    }
  } catch (error) {
    if (error instanceof PermanentShopifyError) return Response.json({ error: error.message }, { status: 422 });
    throw error;
  }
};

/** Events per hour over the window, zeros included, as plain SVG bars. */
function HourlyChart({
  since,
  perHour,
  format,
}: {
  since: string;
  perHour: { hour: string; events: number }[];
  format: ShopFormatters;
}) {
  const start = Math.floor(Date.parse(since) / 3_600_000) * 3_600_000;
  const counts = new Map(perHour.map((row) => [Date.parse(row.hour), row.events]));
  const hours = Array.from({ length: 48 }, (_, index) => start + (index + 1) * 3_600_000);
  const max = Math.max(1, ...counts.values());
  const width = 720;
  const height = 140;
  const bar = width / hours.length;
  return (
    <svg viewBox={`0 0 ${width} ${height + 18}`} width="100%" role="img" aria-label="Events per hour, last 48 hours">
      {hours.map((hour, index) => {
        const value = counts.get(hour) ?? 0;
        const barHeight = (value / max) * height;
        return (
          <rect
            key={hour}
            x={index * bar + 1}
            y={height - barHeight}
            width={bar - 2}
            height={barHeight}
            fill="var(--p-color-bg-fill-brand)"
          >
            <title>{`${format.dateTime(new Date(hour).toISOString())}: ${format.count(value)} events`}</title>
          </rect>
        );
      })}
      <text x={0} y={height + 14} fontSize="11" fill="currentColor">
        48 h ago
      </text>
      <text x={width} y={height + 14} fontSize="11" textAnchor="end" fill="currentColor">
        now · peak {format.count(max)}/h
      </text>
    </svg>
  );
}

type Confirmable = "disconnect" | "rotate";

// Shopify Admin renders a modal's content in its own frame, so it is plain markup rather than Polaris layout.
function ConfirmText({ children }: { children: ReactNode }) {
  return <p style={{ margin: 0, padding: "16px", lineHeight: 1.5 }}>{children}</p>;
}

export default function PixelPage() {
  const format = useShopFormat();
  const { connection, since, perHour, totals, latest } = useLoaderData<typeof loader>();
  const fetcher = useFetcher<typeof action>();
  const connected = connection?.status === "connected";
  const submit = (intent: z.infer<typeof pixelAction>["intent"]) => fetcher.submit({ intent }, { method: "post" });
  const busy = fetcher.state !== "idle";
  const result = fetcher.data;
  const shopify = useAppBridge();
  const [confirming, setConfirming] = useState<Confirmable | null>(null);

  // Each answer of the action is confirmed once, in the Admin's toast.
  const toasted = useRef<typeof result>(undefined);
  useEffect(() => {
    if (fetcher.state !== "idle" || !result || toasted.current === result) return;
    toasted.current = result;
    if ("done" in result) shopify.toast.show(result.done);
    else if ("error" in result) shopify.toast.show(String(result.error), { isError: true });
  }, [result, fetcher.state, shopify]);

  const confirm = (intent: Confirmable) => {
    setConfirming(null);
    submit(intent);
  };

  return (
    <Page>
      <TitleBar title="Pixel" />
      <Layout>
        <Layout.Section>
          <Card>
            <BlockStack gap="300">
              <InlineStack align="space-between" blockAlign="center">
                <Text as="h2" variant="headingMd">
                  Storefront pixel
                </Text>
                <Badge tone={connected ? "success" : undefined}>{connected ? "Connected" : "Not connected"}</Badge>
              </InlineStack>
              <Text as="p" tone="subdued">
                The pixel reports what visitors browse, search and add to their carts, for visitors who allow analytics.
                Browsing before a purchase joins the customer&apos;s history once they check out.
              </Text>
              {connection?.urlOutdated && connected ? (
                <Banner tone="warning">The app&apos;s address changed since the pixel was set up: update it.</Banner>
              ) : null}
              {result && "error" in result ? <Banner tone="critical">{String(result.error)}</Banner> : null}
              <InlineStack gap="200">
                {connected ? (
                  <>
                    <Button loading={busy} onClick={() => submit("update")}>
                      Update settings
                    </Button>
                    <Button loading={busy} onClick={() => setConfirming("rotate")}>
                      New account id
                    </Button>
                    <Button tone="critical" loading={busy} onClick={() => setConfirming("disconnect")}>
                      Disconnect
                    </Button>
                  </>
                ) : (
                  <Button variant="primary" loading={busy} onClick={() => submit("connect")}>
                    Connect pixel
                  </Button>
                )}
              </InlineStack>
              {connection ? (
                <Text as="p" tone="subdued" variant="bodySm">
                  {connected
                    ? `Connected ${format.dateTime(connection.connectedAt)}`
                    : `Disconnected ${connection.disconnectedAt ? format.dateTime(connection.disconnectedAt) : ""}`}
                </Text>
              ) : null}
            </BlockStack>
          </Card>
        </Layout.Section>
        <Layout.Section>
          <InlineGrid columns={{ xs: 1, sm: 3 }} gap="400">
            {[
              ["Events, 48 h", totals.events],
              ["Visitors, 48 h", totals.clients],
              ["Visitors identified", totals.identified],
            ].map(([label, value]) => (
              <Card key={label}>
                <BlockStack gap="100">
                  <Text as="h3" variant="headingSm" tone="subdued">
                    {label}
                  </Text>
                  <Text as="p" variant="heading2xl">
                    {format.count(Number(value))}
                  </Text>
                </BlockStack>
              </Card>
            ))}
          </InlineGrid>
        </Layout.Section>
        <Layout.Section>
          <Card>
            <BlockStack gap="200">
              <Text as="h2" variant="headingMd">
                Events per hour
              </Text>
              <Box paddingBlockStart="200">
                <HourlyChart since={since} perHour={perHour} format={format} />
              </Box>
            </BlockStack>
          </Card>
        </Layout.Section>
        <Layout.Section>
          <Card padding="0">
            <DataTable
              columnContentTypes={["text", "text", "text", "text"]}
              headings={["When", "Event", "Visitor", "Detail"]}
              rows={latest.map((event) => [
                format.dateTime(event.occurredAt),
                event.name.replaceAll("_", " "),
                event.clientId.slice(0, 12),
                event.detail,
              ])}
              footerContent={
                latest.length === 0
                  ? "No events yet."
                  : `Latest ${format.count(latest.length)} events · ${format.timeZoneNote()}`
              }
            />
          </Card>
        </Layout.Section>
      </Layout>
      <Modal id="pixel-disconnect" open={confirming === "disconnect"} onHide={() => setConfirming(null)}>
        <ConfirmText>
          The storefront stops sending events at once. Events already collected are kept, and you can connect the pixel
          again later.
        </ConfirmText>
        <TitleBar title="Disconnect the pixel?">
          <button variant="primary" tone="critical" onClick={() => confirm("disconnect")}>
            Disconnect
          </button>
          <button onClick={() => setConfirming(null)}>Cancel</button>
        </TitleBar>
      </Modal>
      <Modal id="pixel-rotate" open={confirming === "rotate"} onHide={() => setConfirming(null)}>
        <ConfirmText>
          The pixel gets a new account id and the current one stops working. Visitors&apos; browsers pick up the new
          settings on their next page view; events sent with the old id in between are refused.
        </ConfirmText>
        <TitleBar title="Give the pixel a new account id?">
          <button variant="primary" onClick={() => confirm("rotate")}>
            New account id
          </button>
          <button onClick={() => setConfirming(null)}>Cancel</button>
        </TitleBar>
      </Modal>
    </Page>
  );
}
