import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { useFetcher, useLoaderData, useRevalidator } from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import {
  Badge,
  Box,
  BlockStack,
  Button,
  Card,
  DataTable,
  InlineGrid,
  InlineStack,
  Layout,
  Page,
  ProgressBar,
  Select,
  Text,
} from "@shopify/polaris";
import { useEffect, useState } from "react";
import { z } from "zod";
import { useShopFormat, type ShopFormatters } from "../components/format";
import { metafieldSyncStatus } from "../models/customer-metafields.server";
import { createPull, recentPulls, requestCancel } from "../models/pulls.server";
import { storeCounts } from "../models/store-data.server";
import { authenticate } from "../shopify.server";
import { noQuery, parseQuery } from "../services/request-input.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  parseQuery(request, noQuery);
  const [pulls, counts, metafields] = await Promise.all([
    recentPulls(session.shop, 15),
    storeCounts(session.shop),
    metafieldSyncStatus(session.shop),
  ]);
  const { latest, lastSucceeded, stored } = metafields;
  return {
    counts,
    metafields: {
      stored,
      lastWrittenAt: lastSucceeded?.finishedAt?.toISOString() ?? null,
      lastChanged: lastSucceeded ? lastSucceeded.written + lastSucceeded.cleared : null,
      running:
        latest && ["queued", "running"].includes(latest.status)
          ? { done: latest.written + latest.cleared, total: latest.total }
          : null,
      failed: latest?.status === "failed" ? latest.error : null,
    },
    pulls: pulls.map((pull) => ({
      id: pull.id,
      kind: pull.kind,
      mode: pull.mode,
      trigger: pull.trigger,
      status: pull.status,
      error: pull.error,
      requestedAt: pull.requestedAt.toISOString(),
      seconds: pull.startedAt && pull.finishedAt ? (pull.finishedAt.getTime() - pull.startedAt.getTime()) / 1000 : null,
      cancelRequested: Boolean(pull.cancelRequestedAt),
      steps: pull.steps.map((step) => ({
        resource: step.resource as Resource,
        mode: step.mode,
        status: step.status,
        bulkStatus: step.bulkStatus,
        processed: step.processed,
        total: step.total,
        totalAtLeast: step.totalAtLeast,
        children: step.children,
        preparedObjects: step.preparedObjects,
        fileSize: step.fileSize === null ? null : Number(step.fileSize),
        bytesRead: step.bytesRead === null ? null : Number(step.bytesRead),
        error: step.error,
      })),
    })),
  };
};

const pullAction = z.discriminatedUnion("intent", [
  z.object({
    intent: z.literal("start"),
    kind: z.enum(["full", "incremental"]),
    mode: z.enum(["auto", "bulk", "paginated"]),
  }),
  z.object({ intent: z.literal("cancel"), pullId: z.uuid() }),
]);

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const parsed = pullAction.safeParse(Object.fromEntries(await request.formData()));
  if (!parsed.success) return Response.json({ error: "invalid request" }, { status: 400 });
  if (parsed.data.intent === "cancel") {
    return { cancelled: await requestCancel(session.shop, parsed.data.pullId) };
  }
  const { kind, mode } = parsed.data;
  const pull = await createPull({
    shop: session.shop,
    kind,
    mode: mode === "auto" ? undefined : mode,
    trigger: "merchant",
  });
  return { started: pull.id };
};

const statusTone = {
  succeeded: "success",
  failed: "critical",
  cancelled: "warning",
  running: "info",
  queued: undefined,
} as const;

type Resource = "customers" | "orders" | "products";
type Step = ReturnType<typeof useLoaderData<typeof loader>>["pulls"][number]["steps"][number];

const NOUNS: Record<Resource, { one: string; many: string; child?: string }> = {
  customers: { one: "customer", many: "customers" },
  orders: { one: "order", many: "orders", child: "line items" },
  products: { one: "product", many: "products", child: "variants" },
};
const TITLES: Record<Resource, string> = { customers: "Customers", orders: "Orders", products: "Products" };

/** "50,000 orders with 165,286 line items": records in the tiles' units, children apart. */
function recordsText(format: ShopFormatters, step: Step, count: number) {
  const noun = NOUNS[step.resource];
  const records = `${format.count(count)} ${count === 1 ? noun.one : noun.many}`;
  return noun.child && step.children > 0 ? `${records} with ${format.count(step.children)} ${noun.child}` : records;
}

/** Where a step is, in words, and how far along (0-1) when that is known. */
function stepPhase(format: ShopFormatters, step: Step): { text: string; fraction: number | null } {
  const noun = NOUNS[step.resource];
  if (step.status === "queued") return { text: "Waiting to start", fraction: null };
  if (step.status === "succeeded") return { text: `Done: ${recordsText(format, step, step.processed)}`, fraction: 1 };
  if (step.status === "cancelled")
    return { text: `Cancelled after ${recordsText(format, step, step.processed)}`, fraction: null };
  if (step.status === "failed") return { text: `Failed: ${step.error ?? "unknown error"}`, fraction: null };
  if (step.mode === "bulk") {
    const preparing = !step.bulkStatus || ["STARTING", "CREATED", "RUNNING"].includes(step.bulkStatus);
    if (preparing) {
      const so = step.preparedObjects ? ` (${format.count(step.preparedObjects)} objects so far)` : "";
      return { text: `Waiting for Shopify to prepare the export${so}`, fraction: null };
    }
    if (step.bulkStatus === "COMPLETED" && step.fileSize) {
      const fraction = Math.min(1, (step.bytesRead ?? 0) / step.fileSize);
      const of = step.total !== null ? ` of ${format.count(step.total)}` : "";
      return {
        text: `Importing: ${recordsText(format, step, step.processed)}${of} imported`,
        fraction,
      };
    }
    return { text: "Shopify has prepared the export; the import starts", fraction: 0 };
  }
  if (step.total === null) return { text: `Counting ${noun.many}`, fraction: null };
  // A floor is no denominator: the share fetched is unknown until the last page.
  if (step.totalAtLeast)
    return {
      text: `Fetching page by page: ${recordsText(format, step, step.processed)} of ${format.countAtLeast(step.total)}`,
      fraction: null,
    };
  return {
    text: `Fetching page by page: ${recordsText(format, step, step.processed)} of ${format.count(step.total)}`,
    fraction: step.total > 0 ? Math.min(1, step.processed / step.total) : 1,
  };
}

/** The history's summary of a pull: what each resource brought. */
function pullSummary(format: ShopFormatters, steps: Step[]) {
  return steps.map((step) => recordsText(format, step, step.processed)).join(" · ");
}

type MetafieldStatus = ReturnType<typeof useLoaderData<typeof loader>>["metafields"];

/** One line on the customer metafields: how many values Shopify holds from the app, and when they were written. */
function metafieldLine(format: ShopFormatters, status: MetafieldStatus): string {
  if (status.running)
    return status.running.total === null
      ? "Writing customer metafields…"
      : `Writing customer metafields: ${format.count(status.running.done)} of ${format.count(status.running.total)} changes`;
  const written = status.lastWrittenAt
    ? `${format.count(status.stored)} values on customers, last synced ${format.dateTime(status.lastWrittenAt)} (${format.count(status.lastChanged)} changed)`
    : "Not written yet: they are written after the next segmentation run.";
  return status.failed ? `${written}. The last sync failed: ${status.failed}` : written;
}

export default function DataPage() {
  const format = useShopFormat();
  const { counts, pulls, metafields } = useLoaderData<typeof loader>();
  const fetcher = useFetcher<typeof action>();
  const revalidator = useRevalidator();
  const [kind, setKind] = useState<"full" | "incremental">("full");
  const [mode, setMode] = useState<"auto" | "bulk" | "paginated">("auto");
  const active = pulls.find((pull) => pull.status === "queued" || pull.status === "running");

  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => revalidator.state === "idle" && revalidator.revalidate(), 1500);
    return () => clearInterval(timer);
  }, [active, revalidator]);

  return (
    <Page>
      <TitleBar title="Data" />
      <Layout>
        <Layout.Section>
          <InlineGrid columns={{ xs: 1, sm: 3 }} gap="400">
            {(["customers", "orders", "products"] as const).map((resource) => (
              <Card key={resource}>
                <BlockStack gap="100">
                  <Text as="h3" variant="headingSm" tone="subdued">
                    {TITLES[resource]}
                  </Text>
                  <Text as="p" variant="heading2xl">
                    {format.count(counts[resource])}
                  </Text>
                </BlockStack>
              </Card>
            ))}
          </InlineGrid>
        </Layout.Section>
        <Layout.Section>
          <Card>
            <BlockStack gap="400">
              <Text as="h2" variant="headingMd">
                Pull data from Shopify
              </Text>
              <InlineGrid columns={{ xs: 1, md: 3 }} gap="400" alignItems="end">
                <Select
                  label="What"
                  options={[
                    { label: "Everything (full)", value: "full" },
                    { label: "Changes since the last pull (incremental)", value: "incremental" },
                  ]}
                  value={kind}
                  onChange={(value) => setKind(value as typeof kind)}
                />
                <Select
                  label="How"
                  options={[
                    { label: "Automatic", value: "auto" },
                    { label: "Bulk operation", value: "bulk" },
                    { label: "Page by page", value: "paginated" },
                  ]}
                  value={mode}
                  onChange={(value) => setMode(value as typeof mode)}
                />
                <Box>
                  <Button
                    variant="primary"
                    loading={fetcher.state !== "idle"}
                    disabled={Boolean(active)}
                    onClick={() => fetcher.submit({ intent: "start", kind, mode }, { method: "post" })}
                  >
                    Start pull
                  </Button>
                </Box>
              </InlineGrid>
              {active ? (
                <BlockStack gap="300">
                  <InlineStack align="space-between" blockAlign="center" gap="200" wrap>
                    <Text as="p" fontWeight="semibold">
                      {active.kind === "full" ? "Full" : "Incremental"} pull (
                      {active.mode === "bulk" ? "bulk operation" : "page by page"}):{" "}
                      {active.cancelRequested ? "cancelling" : active.status}
                    </Text>
                    <Button
                      tone="critical"
                      disabled={active.cancelRequested}
                      onClick={() => fetcher.submit({ intent: "cancel", pullId: active.id }, { method: "post" })}
                    >
                      {active.cancelRequested ? "Cancelling…" : "Cancel"}
                    </Button>
                  </InlineStack>
                  {active.steps.map((step) => {
                    const phase = stepPhase(format, step);
                    const labelId = `pull-step-${step.resource}`;
                    return (
                      <BlockStack gap="100" key={step.resource}>
                        <Text as="p" id={labelId}>
                          <Text as="span" fontWeight="semibold">
                            {TITLES[step.resource]}:
                          </Text>{" "}
                          {phase.text}
                          {phase.fraction !== null && phase.fraction < 1
                            ? ` (${format.percent(phase.fraction, 0)})`
                            : ""}
                        </Text>
                        {phase.fraction !== null ? (
                          <ProgressBar
                            progress={Math.round(phase.fraction * 100)}
                            ariaLabelledBy={labelId}
                            size="small"
                          />
                        ) : null}
                      </BlockStack>
                    );
                  })}
                </BlockStack>
              ) : null}
            </BlockStack>
          </Card>
        </Layout.Section>
        <Layout.Section>
          <Card padding="0">
            <DataTable
              columnContentTypes={["text", "text", "text", "text", "numeric", "text"]}
              headings={["Requested", "Kind", "Started by", "Status", "Seconds", "Details"]}
              rows={pulls.map((pull) => [
                format.dateTime(pull.requestedAt),
                `${pull.kind} · ${pull.mode}`,
                pull.trigger,
                <Badge key={pull.id} tone={statusTone[pull.status as keyof typeof statusTone]}>
                  {pull.status}
                </Badge>,
                pull.seconds === null ? "—" : format.number(pull.seconds, 1),
                pull.error ?? pullSummary(format, pull.steps),
              ])}
            />
          </Card>
          <Box paddingBlockStart="200">
            <Text as="p" variant="bodySm" tone="subdued">
              {format.timeZoneNote()}
            </Text>
          </Box>
        </Layout.Section>
        <Layout.Section>
          <Card>
            <BlockStack gap="200">
              <Text as="h2" variant="headingMd">
                Predictions in Shopify
              </Text>
              <Text as="p">{metafieldLine(format, metafields)}</Text>
              <Text as="p" variant="bodySm" tone="subdued">
                Customer metafields (predicted value, probability active, churn risk, expected next order, RFM segment),
                written after each segmentation run: filter Shopify customer segments and Flow on them.
              </Text>
            </BlockStack>
          </Card>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
