import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { Link, useFetcher, useLoaderData, useRevalidator, useSearchParams } from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import {
  Badge,
  Banner,
  BlockStack,
  Button,
  Card,
  IndexTable,
  InlineGrid,
  InlineStack,
  Layout,
  List,
  Page,
  Pagination,
  ProgressBar,
  Text,
} from "@shopify/polaris";
import { useEffect, useState } from "react";
import { z } from "zod";
import { NumericCell } from "../components/numeric-cell";
import { useShopFormat } from "../components/format";
import { requestSegmentSync, syncsOfSegment } from "../models/segment-syncs.server";
import { getSegmentDetail } from "../models/segments.server";
import { authenticate } from "../shopify.server";
import { parseQuery, wholeNumber } from "../services/request-input.server";

const SEGMENT_KIND_LABELS = { rfm: "RFM segment", timing: "Timing segment", micro: "Micro-segment" } as const;

const PAGE_SIZE = 25;

const numericId = (gid: string | null) => gid?.split("/").pop() ?? null;

const memberQuery = z.object({ offset: wholeNumber(0, 10_000_000).default(0) });

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const id = z.uuid().safeParse(params.id);
  if (!id.success) throw new Response("Not found", { status: 404 });
  const { offset } = parseQuery(request, memberQuery);
  const [detail, syncs] = await Promise.all([
    getSegmentDetail(session.shop, id.data, { offset, limit: PAGE_SIZE }),
    syncsOfSegment(session.shop, id.data, 1),
  ]);
  if (!detail) throw new Response("Not found", { status: 404 });
  const { segment, members, total, nextOffset, predictions } = detail;
  const sync = syncs[0];
  return {
    segment: {
      id: segment.id,
      kind: segment.kind,
      name: segment.name,
      description: segment.description,
      actions: segment.actions,
      namedBy: segment.namedBy,
      size: segment.size,
      trend: segment.trend,
      revenue: segment.revenue,
      revenueShare: segment.revenueShare,
      averageOrderValue: segment.averageOrderValue,
      expectedSpend365: segment.expectedSpend365,
      tag: segment.tag,
      shopifySegmentId: numericId(segment.shopifySegmentId),
      lastSyncedAt: segment.lastSyncedAt?.toISOString() ?? null,
    },
    sync: sync && {
      status: sync.status,
      tagged: sync.tagged,
      untagged: sync.untagged,
      total: sync.total,
      error: sync.error,
      finishedAt: sync.finishedAt?.toISOString() ?? null,
    },
    members: members.map((member) => {
      const shopifyId = member.legacyId ?? numericId(member.customerId);
      return {
        customerId: member.customerId,
        shopifyId,
        name: [member.firstName, member.lastName].filter(Boolean).join(" ") || `Customer ${shopifyId}`,
        email: member.email,
        orders: member.frequency,
        spent: member.monetary,
        lastOrderDays: member.recencyDays,
        rfm: member.rScore ? `${member.rScore}${member.fScore}${member.mScore}` : "",
        probabilityAlive: member.probabilityAlive,
        expectedSpend365: member.expectedSpend365,
      };
    }),
    total,
    offset: Math.min(offset, total),
    nextOffset,
    predictions,
  };
};

export const action = async ({ request, params }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const id = z.uuid().safeParse(params.id);
  if (!id.success) return Response.json({ error: "no such segment" }, { status: 404 });
  const sync = await requestSegmentSync(session.shop, id.data);
  if (!sync) return Response.json({ error: "no such segment" }, { status: 404 });
  return { syncId: sync.id };
};

export default function SegmentPage() {
  const format = useShopFormat();
  const { segment, sync, members, total, offset, nextOffset, predictions } = useLoaderData<typeof loader>();
  const fetcher = useFetcher<typeof action>();
  const revalidator = useRevalidator();
  const [, setParams] = useSearchParams();
  const [exporting, setExporting] = useState(false);
  const [exportFailed, setExportFailed] = useState(false);

  /** Fetched (App Bridge adds the session token to same-origin fetches), then saved from a blob. */
  const downloadCsv = async () => {
    setExporting(true);
    setExportFailed(false);
    try {
      const response = await fetch(`/app/segments/${segment.id}/members.csv`);
      if (!response.ok) throw new Error(String(response.status));
      const name = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") ?? "")?.[1];
      const url = URL.createObjectURL(await response.blob());
      const link = Object.assign(document.createElement("a"), { href: url, download: name ?? "segment-members.csv" });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch {
      setExportFailed(true);
    } finally {
      setExporting(false);
    }
  };
  const pushing = sync?.status === "queued" || sync?.status === "running";
  const syncing = pushing || fetcher.state !== "idle";

  useEffect(() => {
    if (!syncing) return;
    const timer = setInterval(() => revalidator.state === "idle" && revalidator.revalidate(), 1000);
    return () => clearInterval(timer);
  }, [syncing, revalidator]);

  // Keeps the embedded app's own parameters (shop, host) and changes only the page.
  const goTo = (next: number) =>
    setParams((previous) => {
      const params = new URLSearchParams(previous);
      if (next > 0) params.set("offset", String(next));
      else params.delete("offset");
      return params;
    });

  const figures: [string, string][] = [
    ["Customers", format.count(segment.size)],
    ["Revenue", `${format.money(segment.revenue)} (${format.percent(segment.revenueShare)})`],
    ["Average order", format.money(segment.averageOrderValue)],
    [
      "Since last run",
      segment.trend === null
        ? "new"
        : segment.trend > 0
          ? `+${format.count(segment.trend)}`
          : format.count(segment.trend),
    ],
  ];
  if (predictions.shown) figures.push(["Predicted spend, next 365 days", format.money(segment.expectedSpend365)]);
  const headings: { title: string; alignment?: "end" }[] = [
    { title: "Customer" },
    { title: "Orders", alignment: "end" },
    { title: "Spent", alignment: "end" },
    { title: "Last order (days)", alignment: "end" },
    { title: "RFM" },
  ];
  if (predictions.shown)
    headings.push({ title: "Still active", alignment: "end" }, { title: "Expected spend, 1 year", alignment: "end" });
  headings.push({ title: "Shopify" });
  const progress =
    sync && sync.total ? Math.min(100, Math.round((100 * (sync.tagged + sync.untagged)) / sync.total)) : 0;

  return (
    <Page backAction={{ content: "Segments", url: "/app/segments" }} title={segment.name}>
      <TitleBar title={segment.name} />
      <Layout>
        <Layout.Section>
          <Card>
            <BlockStack gap="300">
              <InlineStack gap="200">
                <Badge>{SEGMENT_KIND_LABELS[segment.kind]}</Badge>
                <Badge tone={segment.namedBy === "llm" ? "info" : undefined}>
                  {segment.namedBy === "llm" ? "Named by AI" : "Standard name"}
                </Badge>
              </InlineStack>
              <Text as="p">{segment.description}</Text>
              {segment.kind === "timing" ? (
                <Text as="p" tone="subdued">
                  Built on the predicted timing of each customer's next order, recomputed by every segmentation run;
                  see how accurate predictions are on the <Link to="/app/predictions">Predictions</Link> page.
                </Text>
              ) : null}
              {segment.kind === "micro" ? (
                <Text as="p" tone="subdued">
                  A customer can be in several micro-segments; their shares add to more than 100%.
                </Text>
              ) : null}
              {segment.actions.length > 0 ? (
                <BlockStack gap="100">
                  <Text as="h3" variant="headingSm">
                    Suggested actions
                  </Text>
                  <List>
                    {segment.actions.map((action) => (
                      <List.Item key={action}>{action}</List.Item>
                    ))}
                  </List>
                </BlockStack>
              ) : null}
            </BlockStack>
          </Card>
        </Layout.Section>
        <Layout.Section>
          <InlineGrid columns={{ xs: 1, sm: 2, md: figures.length }} gap="400">
            {figures.map(([label, value]) => (
              <Card key={label}>
                <BlockStack gap="100">
                  <Text as="h3" variant="headingSm" tone="subdued">
                    {label}
                  </Text>
                  <Text as="p" variant="headingLg">
                    {value}
                  </Text>
                </BlockStack>
              </Card>
            ))}
          </InlineGrid>
        </Layout.Section>
        <Layout.Section>
          <Card>
            <BlockStack gap="300">
              <InlineStack align="space-between" blockAlign="center" gap="200">
                <BlockStack gap="100">
                  <Text as="h2" variant="headingMd">
                    Use it in Shopify
                  </Text>
                  <Text as="p" tone="subdued">
                    Tags its customers {segment.tag ? `“${segment.tag}”` : "with a MicroSegment tag"} and keeps a
                    Shopify customer segment on that tag, for Shopify Email, Flow and discounts.
                  </Text>
                </BlockStack>
                <Button variant="primary" loading={syncing} onClick={() => fetcher.submit({}, { method: "post" })}>
                  {segment.shopifySegmentId ? "Sync again" : "Push to Shopify"}
                </Button>
              </InlineStack>
              {pushing && sync ? (
                <BlockStack gap="100">
                  <Text as="p">
                    {sync.status === "queued"
                      ? "Waiting to start…"
                      : `Pushing: ${format.count(sync.tagged)} tagged, ${format.count(sync.untagged)} untagged${
                          sync.total ? ` of ${format.count(sync.total)} changes` : ""
                        }…`}
                  </Text>
                  <ProgressBar progress={progress} />
                </BlockStack>
              ) : null}
              {sync?.status === "succeeded" ? (
                <Banner tone="success">
                  In Shopify since {format.dateTime(sync.finishedAt)}: {format.count(sync.tagged)} customers tagged,{" "}
                  {format.count(sync.untagged)} who left the segment untagged.
                </Banner>
              ) : null}
              {sync?.status === "failed" ? <Banner tone="critical">The push failed: {sync.error}</Banner> : null}
              {sync?.finishedAt ? (
                <Text as="p" tone="subdued">
                  {format.timeZoneNote()}.
                </Text>
              ) : null}
              {segment.shopifySegmentId ? (
                <InlineStack>
                  <a href={`shopify:admin/customers/segments/${segment.shopifySegmentId}`} target="_top">
                    Open the segment in Shopify
                  </a>
                </InlineStack>
              ) : null}
            </BlockStack>
          </Card>
        </Layout.Section>
        <Layout.Section>
          <Card padding="0">
            <IndexTable
              resourceName={{ singular: "customer", plural: "customers" }}
              itemCount={members.length}
              selectable={false}
              headings={headings as [{ title: string }, ...{ title: string }[]]}
            >
              {members.map((member, position) => (
                <IndexTable.Row
                  // Rows keyed by place: a new sort or page rewrites rows in place instead of moving them (no layout shift).
                  id={member.customerId}
                  key={position}
                  position={position}
                >
                  <IndexTable.Cell>
                    <Link to={`/app/customers/${member.shopifyId}`}>{member.name}</Link>
                  </IndexTable.Cell>
                  <NumericCell>{format.count(member.orders)}</NumericCell>
                  <NumericCell>{format.money(member.spent)}</NumericCell>
                  <NumericCell>{format.count(member.lastOrderDays)}</NumericCell>
                  <IndexTable.Cell>{member.rfm}</IndexTable.Cell>
                  {predictions.shown ? (
                    <>
                      <NumericCell>{format.percent(member.probabilityAlive, 0)}</NumericCell>
                      <NumericCell>{format.money(member.expectedSpend365)}</NumericCell>
                    </>
                  ) : null}
                  <IndexTable.Cell>
                    <a href={`shopify:admin/customers/${member.shopifyId}`} target="_top">
                      View in Shopify
                    </a>
                  </IndexTable.Cell>
                </IndexTable.Row>
              ))}
            </IndexTable>
            <div style={{ padding: "var(--p-space-400)" }}>
              <InlineStack align="space-between" blockAlign="center" gap="200">
                <Text as="p" tone="subdued">
                  {total === 0
                    ? "No customers"
                    : `${format.count(offset + 1)}–${format.count(offset + members.length)} of ${format.count(total)} customers`}
                </Text>
                <InlineStack gap="300" blockAlign="center">
                  <Pagination
                    hasPrevious={offset > 0}
                    onPrevious={() => goTo(Math.max(0, offset - PAGE_SIZE))}
                    hasNext={nextOffset !== null}
                    onNext={() => goTo(nextOffset ?? offset)}
                  />
                  <Button onClick={downloadCsv} loading={exporting}>
                    Export CSV
                  </Button>
                </InlineStack>
              </InlineStack>
            </div>
          </Card>
          {exportFailed ? <Banner tone="critical">The export could not be downloaded; try again.</Banner> : null}
          {!predictions.shown && predictions.reason ? (
            <Text as="p" tone="subdued">
              Predicted value is not shown: {predictions.reason}
            </Text>
          ) : null}
        </Layout.Section>
      </Layout>
    </Page>
  );
}

// A missing or malformed id shows the app's own 404 page, menu intact.
export { AppRouteErrorBoundary as ErrorBoundary } from "../components/error-page";
