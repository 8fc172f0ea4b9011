import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { useFetcher, useLoaderData, useRevalidator, useSearchParams } from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import {
  Badge,
  Banner,
  BlockStack,
  Button,
  Card,
  DataTable,
  InlineGrid,
  InlineStack,
  Layout,
  List,
  Page,
  Pagination,
  Text,
} from "@shopify/polaris";
import { useEffect } from "react";
import { z } from "zod";
import { useShopFormat } from "../components/format";
import { requestSegmentSync, syncsOfSegment } from "../models/segment-syncs.server";
import { getSegmentDetail } from "../models/segments.server";
import { authenticate } from "../shopify.server";

const PAGE_SIZE = 25;

export const loader = async ({ request, params }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const id = z.uuid().safeParse(params.id);
  if (!id.success) throw new Response("Segment not found", { status: 404 });
  const offset = Math.max(0, Number(new URL(request.url).searchParams.get("offset")) || 0);
  const [detail, syncs] = await Promise.all([
    getSegmentDetail(session.shop, id.data, { offset, limit: PAGE_SIZE }),
    syncsOfSegment(session.shop, id.data, 1),
  ]);
  if (!detail) throw new Response("Segment not found", { status: 404 });
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
      tag: segment.tag,
      shopifySegmentId: segment.shopifySegmentId,
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
    members: members.map((member) => ({
      customerId: member.customerId,
      name: [member.firstName, member.lastName].filter(Boolean).join(" ") || member.customerId.split("/").pop()!,
      orders: member.frequency,
      spent: member.monetary,
      lastOrderDays: member.recencyDays,
      rfm: member.rScore ? `${member.rScore}${member.fScore}${member.mScore}` : "",
      probabilityAlive: member.probabilityAlive,
      expectedSpend365: member.expectedSpend365,
    })),
    total,
    offset,
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

const money = (amount: string | null) =>
  amount === null ? "—" : Number(amount).toLocaleString("en-US", { maximumFractionDigits: 2 });

export default function SegmentPage() {
  const format = useShopFormat();
  const { segment, sync, members, total, offset, nextOffset, predictions } = useLoaderData<typeof loader>();
  const fetcher = useFetcher<typeof action>();
  const revalidator = useRevalidator();
  const [, setParams] = useSearchParams();
  const syncing = sync?.status === "queued" || sync?.status === "running" || fetcher.state !== "idle";

  useEffect(() => {
    if (!syncing) return;
    const timer = setInterval(() => revalidator.state === "idle" && revalidator.revalidate(), 1500);
    return () => clearInterval(timer);
  }, [syncing, revalidator]);

  const figures: [string, string][] = [
    ["Customers", segment.size.toLocaleString("en-US")],
    ["Revenue share", `${(segment.revenueShare * 100).toFixed(1)}%`],
    ["Average order", money(segment.averageOrderValue)],
    [
      "Since last run",
      segment.trend === null ? "new" : segment.trend > 0 ? `+${segment.trend}` : String(segment.trend),
    ],
  ];
  const headings = ["Customer", "Orders", "Spent", "Last order (days)", "RFM"];
  if (predictions.shown) headings.push("Still active", "Expected spend, 1 year");

  return (
    <Page backAction={{ content: "Segments", url: "/app/segments" }} title={segment.name}>
      <TitleBar title={segment.name} />
      <Layout>
        <Layout.Section>
          <Card>
            <BlockStack gap="300">
              <InlineStack gap="200">
                <Badge>{segment.kind === "rfm" ? "RFM segment" : "Micro-segment"}</Badge>
                <Badge tone={segment.namedBy === "llm" ? "info" : undefined}>
                  {segment.namedBy === "llm" ? "Named by AI" : "Standard name"}
                </Badge>
              </InlineStack>
              <Text as="p">{segment.description}</Text>
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
          <InlineGrid columns={4} gap="400">
            {figures.map(([label, value]) => (
              <Card key={label}>
                <BlockStack gap="100">
                  <Text as="h3" variant="headingSm" tone="subdued">
                    {label}
                  </Text>
                  <Text as="p" variant="headingXl">
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
              <InlineStack align="space-between" blockAlign="center">
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
              {sync?.status === "running" || sync?.status === "queued" ? (
                <Text as="p">
                  Pushing: {sync.tagged.toLocaleString("en-US")} tagged, {sync.untagged.toLocaleString("en-US")}{" "}
                  untagged{sync.total ? ` of ${sync.total.toLocaleString("en-US")} changes` : ""}…
                </Text>
              ) : null}
              {sync?.status === "succeeded" ? (
                <Banner tone="success">
                  In Shopify since {format.dateTime(sync.finishedAt)}: {sync.tagged.toLocaleString("en-US")} customers
                  tagged, {sync.untagged.toLocaleString("en-US")} who left the segment untagged.
                </Banner>
              ) : null}
              {sync?.status === "failed" ? <Banner tone="critical">The push failed: {sync.error}</Banner> : null}
            </BlockStack>
          </Card>
        </Layout.Section>
        <Layout.Section>
          <Card padding="0">
            <DataTable
              columnContentTypes={["text", "numeric", "numeric", "numeric", "text", "numeric", "numeric"]}
              headings={headings}
              rows={members.map((member) => {
                const row: (string | number)[] = [
                  member.name,
                  member.orders ?? "—",
                  money(member.spent),
                  member.lastOrderDays ?? "—",
                  member.rfm,
                ];
                if (predictions.shown) {
                  row.push(
                    member.probabilityAlive === null ? "—" : `${Math.round(member.probabilityAlive * 100)}%`,
                    money(member.expectedSpend365),
                  );
                }
                return row;
              })}
              footerContent={`${offset + 1}–${offset + members.length} of ${total.toLocaleString("en-US")} customers`}
            />
            <InlineStack align="center">
              <Pagination
                hasPrevious={offset > 0}
                onPrevious={() => setParams({ offset: String(Math.max(0, offset - PAGE_SIZE)) })}
                hasNext={nextOffset !== null}
                onNext={() => setParams({ offset: String(nextOffset) })}
              />
            </InlineStack>
          </Card>
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
