import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { Link, useFetcher, useLoaderData, useRevalidator } from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import {
  Badge,
  Banner,
  BlockStack,
  Box,
  Button,
  Card,
  DataTable,
  EmptyState,
  InlineStack,
  Layout,
  Page,
  ProgressBar,
  Text,
  Tooltip,
} from "@shopify/polaris";
import { useEffect } from "react";
import { z } from "zod";
import { useShopFormat } from "../components/format";
import { requestRunCancel, requestSegmentation } from "../models/segmentation-runs.server";
import { latestRunProgress, listSegments, predictionStatus, rfmGrid } from "../models/segments.server";
import { llmConfigured } from "../services/llm.server";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const [segments, grid, run, predictions] = await Promise.all([
    listSegments(session.shop),
    rfmGrid(session.shop),
    latestRunProgress(session.shop),
    predictionStatus(session.shop),
  ]);
  return {
    segments: segments.map((segment) => ({
      id: segment.id,
      kind: segment.kind,
      name: segment.name,
      description: segment.description,
      namedBy: segment.namedBy,
      size: segment.size,
      trend: segment.trend,
      revenueShare: segment.revenueShare,
      averageOrderValue: segment.averageOrderValue,
      syncStatus: segment.syncStatus,
    })),
    grid,
    run: run && {
      id: run.id,
      status: run.status,
      stage: run.stage,
      progress: run.progress,
      error: run.error,
      finishedAt: run.finishedAt?.toISOString() ?? null,
      cancelRequested: run.cancelRequested,
      namingFallbacks: run.namingFallbacks,
    },
    predictions,
    // Without an LLM the standard names are the design, not a failure worth a banner.
    aiNaming: llmConfigured(),
  };
};

const segmentsAction = z.discriminatedUnion("intent", [
  z.object({ intent: z.literal("run") }),
  z.object({ intent: z.literal("cancel"), runId: z.uuid() }),
]);

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const parsed = segmentsAction.safeParse(Object.fromEntries(await request.formData()));
  if (!parsed.success) return Response.json({ error: "invalid request" }, { status: 400 });
  if (parsed.data.intent === "cancel") return { cancelled: await requestRunCancel(session.shop, parsed.data.runId) };
  const run = await requestSegmentation({ shop: session.shop, trigger: "merchant" });
  return { started: run.id };
};

const percent = (share: number) => `${(share * 100).toFixed(1)}%`;
const money = (amount: string) => Number(amount).toLocaleString("en-US", { maximumFractionDigits: 2 });

function Trend({ change }: { change: number | null }) {
  if (change === null) return <Badge tone="info">new</Badge>;
  if (change === 0) return <Text as="span">±0</Text>;
  return (
    <Text as="span" tone={change > 0 ? "success" : "critical"}>
      {change > 0 ? `+${change}` : change}
    </Text>
  );
}

/** Customers per recency (rows, 5 = most recent) and frequency (columns) score: where the base sits. */
function RfmGridChart({ grid }: { grid: Awaited<ReturnType<typeof rfmGrid>> }) {
  const max = Math.max(1, ...grid.cells.map((cell) => cell.customers));
  const cell = (r: number, f: number) => grid.cells.find((c) => c.r === r && c.f === f)!;
  return (
    <table style={{ borderCollapse: "separate", borderSpacing: 4, width: "100%" }} aria-label="RFM grid">
      <tbody>
        {[5, 4, 3, 2, 1].map((r) => (
          <tr key={r}>
            <th scope="row" style={{ width: 56, textAlign: "right", paddingRight: 8, fontWeight: 500 }}>
              R{r}
            </th>
            {[1, 2, 3, 4, 5].map((f) => {
              const { customers, revenue } = cell(r, f);
              const strength = customers / max;
              return (
                <td
                  key={f}
                  title={`R${r} F${f}: ${customers} customers, ${money(revenue)} revenue`}
                  style={{
                    height: 44,
                    textAlign: "center",
                    borderRadius: 6,
                    background: `rgba(0, 91, 211, ${0.08 + 0.82 * strength})`,
                    color: strength > 0.5 ? "white" : "inherit",
                  }}
                >
                  {customers.toLocaleString("en-US")}
                </td>
              );
            })}
          </tr>
        ))}
        <tr>
          <td />
          {[1, 2, 3, 4, 5].map((f) => (
            <th key={f} scope="col" style={{ fontWeight: 500 }}>
              F{f}
            </th>
          ))}
        </tr>
      </tbody>
    </table>
  );
}

export default function SegmentsPage() {
  const format = useShopFormat();
  const { segments, grid, run, predictions, aiNaming } = useLoaderData<typeof loader>();
  const fetcher = useFetcher<typeof action>();
  const revalidator = useRevalidator();
  const active = run && (run.status === "queued" || run.status === "running");

  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => revalidator.state === "idle" && revalidator.revalidate(), 1500);
    return () => clearInterval(timer);
  }, [active, revalidator]);

  const rows = (kind: "rfm" | "micro") =>
    segments
      .filter((segment) => segment.kind === kind)
      .map((segment) => [
        <Link key={segment.id} to={`/app/segments/${segment.id}`}>
          {segment.name}
        </Link>,
        segment.size.toLocaleString("en-US"),
        percent(segment.revenueShare),
        money(segment.averageOrderValue),
        <Trend key={`${segment.id}-trend`} change={segment.trend} />,
        segment.syncStatus === "succeeded" ? (
          <Badge key={`${segment.id}-sync`} tone="success">
            in Shopify
          </Badge>
        ) : (
          (segment.syncStatus ?? "")
        ),
      ]);

  return (
    <Page>
      <TitleBar title="Segments" />
      <Layout>
        <Layout.Section>
          <Card>
            <BlockStack gap="300">
              <InlineStack align="space-between" blockAlign="center">
                <BlockStack gap="100">
                  <Text as="h2" variant="headingMd">
                    Customer segments
                  </Text>
                  <Text as="p" tone="subdued">
                    {run?.finishedAt && run.status === "succeeded"
                      ? `Last computed ${format.dateTime(run.finishedAt)}. They are recomputed after every data pull.`
                      : "Segments are computed after every data pull, or when you ask."}
                  </Text>
                </BlockStack>
                <InlineStack gap="200">
                  {active && run ? (
                    <Button
                      tone="critical"
                      disabled={run.cancelRequested}
                      onClick={() => fetcher.submit({ intent: "cancel", runId: run.id }, { method: "post" })}
                    >
                      {run.cancelRequested ? "Cancelling…" : "Cancel"}
                    </Button>
                  ) : null}
                  <Button
                    variant="primary"
                    disabled={Boolean(active)}
                    loading={fetcher.state !== "idle"}
                    onClick={() => fetcher.submit({ intent: "run" }, { method: "post" })}
                  >
                    Regenerate
                  </Button>
                </InlineStack>
              </InlineStack>
              {active && run ? (
                <BlockStack gap="100">
                  <Text as="p">
                    {run.status === "queued" ? "Waiting to start…" : `Working: ${run.stage ?? "starting"}`}
                  </Text>
                  <ProgressBar progress={run.progress} />
                </BlockStack>
              ) : null}
              {run?.status === "failed" ? <Banner tone="critical">The last run failed: {run.error}</Banner> : null}
              {aiNaming && run && run.namingFallbacks > 0 && !active ? (
                <Banner tone="info">
                  Some segments carry standard names because the AI service was unavailable; they are renamed on the
                  next run.
                </Banner>
              ) : null}
              {!predictions.shown && predictions.reason ? (
                <Text as="p" tone="subdued">
                  Predicted value is not shown: {predictions.reason}
                </Text>
              ) : null}
            </BlockStack>
          </Card>
        </Layout.Section>
        {segments.length === 0 ? (
          <Layout.Section>
            <Card>
              <EmptyState heading="No segments yet" image="">
                <p>They appear once your store&apos;s data has been pulled and the first run has finished.</p>
              </EmptyState>
            </Card>
          </Layout.Section>
        ) : (
          <>
            <Layout.Section>
              <Card padding="0">
                <Box padding="400">
                  <Text as="h2" variant="headingMd">
                    Micro-segments
                  </Text>
                </Box>
                <DataTable
                  columnContentTypes={["text", "numeric", "numeric", "numeric", "numeric", "text"]}
                  headings={["Segment", "Customers", "Revenue share", "Avg. order", "Trend", "Shopify"]}
                  rows={rows("micro")}
                  footerContent={`${rows("micro").length} groups large enough to act on`}
                />
              </Card>
            </Layout.Section>
            <Layout.Section variant="oneHalf">
              <Card padding="0">
                <Box padding="400">
                  <Text as="h2" variant="headingMd">
                    RFM segments
                  </Text>
                </Box>
                <DataTable
                  columnContentTypes={["text", "numeric", "numeric", "numeric", "numeric", "text"]}
                  headings={["Segment", "Customers", "Revenue share", "Avg. order", "Trend", "Shopify"]}
                  rows={rows("rfm")}
                />
              </Card>
            </Layout.Section>
            <Layout.Section variant="oneHalf">
              <Card>
                <BlockStack gap="200">
                  <InlineStack align="space-between">
                    <Text as="h2" variant="headingMd">
                      RFM grid
                    </Text>
                    <Tooltip content="Recency score by frequency score; monetary value is inside each named segment's rule.">
                      <Text as="span" tone="subdued">
                        {grid.customers.toLocaleString("en-US")} customers
                      </Text>
                    </Tooltip>
                  </InlineStack>
                  <RfmGridChart grid={grid} />
                </BlockStack>
              </Card>
            </Layout.Section>
          </>
        )}
      </Layout>
    </Page>
  );
}
