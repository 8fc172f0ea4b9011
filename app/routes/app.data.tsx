import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { useFetcher, useLoaderData, useRevalidator } from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import {
  Badge,
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
import { useShopFormat } from "../components/format";
import { createPull, recentPulls, requestCancel } from "../models/pulls.server";
import { storeCounts } from "../models/store-data.server";
import { authenticate } from "../shopify.server";

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const [pulls, counts] = await Promise.all([recentPulls(session.shop, 15), storeCounts(session.shop)]);
  return {
    counts,
    pulls: pulls.map((pull) => ({
      id: pull.id,
      kind: pull.kind,
      mode: pull.mode,
      trigger: pull.trigger,
      status: pull.status,
      error: pull.error,
      requestedAt: pull.requestedAt.toISOString(),
      seconds:
        pull.startedAt && pull.finishedAt
          ? Math.round((pull.finishedAt.getTime() - pull.startedAt.getTime()) / 100) / 10
          : null,
      cancelRequested: Boolean(pull.cancelRequestedAt),
      steps: pull.steps.map((step) => ({
        resource: step.resource,
        status: step.status,
        processed: step.processed,
        total: step.total,
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

function progressOf(steps: { processed: number; total: number | null; status: string }[]) {
  const done = steps.filter((step) => step.status === "succeeded").length;
  const fractions = steps.map((step) =>
    step.status === "succeeded" ? 1 : step.total ? Math.min(1, step.processed / step.total) : 0,
  );
  return { done, percent: Math.round((fractions.reduce((a, b) => a + b, 0) / Math.max(1, steps.length)) * 100) };
}

export default function DataPage() {
  const format = useShopFormat();
  const { counts, pulls } = useLoaderData<typeof loader>();
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

  const progress = active ? progressOf(active.steps) : null;
  return (
    <Page>
      <TitleBar title="Data" />
      <Layout>
        <Layout.Section>
          <InlineGrid columns={3} gap="400">
            {(["customers", "orders", "products"] as const).map((resource) => (
              <Card key={resource}>
                <BlockStack gap="100">
                  <Text as="h3" variant="headingSm" tone="subdued">
                    {resource[0]!.toUpperCase() + resource.slice(1)}
                  </Text>
                  <Text as="p" variant="heading2xl">
                    {counts[resource].toLocaleString("en-US")}
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
              <InlineStack gap="400" blockAlign="end">
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
                <Button
                  variant="primary"
                  loading={fetcher.state !== "idle"}
                  disabled={Boolean(active)}
                  onClick={() => fetcher.submit({ intent: "start", kind, mode }, { method: "post" })}
                >
                  Start pull
                </Button>
              </InlineStack>
              {active && progress ? (
                <BlockStack gap="200">
                  <InlineStack align="space-between">
                    <Text as="p">
                      {active.kind === "full" ? "Full" : "Incremental"} pull ({active.mode}) {active.status}:{" "}
                      {active.steps
                        .map(
                          (step) =>
                            `${step.resource} ${step.processed.toLocaleString("en-US")}${step.total ? `/${step.total.toLocaleString("en-US")}` : ""}`,
                        )
                        .join(" · ")}
                    </Text>
                    <Button
                      tone="critical"
                      disabled={active.cancelRequested}
                      onClick={() => fetcher.submit({ intent: "cancel", pullId: active.id }, { method: "post" })}
                    >
                      {active.cancelRequested ? "Cancelling…" : "Cancel"}
                    </Button>
                  </InlineStack>
                  <ProgressBar progress={progress.percent} ariaLabelledBy="pull-progress" />
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
                pull.seconds ?? "—",
                pull.error ??
                  pull.steps.map((step) => `${step.resource}: ${step.processed.toLocaleString("en-US")}`).join(", "),
              ])}
            />
          </Card>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
