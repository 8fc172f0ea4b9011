import type { ActionFunctionArgs, LoaderFunctionArgs } from "@remix-run/node";
import { useFetcher, useLoaderData, useNavigate, useRevalidator } from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import {
  Badge,
  BlockStack,
  Button,
  Card,
  EmptyState,
  IndexTable,
  InlineStack,
  Layout,
  Page,
  Pagination,
  Spinner,
  Text,
} from "@shopify/polaris";
import { useEffect } from "react";
import { formatMoney, useShopFormat } from "../components/format";
import { loadConfig } from "../config.server";
import { aiUsageSince } from "../models/ai.server";
import { enrichmentCounts, productsWithEnrichment } from "../models/product-enrichments.server";
import { llmConfigured } from "../services/llm.server";
import { enqueueProductEnrichment, enrichmentInProgress } from "../services/product-enrichment.server";
import { authenticate } from "../shopify.server";
import { parseQuery, wholeNumber } from "../services/request-input.server";
import { z } from "zod";

const PAGE_SIZE = 25;
const USAGE_DAYS = 30;

const productsQuery = z.object({ page: wholeNumber(1, 100_000).default(1) });

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const { page } = parseQuery(request, productsQuery);
  const [list, counts, running, usage] = await Promise.all([
    productsWithEnrichment(session.shop, page, PAGE_SIZE),
    enrichmentCounts(session.shop),
    enrichmentInProgress(session.shop),
    aiUsageSince(session.shop, new Date(Date.now() - USAGE_DAYS * 86_400_000)),
  ]);
  return {
    page,
    pages: Math.max(1, Math.ceil(list.total / PAGE_SIZE)),
    counts,
    running,
    usage,
    model: llmConfigured() ? loadConfig().LLM_MODEL : null,
    products: list.products.map((product) => ({
      id: product.id,
      title: product.title,
      productType: product.productType,
      vendor: product.vendor,
      enrichment: product.enrichment && {
        ...product.enrichment,
        updatedAt: product.enrichment.updatedAt.toISOString(),
      },
    })),
  };
};

export const action = async ({ request }: ActionFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const form = await request.formData();
  if (form.get("intent") !== "enrich") return Response.json({ error: "invalid request" }, { status: 400 });
  const job = await enqueueProductEnrichment(session.shop);
  return { jobId: job.id };
};

const sourceBadge = {
  llm: <Badge tone="success">AI</Badge>,
  local: <Badge tone="info">Local rules</Badge>,
} as const;

export default function ProductsPage() {
  const format = useShopFormat();
  const { page, pages, counts, running, usage, model, products } = useLoaderData<typeof loader>();
  const fetcher = useFetcher<typeof action>();
  const revalidator = useRevalidator();
  const navigate = useNavigate();
  const submitted = fetcher.state !== "idle";
  const busy = running || submitted;

  useEffect(() => {
    if (!running) return;
    const timer = setInterval(() => revalidator.state === "idle" && revalidator.revalidate(), 1500);
    return () => clearInterval(timer);
  }, [running, revalidator]);

  const notEnriched = Math.max(0, counts.products - counts.llm - counts.local);
  return (
    <Page>
      <TitleBar title="Products" />
      <Layout>
        <Layout.Section>
          <Card>
            <BlockStack gap="300">
              <InlineStack align="space-between" blockAlign="center">
                <BlockStack gap="100">
                  <Text as="h2" variant="headingMd">
                    Product enrichment
                  </Text>
                  <Text as="p" tone="subdued">
                    Attributes, audience and tags derived from each product&apos;s title, description, options and type.
                    Unchanged products are never enriched twice.
                  </Text>
                </BlockStack>
                <Button
                  variant="primary"
                  loading={submitted}
                  disabled={busy || counts.products === 0}
                  onClick={() => fetcher.submit({ intent: "enrich" }, { method: "post" })}
                >
                  Enrich products
                </Button>
              </InlineStack>
              <InlineStack gap="400" blockAlign="center">
                <Text as="span">
                  {format.count(counts.products)} products · {format.count(counts.llm)} by AI ·{" "}
                  {format.count(counts.local)} by local rules · {format.count(notEnriched)} not enriched
                </Text>
                {running ? (
                  <InlineStack gap="100" blockAlign="center">
                    <Spinner size="small" accessibilityLabel="Enrichment running" />
                    <Text as="span">Enrichment running…</Text>
                  </InlineStack>
                ) : null}
              </InlineStack>
              <Text as="p" tone="subdued">
                {model
                  ? // The AI cost is the app's own spend, billed in US dollars whatever the shop's currency.
                    `AI model ${model}: ${format.count(usage.calls)} requests, ${format.count(
                      usage.promptTokens + usage.completionTokens,
                    )} tokens, ${formatMoney(usage.costUsd, "USD")} in the last ${USAGE_DAYS} days.`
                  : "No AI model is configured (LLM_API_KEY is not set): products are enriched by local rules."}
              </Text>
            </BlockStack>
          </Card>
        </Layout.Section>
        <Layout.Section>
          <Card padding="0">
            {products.length === 0 ? (
              <EmptyState heading="No products yet" image="">
                <p>Pull your store&apos;s data on the Data page; its products appear here.</p>
              </EmptyState>
            ) : (
              <IndexTable
                resourceName={{ singular: "product", plural: "products" }}
                itemCount={products.length}
                selectable={false}
                headings={[
                  { title: "Product" },
                  { title: "Attributes" },
                  { title: "Audience" },
                  { title: "Tags" },
                  { title: "Source" },
                ]}
              >
                {products.map((product, index) => (
                  <IndexTable.Row
                    // Rows keyed by place: a new sort or page rewrites rows in place instead of moving them (no layout shift).
                    id={product.id}
                    key={index}
                    position={index}
                  >
                    <IndexTable.Cell>
                      <BlockStack gap="050">
                        <Text as="span" fontWeight="semibold">
                          {product.title}
                        </Text>
                        <Text as="span" tone="subdued">
                          {[product.productType, product.vendor].filter(Boolean).join(" · ")}
                        </Text>
                      </BlockStack>
                    </IndexTable.Cell>
                    <IndexTable.Cell>
                      {product.enrichment ? (
                        <BlockStack gap="050">
                          {Object.entries(product.enrichment.attributes).map(([name, value]) => (
                            <Text as="span" key={name}>
                              <Text as="span" tone="subdued">
                                {name}:
                              </Text>{" "}
                              {value}
                            </Text>
                          ))}
                        </BlockStack>
                      ) : (
                        <Text as="span" tone="subdued">
                          Not enriched yet
                        </Text>
                      )}
                    </IndexTable.Cell>
                    <IndexTable.Cell>
                      <div style={{ whiteSpace: "normal", maxWidth: 280 }}>{product.enrichment?.audience ?? "—"}</div>
                    </IndexTable.Cell>
                    <IndexTable.Cell>
                      <InlineStack gap="100" wrap>
                        {(product.enrichment?.tags ?? []).map((tag) => (
                          <Badge key={tag}>{tag}</Badge>
                        ))}
                      </InlineStack>
                    </IndexTable.Cell>
                    <IndexTable.Cell>
                      {product.enrichment ? sourceBadge[product.enrichment.source] : <Badge>Pending</Badge>}
                    </IndexTable.Cell>
                  </IndexTable.Row>
                ))}
              </IndexTable>
            )}
          </Card>
        </Layout.Section>
        <Layout.Section>
          <InlineStack align="center" blockAlign="center" gap="300">
            <Pagination
              hasPrevious={page > 1}
              onPrevious={() => navigate(`?page=${page - 1}`)}
              hasNext={page < pages}
              onNext={() => navigate(`?page=${page + 1}`)}
              label={`Page ${page} of ${pages}`}
            />
          </InlineStack>
        </Layout.Section>
      </Layout>
    </Page>
  );
}
