import type { LoaderFunctionArgs } from "@remix-run/node";
import { Form, Link, useLoaderData, useNavigation, useSearchParams } from "@remix-run/react";
import { TitleBar } from "@shopify/app-bridge-react";
import {
  Badge,
  BlockStack,
  Box,
  Button,
  Card,
  EmptyState,
  InlineStack,
  Layout,
  Page,
  Pagination,
  Text,
  TextField,
} from "@shopify/polaris";
import { useState } from "react";
import { z } from "zod";
import { useShopFormat } from "../components/format";
import { searchCustomers } from "../models/customers.server";
import { rfmSegmentByKey } from "../models/rfm-segments.server";
import { authenticate } from "../shopify.server";
import { parseQuery, wholeNumber } from "../services/request-input.server";

const PAGE_SIZE = 25;

const searchQuery = z.object({
  q: z.string().trim().max(200).default(""),
  page: wholeNumber(1, 10_000).default(1),
});

export const loader = async ({ request }: LoaderFunctionArgs) => {
  const { session } = await authenticate.admin(request);
  const { q, page } = parseQuery(request, searchQuery);
  const offset = (page - 1) * PAGE_SIZE;
  const result = await searchCustomers(session.shop, { query: q, offset, limit: PAGE_SIZE });
  return {
    q,
    page,
    offset,
    total: result.total,
    hasNext: result.nextOffset !== null,
    customers: result.customers.map((customer) => ({
      legacyId: customer.legacyId,
      name: [customer.firstName, customer.lastName].filter(Boolean).join(" ") || `Customer ${customer.legacyId}`,
      email: customer.email,
      place: [customer.city, customer.countryCode].filter(Boolean).join(", "),
      orders: customer.orders,
      spent: customer.spent,
      segment: customer.rfmSegment ? (rfmSegmentByKey(customer.rfmSegment)?.name ?? customer.rfmSegment) : null,
    })),
  };
};

export default function CustomerSearchPage() {
  const format = useShopFormat();
  const { q, page, offset, total, hasNext, customers } = useLoaderData<typeof loader>();
  const [, setParams] = useSearchParams();
  const navigation = useNavigation();
  const [query, setQuery] = useState(q);
  const searching = navigation.state === "loading" && navigation.location.pathname === "/app/customers";

  return (
    <Page title="Customers">
      <TitleBar title="Customers" />
      <Layout>
        <Layout.Section>
          <Card>
            <Form method="get" role="search">
              <InlineStack gap="200" wrap={false} blockAlign="end">
                <div style={{ flex: 1, minWidth: 0 }}>
                  <TextField
                    label="Search customers"
                    name="q"
                    value={query}
                    onChange={setQuery}
                    autoComplete="off"
                    placeholder="Name, email or customer id"
                    clearButton
                    onClearButtonClick={() => setQuery("")}
                    maxLength={200}
                  />
                </div>
                <Button submit variant="primary" loading={searching}>
                  Search
                </Button>
              </InlineStack>
            </Form>
          </Card>
        </Layout.Section>
        <Layout.Section>
          {customers.length === 0 ? (
            <Card>
              <EmptyState heading={q ? "No customers match" : "No customers yet"} image="">
                <Text as="p">
                  {q
                    ? `No customer's name, email or id contains “${q}”. Try part of a name or an email address.`
                    : "Customers appear here after the first data pull from Shopify."}
                </Text>
              </EmptyState>
            </Card>
          ) : (
            <Card padding="0">
              <Box padding="400" borderBlockEndWidth="025" borderColor="border">
                <Text as="p" tone="subdued">
                  {q ? `Customers matching “${q}”: ` : "All customers, most recently updated first: "}
                  {format.count(offset + 1)}–{format.count(offset + customers.length)} of {format.count(total)}
                </Text>
              </Box>
              <ul aria-label="Customers" style={{ listStyle: "none", margin: 0, padding: 0 }}>
                {customers.map((customer) => (
                  <li key={customer.legacyId}>
                    <Box padding="400" borderBlockEndWidth="025" borderColor="border-secondary">
                      <InlineStack align="space-between" blockAlign="center" gap="200">
                        <BlockStack gap="050">
                          <Link to={`/app/customers/${customer.legacyId}`}>
                            <Text as="span" variant="bodyMd" fontWeight="semibold">
                              {customer.name}
                            </Text>
                          </Link>
                          <div style={{ overflowWrap: "anywhere" }}>
                            <Text as="span" tone="subdued">
                              {[customer.email, customer.place].filter(Boolean).join(" · ") || "No contact details"}
                            </Text>
                          </div>
                        </BlockStack>
                        <InlineStack gap="200" blockAlign="center">
                          {customer.segment ? <Badge>{customer.segment}</Badge> : <Badge tone="new">Not scored</Badge>}
                          {customer.orders === null ? null : (
                            <Text as="span" variant="bodySm" tone="subdued">
                              {`${format.count(customer.orders)} ${customer.orders === 1 ? "order" : "orders"} · ${format.money(customer.spent)}`}
                            </Text>
                          )}
                        </InlineStack>
                      </InlineStack>
                    </Box>
                  </li>
                ))}
              </ul>
              <Box padding="300">
                <InlineStack align="center">
                  <Pagination
                    hasPrevious={page > 1}
                    onPrevious={() => setParams(q ? { q, page: String(page - 1) } : { page: String(page - 1) })}
                    hasNext={hasNext}
                    onNext={() => setParams(q ? { q, page: String(page + 1) } : { page: String(page + 1) })}
                    label={`Page ${format.count(page)}`}
                  />
                </InlineStack>
              </Box>
            </Card>
          )}
        </Layout.Section>
      </Layout>
    </Page>
  );
}
