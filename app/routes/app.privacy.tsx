import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { useFetcher, useLoaderData } from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import { Badge, BlockStack, Button, Card, DataTable, EmptyState, Layout, Page, Text } from "@shopify/polaris";
import { z } from "zod";
import { useShopFormat } from "../components/format";
import { recentDataRequests, redactionCount } from "../models/privacy.server";
import { failedDeliveries, retryDelivery } from "../models/webhook-deliveries.server";
import { authenticate } from "../shopify.server";
import { noQuery, parseQuery } from "../services/request-input.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  parseQuery(request, noQuery);
  const [requests, failed, redactions] = await Promise.all([
    recentDataRequests(session.shop),
    failedDeliveries(session.shop),
    redactionCount(session.shop),
  ]);
  return {
    requests: requests.map((r) => ({
      ...r,
      requestedAt: r.requestedAt.toISOString(),
      completedAt: r.completedAt?.toISOString() ?? null,
    })),
    failed: failed.map((f) => ({ ...f, receivedAt: f.receivedAt.toISOString() })),
    redactions,
  };
};

const retry = z.object({ deliveryId: z.uuid() });

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const parsed = retry.safeParse(Object.fromEntries(await request.formData()));
  if (!parsed.success) return Response.json({ error: "invalid request" }, { status: 400 });
  return { retried: await retryDelivery(session.shop, parsed.data.deliveryId) };
};

/** Fetched (App Bridge adds the session token to same-origin fetches), then saved from a blob. */
async function downloadExport(id: string) {
  const response = await fetch(`/app/privacy/${id}/export`);
  if (!response.ok) return;
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: `customer-data-${id}.json` });
  link.click();
  URL.revokeObjectURL(url);
}

export default function PrivacyPage() {
  const format = useShopFormat();
  const { requests, failed, redactions } = useLoaderData<typeof loader>();
  const fetcher = useFetcher<typeof action>();
  return (
    <Page>
      <TitleBar title="Privacy requests" />
      <Layout>
        <Layout.Section>
          <Card padding="0">
            {requests.length === 0 ? (
              <EmptyState heading="No customer data requests" image="">
                <p>When a customer asks for their data, Shopify tells the app and the export appears here.</p>
              </EmptyState>
            ) : (
              <DataTable
                columnContentTypes={["text", "text", "text", "text"]}
                headings={["Requested", "Customer", "Status", "Export"]}
                rows={requests.map((r) => [
                  format.dateTime(r.requestedAt),
                  r.customerId?.split("/").pop() ?? "—",
                  <Badge
                    key={r.id}
                    tone={r.status === "ready" ? "success" : r.status === "expired" ? undefined : "attention"}
                  >
                    {r.status}
                  </Badge>,
                  r.status === "ready" ? (
                    <Button key={`d-${r.id}`} variant="plain" onClick={() => downloadExport(r.id)}>
                      Download JSON
                    </Button>
                  ) : (
                    "—"
                  ),
                ])}
                footerContent={format.timeZoneNote()}
              />
            )}
          </Card>
        </Layout.Section>
        <Layout.Section variant="oneThird">
          <BlockStack gap="400">
            <Card>
              <BlockStack gap="200">
                <Text as="h2" variant="headingMd">
                  Erasures
                </Text>
                <Text as="p">
                  {format.count(redactions)} customer redaction{redactions === 1 ? "" : "s"} carried out. Orders are
                  kept for statistics without any personal field.
                </Text>
              </BlockStack>
            </Card>
            <Card>
              <BlockStack gap="200">
                <Text as="h2" variant="headingMd">
                  Webhooks that failed
                </Text>
                {failed.length === 0 ? (
                  <Text as="p" tone="subdued">
                    None.
                  </Text>
                ) : (
                  failed.map((delivery) => (
                    <BlockStack key={delivery.id} gap="100">
                      <Text as="p" fontWeight="semibold" breakWord>
                        {delivery.topic} · {format.dateTime(delivery.receivedAt)}
                      </Text>
                      <Text as="p" tone="critical" breakWord>
                        {delivery.lastError} ({format.count(delivery.attempts)} attempts)
                      </Text>
                      <Button onClick={() => fetcher.submit({ deliveryId: delivery.id }, { method: "post" })}>
                        Retry
                      </Button>
                    </BlockStack>
                  ))
                )}
              </BlockStack>
            </Card>
          </BlockStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
