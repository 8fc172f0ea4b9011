import type { LinksFunction, LoaderFunctionArgs } from "@remix-run/node";
import { Link, useFetcher, useLoaderData, useRevalidator, useSearchParams } from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import {
  Badge,
  Banner,
  BlockStack,
  Box,
  Card,
  EmptyState,
  InlineGrid,
  InlineStack,
  Layout,
  Page,
  ProgressBar,
  Select,
  Text,
} from "@shopify/polaris";
import { BarChart, LineChart, PolarisVizProvider } from "@shopify/polaris-viz";
import polarisVizStyles from "@shopify/polaris-viz/build/esm/styles.css?url";
import { useEffect, type ReactNode } from "react";
import { ChartBox } from "../components/chart-box";
import { useShopFormat, type ShopFormatters } from "../components/format";
import {
  dashboardKpis,
  dashboardPeriodParam,
  DASHBOARD_PERIODS,
  hasStoreData,
  predictedRevenue90,
  rfmSegmentSummaries,
  safeTimeZone,
  salesOverTime,
  suggestNextActions,
  type NextAction,
  type PeriodFigures,
} from "../models/dashboard.server";
import { latestWorkerHeartbeat } from "../models/health.server";
import { recentPulls } from "../models/pulls.server";
import { largestMovements } from "../models/segment-movements.server";
import { getShop } from "../models/shop.server";
import { authenticate } from "../shopify.server";
import { parseQuery } from "../services/request-input.server";
import { z } from "zod";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: polarisVizStyles }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const { period: days } = parseQuery(request, z.object({ period: dashboardPeriodParam }));
  const shop = await getShop(session.shop);
  const timeZone = safeTimeZone(shop?.ianaTimezone);
  const [kpis, sales, segments, predicted, hasData, pulls, heartbeat, movements] = await Promise.all([
    dashboardKpis(session.shop, { days, timeZone }),
    salesOverTime(session.shop, { days, timeZone }),
    rfmSegmentSummaries(session.shop),
    predictedRevenue90(session.shop),
    hasStoreData(session.shop),
    recentPulls(session.shop, 1),
    latestWorkerHeartbeat(),
    largestMovements(session.shop, 5),
  ]);
  const latestPull = pulls[0];
  const connection: keyof typeof connectionBadge = shop?.needsReauthAt
    ? "needs-reauth"
    : shop?.uninstalledAt
      ? "uninstalled"
      : "connected";
  return {
    days,
    periods: DASHBOARD_PERIODS,
    kpis,
    sales,
    segments,
    nextActions: suggestNextActions(segments),
    movements,
    predicted,
    hasData,
    pull: latestPull
      ? {
          id: latestPull.id,
          kind: latestPull.kind,
          status: latestPull.status,
          error: latestPull.error,
          requestedAt: latestPull.requestedAt.toISOString(),
          steps: latestPull.steps.map((step) => ({
            resource: step.resource,
            status: step.status,
            processed: step.processed,
            total: step.total,
          })),
        }
      : null,
    store: {
      domain: session.shop,
      connection,
      installedAt: shop?.installedAt.toISOString() ?? null,
      grantedScopes: shop?.grantedScopes?.split(",").filter(Boolean).length ?? 0,
      name: shop?.detailsSyncedAt ? shop.name : null,
      planName: shop?.detailsSyncedAt ? shop.planName : null,
      currencyCode: shop?.detailsSyncedAt ? shop.currencyCode : null,
      ianaTimezone: shop?.detailsSyncedAt ? shop.ianaTimezone : null,
      workerOnline: heartbeat !== null && Date.now() - heartbeat.seenAt.getTime() < 60_000,
    },
  };
};

type DashboardData = ReturnType<typeof useLoaderData<typeof loader>>;

const connectionBadge = {
  connected: <Badge tone="success">Connected</Badge>,
  "needs-reauth": <Badge tone="critical">Needs re-authentication</Badge>,
  uninstalled: <Badge tone="warning">Uninstalled</Badge>,
} as const;

const isActive = (status: string) => status === "queued" || status === "running";

function Row({ label, value }: { label: string; value: ReactNode }) {
  return (
    <InlineStack align="space-between" blockAlign="center" gap="200" wrap={false}>
      <Text as="span" tone="subdued">
        {label}
      </Text>
      <Text as="span" alignment="end" breakWord>
        {value}
      </Text>
    </InlineStack>
  );
}

/** Change against the previous period: relative for amounts, in points for a rate. */
function Change({
  current,
  previous,
  points,
  days,
}: {
  current: number | null;
  previous: number | null;
  points?: boolean;
  days: number;
}) {
  const format = useShopFormat();
  if (current === null || previous === null) {
    return (
      <Text as="p" variant="bodySm" tone="subdued">
        No figure for the previous {days} days
      </Text>
    );
  }
  let text: string;
  let delta: number;
  if (points) {
    delta = (current - previous) * 100;
    text = `${delta > 0 ? "+" : ""}${format.number(delta, 1)} pts`;
  } else if (previous === 0) {
    if (current > 0) {
      return (
        <Text as="p" variant="bodySm" tone="success">
          None in the previous {days} days
        </Text>
      );
    }
    delta = 0;
    text = format.change(0);
  } else {
    delta = (current - previous) / previous;
    text = format.change(delta);
  }
  const tone = delta > 0 ? "success" : delta < 0 ? "critical" : "subdued";
  return (
    <Text as="p" variant="bodySm" tone={tone}>
      {text} vs previous {days} days
    </Text>
  );
}

function Tile({ label, value, children }: { label: string; value: string; children?: ReactNode }) {
  return (
    <Card>
      <BlockStack gap="100">
        <Text as="h3" variant="headingSm" tone="subdued">
          {label}
        </Text>
        <Text as="p" variant="headingLg" breakWord>
          {value}
        </Text>
        {children}
      </BlockStack>
    </Card>
  );
}

function KpiTiles({ data }: { data: DashboardData }) {
  const format = useShopFormat();
  const { current, previous } = data.kpis;
  const days = data.days;
  const money = (figures: PeriodFigures, key: "revenue" | "averageOrderValue") =>
    figures[key] === null ? null : Number(figures[key]);
  return (
    <InlineGrid columns={{ xs: 1, sm: 2, md: 4 }} gap="300">
      <Tile label="Revenue" value={format.money(current.revenue)}>
        <Change current={money(current, "revenue")} previous={money(previous, "revenue")} days={days} />
      </Tile>
      <Tile label="Orders" value={format.count(current.orders)}>
        <Change current={current.orders} previous={previous.orders} days={days} />
      </Tile>
      <Tile label="Average order value" value={format.money(current.averageOrderValue)}>
        <Change
          current={money(current, "averageOrderValue")}
          previous={money(previous, "averageOrderValue")}
          days={days}
        />
      </Tile>
      <Tile label="Customers who ordered" value={format.count(current.customers)}>
        <Change current={current.customers} previous={previous.customers} days={days} />
      </Tile>
      <Tile label="New customers" value={format.count(current.newCustomers)}>
        <Change current={current.newCustomers} previous={previous.newCustomers} days={days} />
      </Tile>
      <Tile label="Returning-customer rate" value={format.percent(current.returningRate)}>
        <Change current={current.returningRate} previous={previous.returningRate} points days={days} />
      </Tile>
      {data.predicted.shown ? (
        <Tile label="Predicted revenue, next 90 days" value={format.money(data.predicted.revenue)}>
          <Text as="p" variant="bodySm" tone="subdued">
            From {format.count(data.predicted.customers)} customers
            {data.predicted.asOf ? `, as of ${format.date(data.predicted.asOf)}` : ""}
          </Text>
        </Tile>
      ) : (
        <Tile label="Predicted revenue, next 90 days" value="—">
          <Text as="p" variant="bodySm" tone="subdued">
            {data.predicted.reason}
          </Text>
        </Tile>
      )}
    </InlineGrid>
  );
}

function SalesCharts({ data }: { data: DashboardData }) {
  const format = useShopFormat();
  const { unit, buckets } = data.sales;
  const label = (start: string) => (unit === "week" ? `Week of ${format.date(start)}` : format.date(start));
  const keys = buckets.map((bucket) => label(bucket.start));
  const asLabel = (value: string | number | null) => String(value ?? "");
  const revenue = [
    { name: "Revenue", data: buckets.map((bucket, i) => ({ key: keys[i]!, value: Number(bucket.revenue) })) },
  ];
  const orders = [{ name: "Orders", data: buckets.map((bucket, i) => ({ key: keys[i]!, value: bucket.orders })) }];
  return (
    <InlineGrid columns={{ xs: 1, md: 2 }} gap="300">
      <Card>
        <BlockStack gap="200">
          <Text as="h2" variant="headingMd">
            Revenue by {unit}
          </Text>
          <ChartBox height={260} label="Revenue over time">
            <LineChart
              data={revenue}
              showLegend={false}
              isAnimated={false}
              xAxisOptions={{ labelFormatter: asLabel }}
              yAxisOptions={{ labelFormatter: (value) => format.compactMoney(Number(value ?? 0)) }}
              tooltipOptions={{ valueFormatter: (value) => format.money(Number(value ?? 0)) }}
            />
          </ChartBox>
        </BlockStack>
      </Card>
      <Card>
        <BlockStack gap="200">
          <Text as="h2" variant="headingMd">
            Orders by {unit}
          </Text>
          <ChartBox height={260} label="Orders over time">
            <BarChart
              data={orders}
              showLegend={false}
              isAnimated={false}
              xAxisOptions={{ labelFormatter: asLabel }}
              yAxisOptions={{ integersOnly: true, labelFormatter: (value) => format.count(Number(value ?? 0)) }}
              tooltipOptions={{ valueFormatter: (value) => format.count(Number(value ?? 0)) }}
            />
          </ChartBox>
        </BlockStack>
      </Card>
    </InlineGrid>
  );
}

function SegmentChart({ data }: { data: DashboardData }) {
  const format = useShopFormat();
  const total = data.segments.reduce((sum, segment) => sum + segment.customers, 0);
  return (
    <Card>
      <BlockStack gap="200">
        <InlineStack align="space-between" blockAlign="center">
          <Text as="h2" variant="headingMd">
            Customers by RFM segment
          </Text>
          <Link to="/app/segments">All segments</Link>
        </InlineStack>
        {data.segments.length === 0 ? (
          <Text as="p" tone="subdued">
            Segments appear after the first segmentation run, which starts by itself when a pull finishes.
          </Text>
        ) : (
          <>
            <Text as="p" tone="subdued">
              {format.count(total)} customers scored by recency, frequency and spend.
            </Text>
            <ChartBox height={340} label="Customers by RFM segment">
              <BarChart
                direction="horizontal"
                showLegend={false}
                isAnimated={false}
                data={[
                  {
                    name: "Customers",
                    data: [...data.segments]
                      .sort((x, y) => y.customers - x.customers)
                      .map((segment) => ({ key: segment.name, value: segment.customers })),
                  },
                ]}
                // Ticks fall between whole customers on a small shop: label only the whole ones.
                xAxisOptions={{
                  labelFormatter: (value) => (Number.isInteger(Number(value)) ? format.count(Number(value)) : ""),
                }}
                tooltipOptions={{ valueFormatter: (value) => format.count(Number(value ?? 0)) }}
              />
            </ChartBox>
          </>
        )}
      </BlockStack>
    </Card>
  );
}

function actionTitle(action: NextAction, format: ShopFormatters) {
  const who = `${format.count(action.customers)} “${action.segmentName}” customers`;
  switch (action.kind) {
    case "win-back-top":
    case "win-back":
      return `Win back ${who} worth ${format.money(action.revenue)}`;
    case "reward":
      return `Reward ${who}, who bring ${format.percent(action.revenueShare)} of revenue`;
    case "re-engage":
      return `Re-engage ${who} before they lapse`;
    case "second-order":
      return `Turn ${who} into repeat buyers`;
    case "nurture":
      return `Grow ${who} into loyal ones`;
  }
}

function NextActions({ data }: { data: DashboardData }) {
  const format = useShopFormat();
  return (
    <Card>
      <BlockStack gap="300">
        <Text as="h2" variant="headingMd">
          Suggested next actions
        </Text>
        {data.nextActions.length === 0 ? (
          <Text as="p" tone="subdued">
            Suggestions come from your segments; they appear after the first segmentation run.
          </Text>
        ) : (
          <BlockStack gap="300" as="ul">
            {data.nextActions.map((action) => (
              <li key={action.segmentId} style={{ listStyle: "none" }} data-next-action={action.kind}>
                <BlockStack gap="050">
                  <Link to={`/app/segments/${action.segmentId}`}>
                    <Text as="span" variant="bodyMd" fontWeight="semibold" breakWord>
                      {actionTitle(action, format)}
                    </Text>
                  </Link>
                  <Text as="p" variant="bodySm" tone="subdued" breakWord>
                    {action.detail}
                  </Text>
                </BlockStack>
              </li>
            ))}
          </BlockStack>
        )}
      </BlockStack>
    </Card>
  );
}

/** The largest movements between RFM segments from the previous run to the last one. */
function Movements({ data }: { data: DashboardData }) {
  const format = useShopFormat();
  const segmentName = (ref: DashboardData["movements"][number]["from"]) =>
    ref.segmentId ? <Link to={`/app/segments/${ref.segmentId}`}>{ref.name}</Link> : ref.name;
  return (
    <Card>
      <BlockStack gap="300">
        <InlineStack align="space-between" blockAlign="center" gap="200">
          <Text as="h2" variant="headingMd">
            What changed since the last run
          </Text>
          <Link to="/app/segments?kind=rfm">All movements</Link>
        </InlineStack>
        {data.movements.length === 0 ? (
          <Text as="p" tone="subdued">
            Movements between segments appear once your customers have been segmented twice (after the next pull, or
            when you run segmentation again) and some of them changed segment.
          </Text>
        ) : (
          <BlockStack gap="200" as="ul">
            {data.movements.map((movement) => (
              <li key={`${movement.from.key}-${movement.to.key}`} style={{ listStyle: "none" }} data-movement>
                <Text as="p" breakWord>
                  <Text as="span" fontWeight="semibold">
                    {format.count(movement.customers)}
                  </Text>{" "}
                  {movement.customers === 1 ? "customer" : "customers"} moved from {segmentName(movement.from)} to{" "}
                  {segmentName(movement.to)}
                </Text>
              </li>
            ))}
          </BlockStack>
        )}
      </BlockStack>
    </Card>
  );
}

function StoreCard({ store }: { store: DashboardData["store"] }) {
  const format = useShopFormat();
  return (
    <Card>
      <BlockStack gap="200">
        <InlineStack align="space-between" blockAlign="center">
          <Text as="h2" variant="headingSm">
            Shopify connection
          </Text>
          {connectionBadge[store.connection]}
        </InlineStack>
        <Row label="Shop" value={store.domain} />
        <Row label="Store" value={store.name ?? "Fetching your store details…"} />
        {store.name ? (
          <>
            <Row label="Plan" value={store.planName ?? "—"} />
            <Row label="Currency" value={store.currencyCode ?? "—"} />
            <Row label="Time zone" value={store.ianaTimezone ?? "—"} />
          </>
        ) : null}
        <Row label="Installed" value={format.dateTime(store.installedAt)} />
        <Row label="Access scopes" value={`${store.grantedScopes} granted`} />
        <Row label="Background worker" value={store.workerOnline ? "Running" : "Not running"} />
      </BlockStack>
    </Card>
  );
}

const RESOURCE_LABEL: Record<string, string> = { customers: "Customers", orders: "Orders", products: "Products" };

/** No data yet: the first pull's progress, or how to start one. */
function FirstPull({ data }: { data: DashboardData }) {
  const format = useShopFormat();
  const fetcher = useFetcher<{ started?: string; error?: string }>();
  const pull = data.pull;
  const startPull = () =>
    fetcher.submit({ intent: "start", kind: "full", mode: "auto" }, { method: "post", action: "/app/data" });
  const starting = fetcher.state !== "idle";

  if (pull && isActive(pull.status)) {
    const fractions = pull.steps.map((step) =>
      step.status === "succeeded" ? 1 : step.total ? Math.min(1, step.processed / step.total) : 0,
    );
    const percent = Math.round((fractions.reduce((a, b) => a + b, 0) / Math.max(1, fractions.length)) * 100);
    return (
      <Card>
        <BlockStack gap="400">
          <Text as="h2" variant="headingMd">
            Bringing in your store data
          </Text>
          <Text as="p">
            We are copying your customers, orders and products from Shopify. Your figures, charts and segments appear
            here as soon as the pull finishes; you can leave this page meanwhile.
          </Text>
          <ProgressBar progress={percent} tone="primary" />
          <BlockStack gap="100">
            {pull.steps.map((step) => (
              <Row
                key={step.resource}
                label={RESOURCE_LABEL[step.resource] ?? step.resource}
                value={
                  step.status === "succeeded"
                    ? `${format.count(step.processed)} done`
                    : step.total
                      ? `${format.count(step.processed)} of ${format.count(step.total)}`
                      : step.status === "queued"
                        ? "Waiting"
                        : `${format.count(step.processed)} so far`
                }
              />
            ))}
          </BlockStack>
          <Text as="p" tone="subdued">
            Started {format.dateTime(pull.requestedAt)}. <Link to="/app/data">See the Data page</Link> for details.
          </Text>
        </BlockStack>
      </Card>
    );
  }

  if (pull && pull.status === "succeeded") {
    return (
      <Card>
        <EmptyState heading="Your store has no customers or orders yet" image="">
          <p>
            The pull of {format.dateTime(pull.requestedAt)} found nothing to analyse. Figures appear here after your
            first orders, which arrive by themselves.
          </p>
          <p>
            <Link to="/app/data">Go to the Data page</Link>
          </p>
        </EmptyState>
      </Card>
    );
  }

  return (
    <Card>
      <EmptyState
        heading={pull ? "The last pull did not finish" : "Start by bringing in your store data"}
        image=""
        action={{ content: pull ? "Try the pull again" : "Pull store data", onAction: startPull, loading: starting }}
      >
        {pull ? (
          <p>
            The pull of {format.dateTime(pull.requestedAt)} {pull.status === "cancelled" ? "was cancelled" : "failed"}
            {pull.error ? `: ${pull.error}` : "."}
          </p>
        ) : (
          <p>
            MicroSegment copies your customers, orders and products from Shopify, then scores and segments your
            customers. It takes a few minutes for most stores.
          </p>
        )}
        <p>
          <Link to="/app/data">Go to the Data page</Link>
        </p>
        {fetcher.data?.error ? (
          <Text as="p" tone="critical">
            The pull could not be started. Please try again.
          </Text>
        ) : null}
      </EmptyState>
    </Card>
  );
}

export default function Dashboard() {
  const format = useShopFormat();
  const data = useLoaderData<typeof loader>();
  const revalidator = useRevalidator();
  const [, setSearchParams] = useSearchParams();
  const pullActive = data.pull !== null && isActive(data.pull.status);

  useEffect(() => {
    if (!pullActive) return;
    const timer = setInterval(() => revalidator.state === "idle" && revalidator.revalidate(), 2000);
    return () => clearInterval(timer);
  }, [pullActive, revalidator]);

  const { current, previous } = data.kpis;
  const lastDay = (end: string) => new Date(Date.parse(end) - 1).toISOString();

  return (
    <Page title="Dashboard">
      <TitleBar title="MicroSegment" />
      <Layout>
        {data.hasData ? (
          <>
            <Layout.Section>
              <BlockStack gap="300">
                <InlineStack align="space-between" blockAlign="end" gap="300">
                  <BlockStack gap="050">
                    <Text as="p">
                      {format.date(current.start)} – {format.date(lastDay(current.end))}, compared with{" "}
                      {format.date(previous.start)} – {format.date(lastDay(previous.end))}
                    </Text>
                    <Text as="p" variant="bodySm" tone="subdued">
                      {format.timeZoneNote()}. Revenue is net sales: items after discounts, less refunds, without
                      shipping or taxes; cancelled orders excluded.
                    </Text>
                  </BlockStack>
                  <Box minWidth="180px">
                    <Select
                      label="Period"
                      labelInline
                      options={data.periods.map((days) => ({ label: `Last ${days} days`, value: String(days) }))}
                      value={String(data.days)}
                      onChange={(value) =>
                        setSearchParams((params) => {
                          params.set("period", value);
                          return params;
                        })
                      }
                    />
                  </Box>
                </InlineStack>
                {pullActive ? (
                  <Banner tone="info">
                    A pull from Shopify is running; these figures update when it finishes.{" "}
                    <Link to="/app/data">See its progress</Link>
                  </Banner>
                ) : null}
                <KpiTiles data={data} />
              </BlockStack>
            </Layout.Section>
            <Layout.Section>
              <PolarisVizProvider>
                <BlockStack gap="300">
                  <SalesCharts data={data} />
                  <InlineGrid columns={{ xs: 1, md: 2 }} gap="300">
                    <NextActions data={data} />
                    <SegmentChart data={data} />
                  </InlineGrid>
                </BlockStack>
              </PolarisVizProvider>
            </Layout.Section>
            <Layout.Section>
              <Movements data={data} />
            </Layout.Section>
          </>
        ) : (
          <Layout.Section>
            <FirstPull data={data} />
          </Layout.Section>
        )}
        <Layout.Section>
          <Box maxWidth="520px">
            <StoreCard store={data.store} />
          </Box>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
