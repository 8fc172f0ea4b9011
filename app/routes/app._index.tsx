import type { LoaderFunctionArgs } from "@remix-run/node";
import { useLoaderData } from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import { Badge, BlockStack, Card, InlineStack, Layout, Page, Text } from "@shopify/polaris";
import { useShopFormat } from "../components/format";
import { latestWorkerHeartbeat } from "../models/health.server";
import { getShop } from "../models/shop.server";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const [shop, heartbeat] = await Promise.all([getShop(session.shop), latestWorkerHeartbeat()]);
  const workerOnline = heartbeat !== null && Date.now() - heartbeat.seenAt.getTime() < 60_000;
  const connection: keyof typeof connectionBadge = shop?.needsReauthAt
    ? "needs-reauth"
    : shop?.uninstalledAt
      ? "uninstalled"
      : "connected";
  return {
    domain: session.shop,
    connection,
    installedAt: shop?.installedAt.toISOString() ?? null,
    grantedScopes: shop?.grantedScopes?.split(",").filter(Boolean) ?? [],
    details: shop?.detailsSyncedAt
      ? {
          name: shop.name,
          planName: shop.planName,
          currencyCode: shop.currencyCode,
          ianaTimezone: shop.ianaTimezone,
          syncedAt: shop.detailsSyncedAt.toISOString(),
        }
      : null,
    workerOnline,
  };
};

const connectionBadge = {
  connected: <Badge tone="success">Connected</Badge>,
  "needs-reauth": <Badge tone="critical">Needs re-authentication</Badge>,
  uninstalled: <Badge tone="warning">Uninstalled</Badge>,
} as const;

function Row({ label, value }: { label: string; value: React.ReactNode }) {
  return (
    <InlineStack align="space-between" blockAlign="center">
      <Text as="span" tone="subdued">
        {label}
      </Text>
      <Text as="span">{value}</Text>
    </InlineStack>
  );
}

export default function Dashboard() {
  const format = useShopFormat();
  const data = useLoaderData<typeof loader>();
  return (
    <Page>
      <TitleBar title="MicroSegment" />
      <Layout>
        <Layout.Section>
          <Card>
            <BlockStack gap="300">
              <InlineStack align="space-between">
                <Text as="h2" variant="headingMd">
                  Shopify connection
                </Text>
                {connectionBadge[data.connection]}
              </InlineStack>
              <Row label="Shop" value={data.domain} />
              <Row
                label="Installed"
                value={format.dateTime(data.installedAt)}
              />
              <Row label="Access scopes" value={`${data.grantedScopes.length} granted`} />
              <Row label="Background worker" value={data.workerOnline ? "Running" : "Not running"} />
            </BlockStack>
          </Card>
        </Layout.Section>
        <Layout.Section variant="oneThird">
          <Card>
            <BlockStack gap="300">
              <Text as="h2" variant="headingMd">
                Store
              </Text>
              {data.details ? (
                <>
                  <Row label="Name" value={data.details.name} />
                  <Row label="Plan" value={data.details.planName ?? "—"} />
                  <Row label="Currency" value={data.details.currencyCode} />
                  <Row label="Time zone" value={data.details.ianaTimezone} />
                </>
              ) : (
                <Text as="p" tone="subdued">
                  Fetching your store details…
                </Text>
              )}
            </BlockStack>
          </Card>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
