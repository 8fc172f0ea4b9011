import type { ActionFunctionArgs, HeadersFunction, LoaderFunctionArgs } from "@remix-run/node";
import { useFetcher, useLoaderData, useSearchParams } from "@remix-run/react";
import {
  AppProvider,
  Badge,
  BlockStack,
  Button,
  Card,
  DataTable,
  InlineStack,
  Layout,
  Page,
  Select,
  Text,
} from "@shopify/polaris";
import polarisStyles from "@shopify/polaris/build/esm/styles.css?url";
import en from "@shopify/polaris/locales/en.json";
import { z } from "zod";
import { formatCount, formatDateTime, timeZoneNote } from "../components/format";
import { cancelJobs, listJobs, queueDepths, retryJobs, type JobState } from "../models/job-queue.server";
import { opsAuthorized, opsEnabled } from "../services/ops-auth.server";
import { parseQuery } from "../services/request-input.server";

/**
 * The operator page (the role Flower played for the old service): queues,
 * running and failed jobs, retry and cancel. Not part of the merchant's app:
 * not embedded, no Shopify session, its own secret (HTTP Basic).
 */

export const links = () => [{ rel: "stylesheet", href: polarisStyles }];

export const headers: HeadersFunction = () => ({
  "content-security-policy": "frame-ancestors 'none'",
  "x-frame-options": "DENY",
  "cache-control": "no-store",
});

/** server.ts asks for the secret before Remix runs; this holds even if a request got here another way. */
function requireOperator(request: Request) {
  if (!opsEnabled() || !opsAuthorized(request.headers.get("authorization"))) {
    throw new Response("Not found", { status: 404 });
  }
}

const STATES = ["running", "ready", "scheduled", "failed"] as const;
const jobFilter = z.object({
  state: z.enum(STATES).optional().catch(undefined),
  task: z.string().max(100).optional().catch(undefined),
});

export const loader = async ({ request }: LoaderFunctionArgs) => {
  requireOperator(request);
  const filter = parseQuery(request, jobFilter);
  const [depths, jobs] = await Promise.all([queueDepths(), listJobs({ ...filter, limit: 100 })]);
  return {
    depths,
    jobs: jobs.map((job) => ({
      id: job.id,
      task: job.task,
      queue: job.queue,
      state: job.state,
      attempts: `${job.attempts}/${job.maxAttempts}`,
      runAt: job.runAt.toISOString(),
      lockedBy: job.lockedBy,
      lastError: job.lastError?.slice(0, 300) ?? null,
    })),
  };
};

const jobAction = z.object({ intent: z.enum(["retry", "cancel"]), id: z.string().regex(/^\d+$/) });

export const action = async ({ request }: ActionFunctionArgs) => {
  requireOperator(request);
  // Browsers resend Basic credentials on their own: refuse changes that another site's page asked for.
  const site = request.headers.get("sec-fetch-site");
  const origin = request.headers.get("origin");
  if ((site && site !== "same-origin") || (origin && origin !== new URL(request.url).origin)) {
    return Response.json({ error: "cross-site request refused" }, { status: 403 });
  }
  const parsed = jobAction.safeParse(Object.fromEntries(await request.formData()));
  if (!parsed.success) return Response.json({ error: "invalid request" }, { status: 400 });
  const changed =
    parsed.data.intent === "retry" ? await retryJobs([parsed.data.id]) : await cancelJobs([parsed.data.id]);
  return { changed };
};

const tone: Record<JobState, "info" | "success" | "critical" | undefined> = {
  running: "info",
  ready: "success",
  scheduled: undefined,
  failed: "critical",
};

export default function OperatorPage() {
  const { depths, jobs } = useLoaderData<typeof loader>();
  const fetcher = useFetcher<typeof action>();
  const [params, setParams] = useSearchParams();
  const tasks = [...new Set(depths.map((row) => row.task))];
  const countOf = (task: string, state: JobState) =>
    depths.find((row) => row.task === task && row.state === state)?.jobs ?? 0;
  const setFilter = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next);
  };

  return (
    <AppProvider i18n={en}>
      <Page title="Operations" subtitle={`Job queues of every shop · ${timeZoneNote("UTC")}`}>
        <Layout>
          <Layout.Section>
            <Card padding="0">
              <DataTable
                columnContentTypes={["text", "numeric", "numeric", "numeric", "numeric"]}
                headings={["Task", "Running", "Ready", "Scheduled", "Failed"]}
                rows={tasks.map((task) => [task, ...STATES.map((state) => formatCount(countOf(task, state)))])}
                footerContent={tasks.length === 0 ? "The queue is empty." : undefined}
              />
            </Card>
          </Layout.Section>
          <Layout.Section>
            <Card>
              <BlockStack gap="300">
                <InlineStack gap="300" blockAlign="end">
                  <Select
                    label="State"
                    options={[{ label: "Any", value: "" }, ...STATES.map((state) => ({ label: state, value: state }))]}
                    value={params.get("state") ?? ""}
                    onChange={(value) => setFilter("state", value)}
                  />
                  <Select
                    label="Task"
                    options={[{ label: "Any", value: "" }, ...tasks.map((task) => ({ label: task, value: task }))]}
                    value={params.get("task") ?? ""}
                    onChange={(value) => setFilter("task", value)}
                  />
                </InlineStack>
                <DataTable
                  columnContentTypes={["text", "text", "text", "text", "text", "text", "text"]}
                  headings={["Job", "Task", "State", "Attempts", "Run at", "Last error", ""]}
                  rows={jobs.map((job) => [
                    job.id,
                    job.task,
                    <Badge key={job.id} tone={tone[job.state]}>
                      {job.state}
                    </Badge>,
                    job.attempts,
                    formatDateTime(job.runAt, "UTC"),
                    <Text key={`${job.id}-error`} as="span" tone="critical" variant="bodySm">
                      {job.lastError ?? ""}
                    </Text>,
                    job.state === "running" ? (
                      ""
                    ) : (
                      <InlineStack key={`${job.id}-actions`} gap="200">
                        <Button
                          size="slim"
                          onClick={() => fetcher.submit({ intent: "retry", id: job.id }, { method: "post" })}
                        >
                          Retry
                        </Button>
                        {job.state !== "failed" ? (
                          <Button
                            size="slim"
                            tone="critical"
                            onClick={() => fetcher.submit({ intent: "cancel", id: job.id }, { method: "post" })}
                          >
                            Cancel
                          </Button>
                        ) : null}
                      </InlineStack>
                    ),
                  ])}
                  footerContent={`${formatCount(jobs.length)} most recent jobs`}
                />
              </BlockStack>
            </Card>
          </Layout.Section>
        </Layout>
      </Page>
    </AppProvider>
  );
}
