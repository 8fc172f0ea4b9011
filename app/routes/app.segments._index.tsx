import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { Link, useFetcher, useLoaderData, useRevalidator, useSearchParams } from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import vizStyles from "@shopify/polaris-viz/build/esm/styles.css?url";
import {
  Badge,
  Banner,
  BlockStack,
  Box,
  Button,
  Card,
  EmptyState,
  IndexTable,
  InlineStack,
  Layout,
  Page,
  Pagination,
  ProgressBar,
  Select,
  Text,
  TextField,
} from "@shopify/polaris";
import type { IndexTableHeading } from "@shopify/polaris/build/ts/src/components/IndexTable";
import type { NonEmptyArray } from "@shopify/polaris/build/ts/src/types";
import { useEffect, useState } from "react";
import { z } from "zod";
import { BarChart, PolarisVizProvider } from "@shopify/polaris-viz";
import { ChartBox } from "../components/chart-box";
import { type ShopFormatters, useShopFormat } from "../components/format";
import { NumericCell } from "../components/numeric-cell";
import { segmentMovements } from "../models/segment-movements.server";
import { requestRunCancel, requestSegmentation } from "../models/segmentation-runs.server";
import {
  latestRunProgress,
  predictionStatus,
  rfmGrid,
  SEGMENT_FAMILIES,
  SEGMENT_SORTS,
  segmentCatalog,
  type SegmentFamily,
} from "../models/segments.server";
import { llmConfigured } from "../services/llm.server";
import { authenticate } from "../shopify.server";
import { parseQuery, wholeNumber } from "../services/request-input.server";

export const links = () => [{ rel: "stylesheet", href: vizStyles }];

const PAGE_SIZE = 20;
const FAMILY_KEYS = Object.keys(SEGMENT_FAMILIES) as [SegmentFamily, ...SegmentFamily[]];

/** The table's state lives in the URL; an unknown word falls back to its default, a number out of range is refused. */
const listQuery = z.object({
  q: z.string().max(100).catch(""),
  kind: z.enum(["all", ...FAMILY_KEYS]).catch("all"),
  sort: z.enum(SEGMENT_SORTS).catch("size"),
  dir: z.enum(["asc", "desc"]).optional().catch(undefined),
  page: wholeNumber(1, 100_000).default(1),
});

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const query = parseQuery(request, listQuery);
  const [catalog, grid, run, predictions, movements] = await Promise.all([
    segmentCatalog(session.shop, {
      search: query.q,
      family: query.kind,
      sort: query.sort,
      direction: query.dir,
      page: query.page,
      pageSize: PAGE_SIZE,
    }),
    rfmGrid(session.shop),
    latestRunProgress(session.shop),
    predictionStatus(session.shop),
    segmentMovements(session.shop),
  ]);
  const row = (segment: (typeof catalog.segments)[number]) => ({
    id: segment.id,
    kind: segment.kind,
    family: segment.family,
    familyLabel: SEGMENT_FAMILIES[segment.family],
    name: segment.name,
    size: segment.size,
    trend: segment.trend,
    revenue: segment.revenue,
    revenueShare: segment.revenueShare,
    customerShare: catalog.totals.scored > 0 ? segment.size / catalog.totals.scored : 0,
    averageOrderValue: segment.averageOrderValue,
    expectedSpend365: segment.expectedSpend365,
    expectedSpendShare: segment.expectedSpendShare,
    syncStatus: segment.syncStatus,
  });
  return {
    query: { ...query, dir: catalog.direction, page: catalog.page },
    segments: catalog.segments.map(row),
    matching: catalog.matching,
    pages: catalog.pages,
    totalSegments: catalog.all.length,
    microSegments: catalog.all.filter((segment) => segment.kind === "micro").length,
    families: FAMILY_KEYS.filter((key) => catalog.familyCounts[key] > 0).map((key) => ({
      value: key,
      label: `${SEGMENT_FAMILIES[key]} (${catalog.familyCounts[key]})`,
    })),
    totals: catalog.totals,
    grid,
    movements,
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

type LoaderData = ReturnType<typeof useLoaderData<typeof loader>>;
type SortKey = (typeof SEGMENT_SORTS)[number];

function Trend({ change, format }: { change: number | null; format: ShopFormatters }) {
  if (change === null) return <Badge tone="info">new</Badge>;
  if (change === 0) return <Text as="span">±0</Text>;
  return (
    <Text as="span" tone={change > 0 ? "success" : "critical"}>
      {change > 0 ? `+${format.count(change)}` : format.count(change)}
    </Text>
  );
}

/** Wide tables scroll inside their card, never the page (phone width). */
function Scroll({ children }: { children: React.ReactNode }) {
  return <div style={{ overflowX: "auto", maxWidth: "100%" }}>{children}</div>;
}

/** Customers per recency (rows, 5 = most recent) and frequency (columns) score: where the base sits. */
function RfmGridChart({ grid, format }: { grid: LoaderData["grid"]; format: ShopFormatters }) {
  const max = Math.max(1, ...grid.cells.map((cell) => cell.customers));
  const cell = (r: number, f: number) => grid.cells.find((c) => c.r === r && c.f === f)!;
  return (
    <table style={{ borderCollapse: "separate", borderSpacing: 4, width: "100%" }} aria-label="RFM grid">
      <tbody>
        {[5, 4, 3, 2, 1].map((r) => (
          <tr key={r}>
            <th scope="row" style={{ width: 36, textAlign: "right", paddingRight: 4, fontWeight: 500 }}>
              R{r}
            </th>
            {[1, 2, 3, 4, 5].map((f) => {
              const { customers, revenue } = cell(r, f);
              const strength = customers / max;
              return (
                <td
                  key={f}
                  title={`R${r} F${f}: ${format.count(customers)} customers, ${format.money(revenue)} revenue`}
                  style={{
                    height: 44,
                    textAlign: "center",
                    borderRadius: 6,
                    background: `rgba(0, 91, 211, ${0.08 + 0.82 * strength})`,
                    color: strength > 0.5 ? "white" : "inherit",
                  }}
                >
                  {format.count(customers)}
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

/** Empty F columns that the same jump explains, together ("F2 or F3"). */
function emptyColumnGroups(empties: LoaderData["grid"]["emptyFrequencyScores"]) {
  const groups: (Omit<(typeof empties)[number], "score"> & { scores: number[] })[] = [];
  for (const { score, ...rest } of empties) {
    const last = groups[groups.length - 1];
    if (last && last.nextScore === rest.nextScore) last.scores.push(score);
    else groups.push({ ...rest, scores: [score] });
  }
  return groups;
}

function RfmGridNotes({ grid, format }: { grid: LoaderData["grid"]; format: ShopFormatters }) {
  return (
    <BlockStack gap="100">
      <Text as="p" tone="subdued">
        {format.count(grid.shopCustomers)} customers: {format.count(grid.customers)} with orders are scored;{" "}
        {format.count(grid.withoutOrders)} without orders are not in the grid.
      </Text>
      {emptyColumnGroups(grid.emptyFrequencyScores).map((group) => {
        const scores = group.scores.map((score) => `F${score}`).join(" or ");
        const { nextScore, orders, shareBelow } = group;
        return (
          <Text as="p" tone="subdued" key={scores}>
            {nextScore === null || orders === null || shareBelow === null
              ? `No customer has ${scores}: too few customers order more often than the rest.`
              : `No customer has ${scores}: ${format.percent(shareBelow)} of scored customers have fewer than ${format.count(orders)} orders, so ${format.count(orders)} orders already rank above them and score F${nextScore}. Equal order counts always share a score, so the scores in between stay empty.`}
          </Text>
        );
      })}
    </BlockStack>
  );
}

/** Share of customers and of revenue of the segments in the table. */
function SizeAndRevenueChart({ segments, format }: { segments: LoaderData["segments"]; format: ShopFormatters }) {
  const shown = segments.slice(0, 10);
  const data = [
    { name: "Share of customers", data: shown.map((s) => ({ key: s.name, value: s.customerShare })) },
    { name: "Share of revenue", data: shown.map((s) => ({ key: s.name, value: s.revenueShare })) },
  ];
  return (
    <ChartBox height={80 + shown.length * 56} label="Segments by share of customers and revenue">
      <PolarisVizProvider>
        <BarChart
          // A new set of segments is a new chart: polaris-viz keeps its first measurements otherwise.
          key={shown.map((segment) => segment.id).join()}
          data={data}
          isAnimated={false}
          direction="horizontal"
          theme="Light"
          xAxisOptions={{ labelFormatter: (value) => format.percent(Number(value), 0) }}
          yAxisOptions={{ labelFormatter: (value) => String(value ?? "") }}
          tooltipOptions={{ valueFormatter: (value) => format.percent(Number(value)) }}
        />
      </PolarisVizProvider>
    </ChartBox>
  );
}

function MovementMatrix({ movements, format }: { movements: LoaderData["movements"]; format: ShopFormatters }) {
  const max = Math.max(1, ...movements.customers.flat());
  const moves = movements.segments
    .flatMap((from, i) =>
      movements.segments.map((to, j) => ({ from, to, customers: movements.customers[i]![j]!, stayed: i === j })),
    )
    .filter((move) => !move.stayed && move.customers > 0)
    .sort((x, y) => y.customers - x.customers)
    .slice(0, 5);
  return (
    <BlockStack gap="300">
      <Text as="p" tone="subdued">
        Of {format.count(movements.compared)} customers scored in both of the last two runs,{" "}
        {format.count(movements.stayed)} stayed in their segment (the diagonal) and{" "}
        {format.count(movements.compared - movements.stayed)} moved.
        {movements.newlyScored > 0 ? ` ${format.count(movements.newlyScored)} were scored for the first time.` : ""}
      </Text>
      {moves.length > 0 ? (
        <BlockStack gap="100">
          <Text as="h3" variant="headingSm">
            Largest moves
          </Text>
          {moves.map((move) => (
            <Text as="p" key={`${move.from.key}-${move.to.key}`}>
              {move.from.name} → {move.to.name}: {format.count(move.customers)} customers
            </Text>
          ))}
        </BlockStack>
      ) : null}
      <Scroll>
        <table
          aria-label="Movement between segments"
          style={{ borderCollapse: "separate", borderSpacing: 2, fontSize: 12, minWidth: 640 }}
        >
          <thead>
            <tr>
              <th scope="col" style={{ textAlign: "left", fontWeight: 500 }}>
                From ↓ / to →
              </th>
              {movements.segments.map((to) => (
                <th key={to.key} scope="col" style={{ fontWeight: 500, padding: "0 2px", verticalAlign: "bottom" }}>
                  {to.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {movements.segments.map((from, i) => (
              <tr key={from.key}>
                <th scope="row" style={{ textAlign: "left", fontWeight: 500, whiteSpace: "nowrap", paddingRight: 6 }}>
                  {from.name}
                </th>
                {movements.segments.map((to, j) => {
                  const customers = movements.customers[i]![j]!;
                  const strength = customers / max;
                  const stayed = i === j;
                  return (
                    <td
                      key={to.key}
                      title={`${from.name} → ${to.name}: ${format.count(customers)} customers`}
                      style={{
                        textAlign: "center",
                        height: 28,
                        borderRadius: 4,
                        background: customers
                          ? stayed
                            ? `rgba(110, 110, 110, ${0.1 + 0.6 * strength})`
                            : `rgba(0, 91, 211, ${0.1 + 0.8 * strength})`
                          : "transparent",
                        color: strength > 0.5 ? "white" : "inherit",
                        outline: stayed ? "1px solid rgba(0,0,0,0.15)" : undefined,
                      }}
                    >
                      {customers ? format.count(customers) : "·"}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
    </BlockStack>
  );
}

const COLUMNS: { title: string; sort: SortKey | null; numeric?: boolean; predicted?: boolean }[] = [
  { title: "Segment", sort: "name" },
  { title: "Customers", sort: "size", numeric: true },
  { title: "Revenue", sort: "revenue", numeric: true },
  { title: "Avg. order", sort: "aov", numeric: true },
  { title: "Predicted 365 days", sort: "predicted", numeric: true, predicted: true },
  { title: "Trend", sort: "trend", numeric: true },
  { title: "Kind", sort: null },
  { title: "Shopify", sort: null },
];

export default function SegmentsPage() {
  const format = useShopFormat();
  const data = useLoaderData<typeof loader>();
  const { segments, grid, run, predictions, aiNaming, query, movements } = data;
  const fetcher = useFetcher<typeof action>();
  const revalidator = useRevalidator();
  const [, setParams] = useSearchParams();
  const active = run && (run.status === "queued" || run.status === "running");
  const [search, setSearch] = useState(query.q);

  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => revalidator.state === "idle" && revalidator.revalidate(), 1500);
    return () => clearInterval(timer);
  }, [active, revalidator]);

  // Keeps the embedded app's own parameters (shop, host) and changes only the table's.
  const update = (changes: Record<string, string | null>) =>
    setParams(
      (previous) => {
        const next = new URLSearchParams(previous);
        for (const [key, value] of Object.entries(changes)) {
          if (value === null || value === "") next.delete(key);
          else next.set(key, value);
        }
        return next;
      },
      { preventScrollReset: true, replace: true },
    );

  useEffect(() => {
    if (search === query.q) return;
    const timer = setTimeout(() => update({ q: search, page: null }), 300);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [search]);

  const columns = COLUMNS.filter((column) => !column.predicted || predictions.shown);
  const sortColumnIndex = columns.findIndex((column) => column.sort === query.sort);
  const hasSegments = data.totalSegments > 0;

  return (
    <Page>
      <TitleBar title="Segments" />
      <Layout>
        <Layout.Section>
          <Card>
            <BlockStack gap="300">
              <InlineStack align="space-between" blockAlign="center" gap="200">
                <BlockStack gap="100">
                  <Text as="h2" variant="headingMd">
                    Customer segments
                  </Text>
                  <Text as="p" tone="subdued">
                    {run?.finishedAt && run.status === "succeeded"
                      ? `Last computed ${format.dateTime(run.finishedAt)}; they are recomputed after every data pull. ${format.timeZoneNote()}.`
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
              {predictions.shown && data.totals.expectedSpend365 !== null ? (
                <Text as="p">
                  Predicted spend of your customers over the next 365 days: {format.money(data.totals.expectedSpend365)}
                  .
                </Text>
              ) : null}
              {!predictions.shown && predictions.reason ? (
                <Text as="p" tone="subdued">
                  Predicted value is not shown: {predictions.reason}
                </Text>
              ) : null}
            </BlockStack>
          </Card>
        </Layout.Section>
        {!hasSegments ? (
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
                  <BlockStack gap="300">
                    <Text as="h2" variant="headingMd">
                      All segments
                    </Text>
                    <InlineStack gap="300" wrap>
                      <div style={{ flex: "1 1 220px" }}>
                        <TextField
                          label="Search segments"
                          labelHidden
                          placeholder="Search by name"
                          autoComplete="off"
                          value={search}
                          onChange={setSearch}
                          clearButton
                          onClearButtonClick={() => setSearch("")}
                        />
                      </div>
                      <div style={{ flex: "0 1 260px" }}>
                        <Select
                          label="Kind"
                          labelInline
                          options={[{ value: "all", label: "All kinds" }, ...data.families]}
                          value={query.kind}
                          onChange={(kind) => update({ kind: kind === "all" ? null : kind, page: null })}
                        />
                      </div>
                    </InlineStack>
                  </BlockStack>
                </Box>
                <IndexTable
                  resourceName={{ singular: "segment", plural: "segments" }}
                  itemCount={segments.length}
                  selectable={false}
                  headings={
                    columns.map((column) => ({
                      title: column.title,
                      alignment: column.numeric ? ("end" as const) : undefined,
                      // Names read A to Z first; figures largest first.
                      defaultSortDirection: column.sort === "name" ? ("ascending" as const) : undefined,
                    })) as NonEmptyArray<IndexTableHeading>
                  }
                  sortable={columns.map((column) => column.sort !== null)}
                  sortColumnIndex={sortColumnIndex >= 0 ? sortColumnIndex : undefined}
                  sortDirection={query.dir === "asc" ? "ascending" : "descending"}
                  onSort={(index, direction) => {
                    const sort = columns[index]?.sort;
                    if (sort) update({ sort, dir: direction === "ascending" ? "asc" : "desc", page: null });
                  }}
                  emptyState={
                    <Box padding="400">
                      <Text as="p" tone="subdued">
                        No segment matches this search.
                      </Text>
                    </Box>
                  }
                >
                  {segments.map((segment, position) => (
                    <IndexTable.Row
                      // Rows keyed by place: a new sort or page rewrites rows in place instead of moving them (no layout shift).
                      id={segment.id}
                      key={position}
                      position={position}
                    >
                      <IndexTable.Cell>
                        <Link to={`/app/segments/${segment.id}`}>{segment.name}</Link>
                      </IndexTable.Cell>
                      <NumericCell>{format.count(segment.size)}</NumericCell>
                      <NumericCell>
                        {format.money(segment.revenue)} ({format.percent(segment.revenueShare)})
                      </NumericCell>
                      <NumericCell>{format.money(segment.averageOrderValue)}</NumericCell>
                      {predictions.shown ? (
                        <NumericCell>
                          {format.money(segment.expectedSpend365)} ({format.percent(segment.expectedSpendShare)})
                        </NumericCell>
                      ) : null}
                      <IndexTable.Cell>
                        <div style={{ textAlign: "end" }}>
                          <Trend change={segment.trend} format={format} />
                        </div>
                      </IndexTable.Cell>
                      <IndexTable.Cell>
                        <Text as="span" tone="subdued">
                          {segment.familyLabel}
                        </Text>
                      </IndexTable.Cell>
                      <IndexTable.Cell>
                        {segment.syncStatus === "succeeded" ? (
                          <Badge tone="success">in Shopify</Badge>
                        ) : (
                          (segment.syncStatus ?? "")
                        )}
                      </IndexTable.Cell>
                    </IndexTable.Row>
                  ))}
                </IndexTable>
                <Box padding="400">
                  <BlockStack gap="200">
                    <InlineStack align="space-between" blockAlign="center" gap="200">
                      <Text as="p" tone="subdued">
                        {data.matching === 0
                          ? "No segments"
                          : `${format.count((query.page - 1) * PAGE_SIZE + 1)}–${format.count(
                              (query.page - 1) * PAGE_SIZE + segments.length,
                            )} of ${format.count(data.matching)} segments`}
                      </Text>
                      <Pagination
                        hasPrevious={query.page > 1}
                        onPrevious={() => update({ page: String(query.page - 1) })}
                        hasNext={query.page < data.pages}
                        onNext={() => update({ page: String(query.page + 1) })}
                        label={`Page ${query.page} of ${data.pages}`}
                      />
                    </InlineStack>
                    {data.microSegments > 0 && query.kind !== "rfm" ? (
                      <Text as="p" tone="subdued">
                        Micro-segments overlap: a customer can be in several groups (an RFM segment, a favourite product
                        type, a cadence…), so their shares add to more than 100%. The eleven RFM segments do not
                        overlap: each scored customer is in exactly one.
                      </Text>
                    ) : null}
                  </BlockStack>
                </Box>
              </Card>
            </Layout.Section>
            {segments.length > 0 ? (
              <Layout.Section>
                <Card>
                  <BlockStack gap="200">
                    <Text as="h2" variant="headingMd">
                      Size and revenue
                    </Text>
                    <Text as="p" tone="subdued">
                      Share of scored customers and of revenue, for the first {Math.min(10, segments.length)} segments
                      in the table above.
                    </Text>
                    <SizeAndRevenueChart segments={segments} format={format} />
                  </BlockStack>
                </Card>
              </Layout.Section>
            ) : null}
            <Layout.Section variant="oneHalf">
              <Card>
                <BlockStack gap="200">
                  <Text as="h2" variant="headingMd">
                    RFM grid
                  </Text>
                  <Text as="p" tone="subdued">
                    Customers by recency score (rows) and frequency score (columns); monetary value is inside each named
                    segment&apos;s rule.
                  </Text>
                  <RfmGridChart grid={grid} format={format} />
                  <RfmGridNotes grid={grid} format={format} />
                </BlockStack>
              </Card>
            </Layout.Section>
            <Layout.Section>
              <Card>
                <BlockStack gap="200">
                  <Text as="h2" variant="headingMd">
                    Movement between segments
                  </Text>
                  {movements.compared > 0 ? (
                    <MovementMatrix movements={movements} format={format} />
                  ) : (
                    <Text as="p" tone="subdued">
                      Movement appears after the second run: each run remembers where every customer was in the run
                      before.
                    </Text>
                  )}
                </BlockStack>
              </Card>
            </Layout.Section>
          </>
        )}
      </Layout>
    </Page>
  );
}
