import type { LinksFunction, LoaderFunctionArgs } from "@remix-run/node";
import { Link, useLoaderData } from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import {
  Badge,
  Banner,
  BlockStack,
  Card,
  DataTable,
  EmptyState,
  InlineGrid,
  InlineStack,
  Layout,
  Page,
  Text,
} from "@shopify/polaris";
import { BarChart, LineChart, PolarisVizProvider } from "@shopify/polaris-viz";
import polarisVizStyles from "@shopify/polaris-viz/build/esm/styles.css?url";
import { ChartBox } from "../components/chart-box";
import { Figure } from "../components/figure";
import { Section } from "../components/section";
import { useShopFormat, type ShopFormatters } from "../components/format";
import type { PredictionReport, PurchaseModelName } from "../models/prediction-report.server";
import { shopPredictions } from "../models/shop-predictions.server";
import { authenticate } from "../shopify.server";

export const links: LinksFunction = () => [{ rel: "stylesheet", href: polarisVizStyles }];

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const { run, report, shown, reason } = await shopPredictions(session.shop);
  return {
    shown,
    reason,
    run: run && { asOf: (run.asOf ?? run.finishedAt)?.toISOString() ?? null },
    report,
  };
};

type Loaded = ReturnType<typeof useLoaderData<typeof loader>>;
type Holdout = NonNullable<PredictionReport["holdout"]>;

const MODEL_NAMES: Record<PurchaseModelName, string> = {
  "bg-nbd": "BG/NBD",
  "mbg-nbd": "MBG/NBD",
  "pareto-nbd": "Pareto/NBD",
};

const MODEL_DESCRIPTIONS: Record<PurchaseModelName, string> = {
  "bg-nbd": "a customer may stop buying after any repeat order",
  "mbg-nbd": "a customer may stop buying after any order, the first included",
  "pareto-nbd": "a customer may stop buying at any moment, between orders too",
};

/** Parameters in the order the papers give them (a stored report's JSON keeps no order). */
const PARAMETER_NAMES: Record<string, string> = { r: "r", alpha: "α", a: "a", b: "b", s: "s", beta: "β" };
const PARAMETER_ORDER = Object.keys(PARAMETER_NAMES);

const plural = (count: number, one: string, many: string) => (Math.round(count) === 1 ? one : many);

/**
 * A backtest's error, always relative to what happened and with one decimal, as the run's own sentences (and
 * the API) write it, so every figure of one backtest reads the same; a bound is a whole percent.
 */
const errorShare = (error: number, format: ShopFormatters) => format.percent(Math.abs(error), 1);
const bound = (value: number, format: ShopFormatters) => format.percent(value, 0);

/**
 * The backtest in a sentence: "We predicted 1,240 repeat orders for the last 90 days; 1,187 happened, so the
 * prediction was 4.5% high."
 */
function backtestSentence(holdout: Holdout, format: ShopFormatters): string {
  const predicted = Math.round(holdout.predictedOrders);
  const actual = Math.round(holdout.actualOrders);
  const period = `for the last ${format.count(holdout.days)} ${plural(holdout.days, "day", "days")}`;
  const happened = `${format.count(actual)} happened`;
  if (predicted === 0) return `We predicted no repeat orders ${period}; ${happened}.`;
  if (predicted === actual)
    return `We predicted ${format.count(predicted)} repeat orders ${period}; ${happened}, exactly as many.`;
  const direction = holdout.predictedOrders > holdout.actualOrders ? "high" : "low";
  return `We predicted ${format.count(predicted)} repeat ${plural(predicted, "order", "orders")} ${period}; ${happened}, so the prediction was ${errorShare(holdout.relativeError, format)} ${direction}.`;
}

function Verdict({ data, format }: { data: Loaded; format: ShopFormatters }) {
  const holdout = data.report?.holdout ?? null;
  if (data.shown) {
    return (
      <Banner tone="success" title="Predictions are shown">
        <p>
          {data.report && holdout
            ? `The backtest was ${errorShare(holdout.relativeError, format)} off, within the bound of ${bound(data.report.errorBound, format)}: predicted value, churn risk and next order dates appear on customers and segments.`
            : data.reason}
        </p>
      </Banner>
    );
  }
  return (
    <Banner tone="warning" title="Predictions are not shown">
      <p data-failed-condition>{data.reason}</p>
    </Banner>
  );
}

function Backtest({ report, holdout, format }: { report: PredictionReport; holdout: Holdout; format: ShopFormatters }) {
  return (
    <Section title="How the last prediction turned out">
      <div data-backtest-sentence>
        <Text as="p" variant="headingSm">
          {backtestSentence(holdout, format)}
        </Text>
      </div>
      <Text as="p" tone="subdued">
        {`We held back ${format.day(holdout.start)} – ${format.day(holdout.end)}, fitted the models on the orders before it, ` +
          `predicted each customer's repeat orders in it, and compared with what happened. Same-day orders count once.`}
      </Text>
      <InlineGrid columns={{ xs: 2, md: 4 }} gap="400">
        <Figure label="Customers predicted" value={format.count(holdout.customers)} />
        <Figure label="Predicted repeat orders" value={format.count(Math.round(holdout.predictedOrders))} />
        <Figure label="Actual repeat orders" value={format.count(Math.round(holdout.actualOrders))} />
        <Figure
          label={`Error (shown up to ${bound(report.errorBound, format)})`}
          value={format.change(holdout.relativeError)}
        />
      </InlineGrid>
    </Section>
  );
}

const frequencyLabel = (group: Holdout["byFrequency"][number]) => `${group.frequency}${group.orMore ? "+" : ""}`;

function ByFrequency({ holdout, format }: { holdout: Holdout; format: ShopFormatters }) {
  const groups = holdout.byFrequency;
  const series = (name: "Predicted" | "Actual", value: (group: (typeof groups)[number]) => number) => ({
    name,
    data: groups.map((group) => ({ key: frequencyLabel(group), value: value(group) })),
  });
  const one = (value: number) => format.number(value, 1);
  return (
    <Section title="Predicted against actual, by number of earlier orders">
      <Text as="p" tone="subdued">
        Repeat orders in the holdout for customers grouped by how many repeat orders they had placed before it (0, 1,
        2…). Bars of the same height mean the model judged each group well, not only the total.
      </Text>
      {groups.length === 0 ? (
        <Text as="p" tone="subdued">
          No groups to show.
        </Text>
      ) : (
        <InlineGrid columns={{ xs: 1, md: 2 }} gap="400" alignItems="start">
          <ChartBox height={320} label="Predicted against actual by number of earlier orders">
            <BarChart
              key={groups.map(frequencyLabel).join()}
              data={[series("Predicted", (g) => g.predicted), series("Actual", (g) => g.actual)]}
              isAnimated={false}
              theme="Light"
              xAxisOptions={{ labelFormatter: (value) => String(value ?? "") }}
              yAxisOptions={{ labelFormatter: (value) => format.count(Number(value ?? 0)) }}
              tooltipOptions={{ valueFormatter: (value) => one(Number(value ?? 0)) }}
            />
          </ChartBox>
          <DataTable
            columnContentTypes={["text", "numeric", "numeric", "numeric"]}
            headings={["Earlier orders", "Customers", "Predicted", "Actual"]}
            rows={groups.map((group) => [
              `${format.count(group.frequency)}${group.orMore ? "+" : ""}`,
              format.count(group.customers),
              one(group.predicted),
              one(group.actual),
            ])}
            totals={["", format.count(holdout.customers), one(holdout.predictedOrders), one(holdout.actualOrders)]}
            showTotalsInFooter
          />
        </InlineGrid>
      )}
    </Section>
  );
}

function Weekly({ holdout, format }: { holdout: Holdout; format: ShopFormatters }) {
  const weeks = holdout.weekly;
  const key = (weekStart: string) => `Week of ${format.day(weekStart)}`;
  return (
    <Section title="Repeat orders a week across the holdout">
      {weeks.length === 0 ? (
        <Text as="p" tone="subdued">
          No weeks to show.
        </Text>
      ) : (
        <ChartBox height={260} label="Weekly repeat orders, actual and predicted">
          <LineChart
            key={weeks.map((week) => week.weekStart).join()}
            data={[
              { name: "Actual", data: weeks.map((week) => ({ key: key(week.weekStart), value: week.actual })) },
              {
                name: "Predicted",
                styleOverride: { line: { strokeDasharray: "6 4" } },
                data: weeks.map((week) => ({ key: key(week.weekStart), value: week.predicted })),
              },
            ]}
            isAnimated={false}
            theme="Light"
            xAxisOptions={{ labelFormatter: (value) => String(value ?? "").replace(/^Week of /, "") }}
            yAxisOptions={{ labelFormatter: (value) => format.count(Number(value ?? 0)) }}
            tooltipOptions={{ valueFormatter: (value) => format.number(Number(value ?? 0), 1) }}
          />
        </ChartBox>
      )}
    </Section>
  );
}

function parameters(values: Record<string, number>, format: ShopFormatters) {
  const rank = (name: string) => PARAMETER_ORDER.indexOf(name) + 1 || 99;
  return Object.entries(values)
    .sort(([x], [y]) => rank(x) - rank(y) || x.localeCompare(y))
    .map(([name, value]) => `${PARAMETER_NAMES[name] ?? name} ${format.number(value, 3)}`)
    .join(" · ");
}

function Model({ report, format }: { report: PredictionReport; format: ShopFormatters }) {
  const candidates = [...report.candidates].sort((x, y) => x.holdoutError - y.holdoutError);
  return (
    <Section title="The model and why">
      <InlineStack gap="200" blockAlign="center" wrap>
        <Text as="p" variant="headingSm">
          {MODEL_NAMES[report.model]}
        </Text>
        <Badge tone="info">Chosen</Badge>
        <Text as="span" tone="subdued">
          {MODEL_DESCRIPTIONS[report.model]}
        </Text>
      </InlineStack>
      <div data-chosen-because>
        <Text as="p">{report.chosenBecause}</Text>
      </div>
      {candidates.length > 0 ? (
        <BlockStack gap="100">
          <Text as="p" tone="subdued" variant="bodySm">
            Every candidate, fitted on the orders before the holdout: the repeat orders it predicted for the holdout and
            how far off that was (✓ chosen).
          </Text>
          <DataTable
            columnContentTypes={["text", "numeric", "numeric", "numeric"]}
            headings={["Model", "Predicted", "Error", "Log-likelihood"]}
            rows={candidates.map((candidate) => [
              `${MODEL_NAMES[candidate.model]}${candidate.model === report.model ? " ✓" : ""}`,
              format.number(candidate.holdoutPredicted, 0),
              errorShare(candidate.holdoutError, format),
              format.number(candidate.logLikelihood, 2),
            ])}
          />
        </BlockStack>
      ) : null}
      <BlockStack gap="100">
        <Text as="p" tone="subdued" variant="bodySm">
          {`Refitted on all history: ${parameters(report.parameters, format)} (time in weeks); log-likelihood ${format.number(report.logLikelihood, 2)}.`}
        </Text>
        <Text as="p" tone="subdued" variant="bodySm">
          {`Spend per order (Gamma-Gamma): p ${format.number(report.spend.p, 3)} · q ${format.number(report.spend.q, 3)} · γ ${format.number(report.spend.gamma, 3)}.`}
        </Text>
      </BlockStack>
    </Section>
  );
}

function HowItWorks({ report, format }: { report: PredictionReport | null; format: ShopFormatters }) {
  return (
    <Section title="How predictions are checked">
      <Text as="p">
        Each segmentation run holds back the most recent weeks of orders, fits every candidate model on the history
        before them, and compares each model's predicted repeat orders with the orders that really came. The model that
        came closest is fitted again on all history and makes the predictions you see.
      </Text>
      <Text as="p">
        {report
          ? `Predictions are shown only when the chosen model was within ${bound(report.errorBound, format)} of the actual repeat orders, and the shop has enough customers and history for a fit.`
          : "Predictions are shown only when the chosen model's backtest error is within the bound, and the shop has enough customers and history for a fit."}
      </Text>
    </Section>
  );
}

export default function PredictionsPage() {
  const format = useShopFormat();
  const data = useLoaderData<typeof loader>();
  const { report, run } = data;
  const holdout = report?.holdout ?? null;
  return (
    <Page title="Predictions" subtitle="How accurate this shop's predictions were, checked against what happened">
      <TitleBar title="Predictions" />
      {/* One provider around every chart, as on the Dashboard: inside a chart's box it measures itself, not the box. */}
      <PolarisVizProvider>
        <Layout>
          {!run ? (
            <Layout.Section>
              <Card>
                <EmptyState heading="No predictions yet" image="">
                  <p>
                    Predictions are fitted and checked by the segmentation run, which starts by itself when the first
                    data pull finishes. See its progress on the <Link to="/app/data">Data</Link> page.
                  </p>
                </EmptyState>
              </Card>
            </Layout.Section>
          ) : (
            <>
              <Layout.Section>
                <BlockStack gap="200">
                  <Verdict data={data} format={format} />
                  {run.asOf ? (
                    <Text as="p" tone="subdued" variant="bodySm">
                      {`From the segmentation run as of ${format.dateTime(run.asOf)}. ${format.timeZoneNote()}.`}
                    </Text>
                  ) : null}
                </BlockStack>
              </Layout.Section>
              {!report ? (
                <Layout.Section>
                  <Section title="No backtest for the last run">
                    <Text as="p">
                      The last segmentation run stored no check of its predictions. The next run holds back its most
                      recent orders, predicts them and shows here how close it came.
                    </Text>
                  </Section>
                </Layout.Section>
              ) : (
                <>
                  <Layout.Section>
                    {holdout ? (
                      <Backtest report={report} holdout={holdout} format={format} />
                    ) : (
                      <Section title="How the last prediction turned out">
                        <Text as="p">
                          This shop's history is too short to hold a period back and check it, so the model was fitted
                          on all of it without a backtest.
                        </Text>
                      </Section>
                    )}
                  </Layout.Section>
                  {holdout ? (
                    <Layout.Section>
                      <BlockStack gap="400">
                        <Weekly holdout={holdout} format={format} />
                        <ByFrequency holdout={holdout} format={format} />
                      </BlockStack>
                    </Layout.Section>
                  ) : null}
                  <Layout.Section>
                    <Model report={report} format={format} />
                  </Layout.Section>
                </>
              )}
              <Layout.Section>
                <HowItWorks report={report} format={format} />
              </Layout.Section>
            </>
          )}
        </Layout>
      </PolarisVizProvider>
    </Page>
  );
}

export { AppRouteErrorBoundary as ErrorBoundary } from "../components/error-page";
