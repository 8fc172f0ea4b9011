import type { LoaderFunctionArgs } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import {
  Badge,
  BlockStack,
  Box,
  Button,
  Card,
  EmptyState,
  InlineGrid,
  InlineStack,
  Layout,
  Page,
  Text,
} from "@shopify/polaris";
import type { ReactNode } from "react";
import { Figure } from "../components/figure";
import { Section } from "../components/section";
import { type ShopFormatters, useShopFormat } from "../components/format";
import {
  customerActivity,
  customerGidFromParam,
  customerOrders,
  getCustomerProfile,
  type ScoreBand,
} from "../models/customers.server";
import { rfmSegmentByKey } from "../models/rfm-segments.server";
import { authenticate } from "../shopify.server";
import { noQuery, parseQuery } from "../services/request-input.server";

const ORDERS_SHOWN = 25;
const EVENTS_SHOWN = 20;

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  parseQuery(request, noQuery);
  const customerId = customerGidFromParam(params.id);
  if (!customerId) throw new Response("Not found", { status: 404 });
  const [profile, orders, activity] = await Promise.all([
    getCustomerProfile(session.shop, customerId),
    customerOrders(session.shop, customerId, ORDERS_SHOWN),
    customerActivity(session.shop, customerId, EVENTS_SHOWN),
  ]);
  if (!profile) throw new Response("Not found", { status: 404 });
  const { customer, score, run, thresholds, segments } = profile;
  const rfmRule = score ? rfmSegmentByKey(score.rfmSegment) : undefined;
  return {
    customer: {
      legacyId: customer.legacyId,
      name: [customer.firstName, customer.lastName].filter(Boolean).join(" ") || `Customer ${customer.legacyId}`,
      email: customer.email,
      phone: customer.phone,
      place: [customer.city, customer.province, customer.countryCode].filter(Boolean).join(", "),
      tags: customer.tags,
      since: customer.shopifyCreatedAt.toISOString(),
    },
    score: score && {
      recencyDays: score.recencyDays,
      frequency: score.frequency,
      monetary: score.monetary,
      averageOrderValue: score.averageOrderValue,
      averageDaysBetweenOrders: score.averageDaysBetweenOrders,
      firstOrderAt: score.firstOrderAt.toISOString(),
      lastOrderAt: score.lastOrderAt.toISOString(),
      r: score.rScore,
      f: score.fScore,
      m: score.mScore,
      segmentName: rfmRule?.name ?? score.rfmSegment,
      segmentRule: rfmRule?.rule ?? null,
      segmentDescription: rfmRule?.description ?? null,
      probabilityAlive: score.probabilityAlive,
      expectedOrders90: score.expectedOrders90,
      expectedOrders365: score.expectedOrders365,
      expectedSpend90: score.expectedSpend90,
      expectedSpend365: score.expectedSpend365,
      churnRisk: score.churnRisk,
      expectedNextOrderAt: score.expectedNextOrderAt?.toISOString() ?? null,
    },
    thresholds,
    run: run && {
      asOf: (run.asOf ?? run.finishedAt)?.toISOString() ?? null,
      predictionsShown: run.predictionsShown,
      predictionGate: run.predictionGate,
    },
    rfmSegment: segments.find((segment) => segment.kind === "rfm") ?? null,
    microSegments: segments.filter((segment) => segment.kind === "micro"),
    timingSegments: segments.filter((segment) => segment.kind === "timing"),
    orders: {
      total: orders.total,
      list: orders.orders.map((order) => ({
        id: order.legacyId,
        name: order.name,
        processedAt: order.processedAt.toISOString(),
        totalPrice: order.totalPrice,
        netRevenue: order.netRevenue,
        refunded: Number(order.totalRefunded) > 0 ? order.totalRefunded : null,
        cancelled: order.cancelledAt !== null,
        items: order.items,
      })),
    },
    activity: {
      total: activity.total,
      browsers: activity.browsers,
      events: activity.events.map((event) => ({
        id: event.eventId,
        occurredAt: event.occurredAt.toISOString(),
        description: describeEvent(event.name, event.data, event.url),
      })),
    },
  };
};

const quoted = (value: unknown) => `“${String(value)}”`;
const plural = (count: number, one: string, many: string) => (count === 1 ? one : many);

/** A storefront event in the merchant's words, from the compact record the pixel sends. */
function describeEvent(name: string, data: Record<string, unknown> | null, url: string | null): string {
  const product = data?.productTitle ? quoted(data.productTitle) : "a product";
  const items = typeof data?.itemCount === "number" ? data.itemCount : null;
  const withItems = items === null ? "" : ` (${items} ${plural(items, "item", "items")})`;
  switch (name) {
    case "page_viewed":
      return `Viewed page ${pathOf(url) ?? ""}`.trim();
    case "product_viewed":
      return `Viewed ${product}`;
    case "collection_viewed":
      return `Viewed collection ${data?.collectionTitle ? quoted(data.collectionTitle) : ""}`.trim();
    case "search_submitted":
      return data?.query ? `Searched for ${quoted(data.query)}` : "Searched the store";
    case "product_added_to_cart": {
      const quantity = typeof data?.quantity === "number" && data.quantity > 1 ? `${data.quantity} × ` : "";
      return `Added ${quantity}${product} to the cart`;
    }
    case "product_removed_from_cart":
      return `Removed ${product} from the cart`;
    case "cart_viewed":
      return `Viewed the cart${withItems}`;
    case "checkout_started":
      return `Started checkout${withItems}`;
    case "checkout_completed": {
      const order = typeof data?.orderId === "string" ? data.orderId.split("/").pop() : null;
      return `Completed checkout${order ? `: order ${order}` : ""}${withItems}`;
    }
    default:
      return name.replaceAll("_", " ");
  }
}

function pathOf(url: string | null) {
  if (!url) return null;
  try {
    return new URL(url).pathname;
  } catch {
    return null;
  }
}

type Loaded = ReturnType<typeof useLoaderData<typeof loader>>;

const CHURN_RISK_BADGES = {
  low: <Badge tone="success">Low</Badge>,
  medium: <Badge tone="warning">Medium</Badge>,
  high: <Badge tone="critical">High</Badge>,
} as const;

function range<T>(band: ScoreBand<T>, show: (value: T) => string) {
  return band.min === band.max ? show(band.min) : `${show(band.min)}–${show(band.max)}`;
}

/** One measure: the customer's value and score, and the value range of every score in this shop. */
function Measure<T>(props: {
  title: string;
  value: string;
  score: number;
  bands: ScoreBand<T>[];
  show: (value: T) => string;
  unit: (band: ScoreBand<T>) => string;
  format: ShopFormatters;
}) {
  return (
    <BlockStack gap="200">
      <InlineStack gap="200" blockAlign="center" wrap>
        <Text as="h3" variant="headingSm">
          {props.title}
        </Text>
        <Badge tone="info">{`Score ${props.score} of 5`}</Badge>
      </InlineStack>
      <Text as="p">{props.value}</Text>
      <ul
        aria-label={`${props.title} thresholds`}
        style={{ listStyle: "none", margin: 0, padding: 0, display: "flex", flexWrap: "wrap", gap: 6 }}
      >
        {props.bands.map((band) => {
          const own = band.score === props.score;
          return (
            <li key={band.score}>
              <Box
                padding="100"
                paddingInline="200"
                borderRadius="200"
                borderWidth="025"
                borderColor={own ? "border-info" : "border"}
                background={own ? "bg-surface-info" : "bg-surface"}
              >
                <Text as="span" variant="bodySm" fontWeight={own ? "semibold" : "regular"}>
                  {`${band.score}: ${range(band, props.show)} ${props.unit(band)}`}
                </Text>
                <Text as="span" variant="bodySm" tone="subdued">
                  {` · ${props.format.count(band.customers)}`}
                </Text>
              </Box>
            </li>
          );
        })}
      </ul>
    </BlockStack>
  );
}

/** Segments as links to their pages, each with the rule that put the customer in it. */
function SegmentLinks({ label, segments }: { label: string; segments: Loaded["microSegments"] }) {
  return (
    <ul aria-label={label} style={{ margin: 0, paddingInlineStart: 20 }}>
      {segments.map((segment) => (
        <li key={segment.id} style={{ marginBlockEnd: 6, overflowWrap: "anywhere" }}>
          <Link to={`/app/segments/${segment.id}`}>{segment.name}</Link>
          {segment.rule ? (
            <Text as="span" tone="subdued">
              {` — ${segment.rule}`}
            </Text>
          ) : null}
        </li>
      ))}
    </ul>
  );
}

function WhySegments({ data, format }: { data: Loaded; format: ShopFormatters }) {
  const { score, thresholds, run, rfmSegment, microSegments, timingSegments } = data;
  if (!score || !thresholds) {
    return (
      <Section title="Segments">
        <Text as="p">
          {run
            ? "Not scored: the last segmentation found no countable order (one not cancelled) for this customer."
            : "No segmentation has run yet; segments appear after the first data pull."}
        </Text>
      </Section>
    );
  }
  const days = (value: number) => format.count(value);
  return (
    <Section
      title="Why they are in their segments"
      aside={run?.asOf ? <Text as="span" tone="subdued">{`As of ${format.dateTime(run.asOf)}`}</Text> : null}
    >
      <BlockStack gap="100">
        <InlineStack gap="200" blockAlign="center" wrap>
          <Text as="h3" variant="headingSm">
            RFM segment:
          </Text>
          {rfmSegment ? (
            <Link to={`/app/segments/${rfmSegment.id}`}>{score.segmentName}</Link>
          ) : (
            <Text as="span">{score.segmentName}</Text>
          )}
          <Badge>{`R ${score.r} · F ${score.f} · M ${score.m}`}</Badge>
        </InlineStack>
        {score.segmentRule ? (
          <Text as="p" tone="subdued">
            {`Rule: ${score.segmentRule}. Their F + M is ${score.f + score.m}.`}
          </Text>
        ) : null}
        {score.segmentDescription ? <Text as="p">{score.segmentDescription}</Text> : null}
      </BlockStack>
      <Text as="p" tone="subdued" variant="bodySm">
        Each score is 1 (worst) to 5 (best) against this shop's customers. Below each measure: the range of values
        behind every score in this shop, and how many customers hold it.
      </Text>
      <InlineGrid columns={{ xs: 1, md: 3 }} gap="400">
        <Measure
          title="Recency"
          value={`Last order ${days(score.recencyDays)} ${plural(score.recencyDays, "day", "days")} before the run`}
          score={score.r}
          bands={thresholds.recency}
          show={days}
          unit={(band) => plural(band.max, "day", "days")}
          format={format}
        />
        <Measure
          title="Frequency"
          value={`${format.count(score.frequency)} ${plural(score.frequency, "order", "orders")}`}
          score={score.f}
          bands={thresholds.frequency}
          show={(value) => format.count(value)}
          unit={(band) => plural(band.max, "order", "orders")}
          format={format}
        />
        <Measure
          title="Monetary"
          value={`${format.money(score.monetary)} spent, net of refunds`}
          score={score.m}
          bands={thresholds.monetary}
          show={(value) => format.money(value)}
          unit={() => ""}
          format={format}
        />
      </InlineGrid>
      {timingSegments.length > 0 ? (
        <BlockStack gap="200">
          <Text as="h3" variant="headingSm">
            Timing
          </Text>
          <SegmentLinks label="Timing segments" segments={timingSegments} />
        </BlockStack>
      ) : null}
      <BlockStack gap="200">
        <Text as="h3" variant="headingSm">
          Micro-segments
        </Text>
        {microSegments.length === 0 ? (
          <Text as="p" tone="subdued">
            In no micro-segment: none of the traits the shop's micro-segments are built on applies to enough customers
            like them.
          </Text>
        ) : (
          <SegmentLinks label="Micro-segments" segments={microSegments} />
        )}
      </BlockStack>
    </Section>
  );
}

function Value({ data, format }: { data: Loaded; format: ShopFormatters }) {
  const { score, run } = data;
  if (!score) return null;
  const predicted = Boolean(run?.predictionsShown) && score.probabilityAlive !== null;
  return (
    <Section title="Value" aside={predicted ? <Link to="/app/predictions">How accurate predictions are</Link> : null}>
      <InlineGrid columns={{ xs: 2, md: 4 }} gap="400">
        <Figure label="Historic value" value={format.money(score.monetary)} />
        <Figure label="Average order" value={format.money(score.averageOrderValue)} />
        <Figure
          label="Average days between orders"
          value={score.averageDaysBetweenOrders === null ? "One order" : format.number(score.averageDaysBetweenOrders)}
        />
        <Figure label="First order" value={format.date(score.firstOrderAt)} />
      </InlineGrid>
      {predicted ? (
        <BlockStack gap="300">
          <Text as="h3" variant="headingSm">
            Predicted
          </Text>
          <InlineGrid columns={{ xs: 2, md: 4 }} gap="400">
            <Figure label="Predicted value, next 365 days" value={format.money(score.expectedSpend365)} />
            <Figure label="Probability active" value={format.percent(score.probabilityAlive)} />
            <Figure label="Churn risk" value={score.churnRisk ? CHURN_RISK_BADGES[score.churnRisk] : "—"} />
            <Figure
              label="Expected next order"
              value={score.expectedNextOrderAt ? format.date(score.expectedNextOrderAt) : "—"}
            />
            <Figure label="Expected orders, 90 days" value={format.number(score.expectedOrders90, 2)} />
            <Figure label="Expected orders, 365 days" value={format.number(score.expectedOrders365, 2)} />
            <Figure label="Predicted value, next 90 days" value={format.money(score.expectedSpend90)} />
          </InlineGrid>
        </BlockStack>
      ) : (
        <Text as="p" tone="subdued">
          {`Predicted value is not shown: ${run?.predictionGate ?? "no segmentation has run yet."}`}
        </Text>
      )}
    </Section>
  );
}

function Orders({ data, format }: { data: Loaded; format: ShopFormatters }) {
  const { orders } = data;
  return (
    <Section
      title="Orders"
      aside={
        <Text as="span" tone="subdued">
          {orders.total > orders.list.length
            ? `Latest ${format.count(orders.list.length)} of ${format.count(orders.total)}`
            : `${format.count(orders.total)} ${plural(orders.total, "order", "orders")}`}
        </Text>
      }
    >
      {orders.list.length === 0 ? (
        <Text as="p" tone="subdued">
          No orders yet.
        </Text>
      ) : (
        <ul aria-label="Orders" style={{ listStyle: "none", margin: 0, padding: 0 }}>
          {orders.list.map((order) => (
            <li key={order.id}>
              <Box paddingBlock="200" borderBlockEndWidth="025" borderColor="border-secondary">
                <InlineStack align="space-between" blockAlign="center" gap="200">
                  <InlineStack gap="200" blockAlign="center">
                    <Text as="span" fontWeight="semibold">
                      {order.name}
                    </Text>
                    <Text as="span" tone="subdued">
                      {format.dateTime(order.processedAt)}
                    </Text>
                    {order.cancelled ? <Badge tone="critical">Cancelled</Badge> : null}
                  </InlineStack>
                  <InlineStack gap="200" blockAlign="center">
                    <Text as="span" tone="subdued">
                      {`${format.count(order.items)} ${plural(order.items, "item", "items")}`}
                    </Text>
                    <Text as="span" fontWeight="semibold">
                      {`${format.money(order.netRevenue)} net`}
                    </Text>
                    <Text as="span" tone="subdued">
                      {`(${format.money(order.totalPrice)} paid${order.refunded ? `, ${format.money(order.refunded)} refunded` : ""})`}
                    </Text>
                  </InlineStack>
                </InlineStack>
              </Box>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

function Activity({ data, format }: { data: Loaded; format: ShopFormatters }) {
  const { activity } = data;
  return (
    <Section
      title="Storefront activity"
      aside={
        activity.total > 0 ? (
          <Text as="span" tone="subdued">
            {`${format.count(activity.total)} ${plural(activity.total, "event", "events")} from ${format.count(activity.browsers)} ${plural(activity.browsers, "browser", "browsers")}`}
          </Text>
        ) : null
      }
    >
      {activity.events.length === 0 ? (
        <EmptyState heading="No storefront activity" image="">
          <Text as="p">
            The web pixel links a visitor's browsing to a customer when they complete a checkout. None of this
            customer's visits has been linked yet, or the pixel is not connected (see the Pixel page).
          </Text>
        </EmptyState>
      ) : (
        <ul aria-label="Storefront events" style={{ listStyle: "none", margin: 0, padding: 0 }}>
          {activity.events.map((event) => (
            <li key={event.id}>
              <Box paddingBlock="150" borderBlockEndWidth="025" borderColor="border-secondary">
                <InlineStack align="space-between" gap="200">
                  <div style={{ overflowWrap: "anywhere", minWidth: 0 }}>
                    <Text as="span">{event.description}</Text>
                  </div>
                  <Text as="span" tone="subdued">
                    {format.dateTime(event.occurredAt)}
                  </Text>
                </InlineStack>
              </Box>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

export default function CustomerPage() {
  const format = useShopFormat();
  const data = useLoaderData<typeof loader>();
  const { customer } = data;
  return (
    <Page
      backAction={{ content: "Customers", url: "/app/customers" }}
      title={customer.name}
      subtitle={`Customer ${customer.legacyId}`}
    >
      <TitleBar title={customer.name} />
      <Layout>
        <Layout.Section>
          <Card>
            <BlockStack gap="300">
              <InlineGrid columns={{ xs: 1, md: 3 }} gap="300">
                <div style={{ overflowWrap: "anywhere" }}>
                  <Figure label="Email" value={customer.email ?? "—"} />
                </div>
                <Figure label="Location" value={customer.place || "—"} />
                <Figure label="Customer since" value={format.date(customer.since)} />
              </InlineGrid>
              {customer.tags.length > 0 ? (
                <InlineStack gap="100" wrap>
                  {customer.tags.map((tag) => (
                    <Badge key={tag}>{tag}</Badge>
                  ))}
                </InlineStack>
              ) : null}
              <InlineStack gap="200" wrap>
                <Button url={`shopify:admin/customers/${customer.legacyId}`} target="_top">
                  Open in Shopify Admin
                </Button>
                <Button url="/app/segments" variant="plain">
                  All segments
                </Button>
              </InlineStack>
              <Text as="p" tone="subdued" variant="bodySm">
                {format.timeZoneNote()}
              </Text>
            </BlockStack>
          </Card>
        </Layout.Section>
        <Layout.Section>
          <WhySegments data={data} format={format} />
        </Layout.Section>
        <Layout.Section>
          <Value data={data} format={format} />
        </Layout.Section>
        <Layout.Section>
          <Orders data={data} format={format} />
        </Layout.Section>
        <Layout.Section>
          <Activity data={data} format={format} />
        </Layout.Section>
      </Layout>
    </Page>
  );
}

// A missing or malformed id shows the app's own 404 page, menu intact.
export { AppRouteErrorBoundary as ErrorBoundary } from "../components/error-page";
