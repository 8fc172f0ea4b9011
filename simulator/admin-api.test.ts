import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestSimulator } from "./test-client";

let sim: Awaited<ReturnType<typeof startTestSimulator>>;
beforeAll(async () => {
  sim = await startTestSimulator({ size: "small" });
});
afterAll(() => sim.simulator.close());

describe("simulated Admin GraphQL API", () => {
  it("answers shop fields with the cost extension", async () => {
    const { status, body } = await sim.graphql(
      "{ shop { name myshopifyDomain currencyCode ianaTimezone plan { displayName } } }",
    );
    expect(status).toBe(200);
    expect(body.data.shop.myshopifyDomain).toBe(sim.shop);
    expect(body.extensions.cost).toMatchObject({ requestedQueryCost: 2, actualQueryCost: 2 });
    expect(body.extensions.cost.throttleStatus).toMatchObject({ maximumAvailable: 2000, restoreRate: 100 });
  });

  it("refuses requests without a valid token with 401", async () => {
    expect((await sim.graphql("{ shop { name } }", {}, "shpat_unknown")).status).toBe(401);
  });

  it("makes an unknown field or a missing page size a GraphQL error, never an empty answer", async () => {
    const unknown = await sim.graphql("{ shop { name favouriteColour } }");
    expect(unknown.body.errors[0].message).toMatch(/Cannot query field "favouriteColour"/);
    expect(unknown.body.data).toBeUndefined();
    const unsized = await sim.graphql("{ customers { nodes { id } } }");
    expect(unsized.body.errors[0].message).toMatch(/first or last/);
    const oversized = await sim.graphql("{ customers(first: 251) { nodes { id } } }");
    expect(oversized.body.errors[0].message).toMatch(/between 0 and 250/);
  });

  it("pages through every customer exactly once with first/after and GIDs", async () => {
    const seen = new Set<string>();
    let after: string | null = null;
    let pages = 0;
    do {
      const { body } = await sim.graphql(
        "query($after: String) { customers(first: 250, after: $after) { nodes { id email createdAt } pageInfo { hasNextPage endCursor } } }",
        { after },
      );
      for (const node of body.data.customers.nodes) {
        expect(node.id).toMatch(/^gid:\/\/shopify\/Customer\/\d+$/);
        seen.add(node.id);
      }
      after = body.data.customers.pageInfo.hasNextPage ? body.data.customers.pageInfo.endCursor : null;
      pages++;
    } while (after);
    expect(seen.size).toBe(500);
    expect(pages).toBe(2);
  });

  it("answers nodes(ids:) in the ids' order, null for an id it does not have, priced per id, at most 250", async () => {
    const { body: page } = await sim.graphql("{ customers(first: 3) { nodes { id } } }");
    const ids: string[] = page.data.customers.nodes.map((node: { id: string }) => node.id);
    const asked = [ids[2], "gid://shopify/Customer/999999999999", ids[0], "gid://shopify/Order/999999999999"];
    const query = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename ... on Customer { id defaultAddress { city } } } }";
    const { body } = await sim.graphql(query, { ids: asked });
    expect(body.data.nodes.map((node: { id?: string } | null) => node?.id ?? null)).toEqual([ids[2], null, ids[0], null]);
    // Each id may be a Customer with an address: 2 points, whatever comes back.
    expect(body.extensions.cost.requestedQueryCost).toBe(asked.length * 2);
    const tooMany = await sim.graphql(query, { ids: Array.from({ length: 251 }, () => ids[0]) });
    expect(tooMany.body.errors[0].extensions.code).toBe("MAX_INPUT_SIZE_EXCEEDED");
  });

  it("filters by updated_at", async () => {
    const since = "2026-06-01T00:00:00Z";
    const { body } = await sim.graphql(
      `{ orders(first: 250, query: "updated_at:>='${since}'") { nodes { id updatedAt } } ordersCount(query: "updated_at:>='${since}'") { count } }`,
    );
    const nodes = body.data.orders.nodes as { updatedAt: string }[];
    expect(nodes.length).toBeGreaterThan(0);
    for (const node of nodes)
      expect(new Date(node.updatedAt).getTime()).toBeGreaterThanOrEqual(new Date(since).getTime());
    const all = await sim.graphql("{ ordersCount { count } }");
    expect(body.data.ordersCount.count).toBeLessThan(all.body.data.ordersCount.count);
  });

  it("throttles past the bucket with THROTTLED and the throttle status, then recovers", async () => {
    const small = await startTestSimulator({ bucketSize: 700, restoreRate: 50 });
    try {
      const page = "{ customers(first: 250) { nodes { id } } }"; // requested 252
      const first = await small.graphql(page);
      expect(first.body.data.customers.nodes).toHaveLength(40);
      // 252 requested, 42 spent (the tiny store has 40 customers): 658 left, and this asks 682.
      const heavy = "{ orders(first: 170) { nodes { id lineItems(first: 1) { nodes { id } } } } }";
      const expensive = await small.graphql(heavy);
      expect(expensive.body.errors[0]).toMatchObject({ message: "Throttled", extensions: { code: "THROTTLED" } });
      expect(expensive.body.data).toBeUndefined();
      expect(expensive.body.extensions.cost.throttleStatus.maximumAvailable).toBe(700);
      expect(small.simulator.runtime(small.shop)!.counters.throttled).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 1200)); // 50 points a second restore the 44 missing
      const retried = await small.graphql(heavy);
      expect(retried.body.data.orders.nodes).toHaveLength(150); // the tiny store has 150 orders
    } finally {
      await small.simulator.close();
    }
  });

  it("adds and removes customer tags, visible to later reads", async () => {
    const id = (await sim.graphql("{ customers(first: 1) { nodes { id } } }")).body.data.customers.nodes[0].id;
    const added = await sim.graphql(
      "mutation($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { node { id } userErrors { message } } }",
      { id, tags: ["ms:champions", "ms:test"] },
    );
    expect(added.body.data.tagsAdd.userErrors).toEqual([]);
    await sim.graphql('mutation($id: ID!) { tagsRemove(id: $id, tags: ["ms:test"]) { userErrors { message } } }', {
      id,
    });
    const read = await sim.graphql("query($id: ID!) { customer(id: $id) { tags } }", { id });
    expect(read.body.data.customer.tags).toContain("ms:champions");
    expect(read.body.data.customer.tags).not.toContain("ms:test");
    const bad = await sim.graphql(
      'mutation { tagsAdd(id: "gid://shopify/Customer/1", tags: ["x"]) { userErrors { message } } }',
    );
    expect(bad.body.data.tagsAdd.userErrors[0].message).toMatch(/not found/);
  });

  it("creates and updates segments with unique names and valid queries", async () => {
    const create =
      "mutation($name: String!, $query: String!) { segmentCreate(name: $name, query: $query) { segment { id name query } userErrors { field message } } }";
    const created = await sim.graphql(create, { name: "MS Champions", query: "customer_tags CONTAINS 'ms:champions'" });
    expect(created.body.data.segmentCreate.userErrors).toEqual([]);
    const duplicate = await sim.graphql(create, { name: "MS Champions", query: "customer_tags CONTAINS 'x'" });
    expect(duplicate.body.data.segmentCreate.userErrors[0].message).toMatch(/taken/);
    const invalid = await sim.graphql(create, { name: "Broken", query: "drop table customers" });
    expect(invalid.body.data.segmentCreate.userErrors[0].field).toEqual(["query"]);
    const id = created.body.data.segmentCreate.segment.id;
    const updated = await sim.graphql(
      "mutation($id: ID!) { segmentUpdate(id: $id, query: \"customer_tags CONTAINS 'ms:loyal'\") { segment { query } userErrors { message } } }",
      { id },
    );
    expect(updated.body.data.segmentUpdate.segment.query).toBe("customer_tags CONTAINS 'ms:loyal'");
  });

  it("creates, updates and deletes the app's web pixel, checking its settings against the extension's toml", async () => {
    const ingestUrl = "https://app.example.com/api/pixel/events";
    const create =
      "mutation($settings: JSON!) { webPixelCreate(webPixel: { settings: $settings }) { webPixel { id settings } userErrors { code message } } }";
    const invalid = await sim.graphql(create, { settings: JSON.stringify({ colour: "red" }) });
    expect(invalid.body.data.webPixelCreate.userErrors[0].code).toBe("INVALID_SETTINGS");
    const missingField = await sim.graphql(create, { settings: JSON.stringify({ accountID: "acc_123" }) });
    expect(missingField.body.data.webPixelCreate.userErrors[0].message).toMatch(/ingestUrl/);
    // settings is a JSON scalar: an object goes in and comes back as one.
    const created = await sim.graphql(create, { settings: { accountID: "acc_123", ingestUrl } });
    const pixel = created.body.data.webPixelCreate.webPixel;
    expect(pixel.settings).toEqual({ accountID: "acc_123", ingestUrl });
    expect(
      (await sim.graphql(create, { settings: JSON.stringify({ accountID: "again", ingestUrl }) })).body.data
        .webPixelCreate.userErrors[0].code,
    ).toBe("TAKEN");
    const updated = await sim.graphql(
      "mutation($id: ID!, $settings: JSON!) { webPixelUpdate(id: $id, webPixel: { settings: $settings }) { webPixel { settings } userErrors { message } } }",
      { id: pixel.id, settings: JSON.stringify({ accountID: "acc_456", ingestUrl }) },
    );
    // A string holding the JSON is accepted too, and answered as the object.
    expect(updated.body.data.webPixelUpdate.webPixel.settings.accountID).toBe("acc_456");
    const deleted = await sim.graphql(
      "mutation($id: ID!) { webPixelDelete(id: $id) { deletedWebPixelId userErrors { message } } }",
      { id: pixel.id },
    );
    expect(deleted.body.data.webPixelDelete.deletedWebPixelId).toBe(pixel.id);
    expect((await sim.graphql("{ webPixel { id } }")).body.errors[0].message).toMatch(/No web pixel/);
  });
});

describe("Shopify's counts and money", () => {
  const COUNT = `query($limit: Int) { customersCount(limit: $limit) { count precision } }`;

  it("caps counts at 10,000 unless asked, then answers a floor with AT_LEAST; limit: null counts all", async () => {
    const count = async (variables: Record<string, unknown>) =>
      (await sim.graphql(COUNT, variables)).body.data.customersCount;
    expect(await count({})).toEqual({ count: 500, precision: "EXACT" });
    expect(await count({ limit: 100 })).toEqual({ count: 100, precision: "AT_LEAST" });
    expect(await count({ limit: 500 })).toEqual({ count: 500, precision: "EXACT" });
    expect(await count({ limit: null })).toEqual({ count: 500, precision: "EXACT" });
    const medium = await startTestSimulator({ size: "medium" });
    try {
      const orders = async (args: string) =>
        (await medium.graphql(`{ ordersCount${args} { count precision } }`)).body.data.ordersCount;
      expect(await orders("")).toEqual({ count: 10_000, precision: "AT_LEAST" });
      expect(await orders("(limit: null)")).toEqual({ count: 50_000, precision: "EXACT" });
    } finally {
      await medium.simulator.close();
    }
  });

  const LINES = `query($id: ID!) { order(id: $id) {
    totalDiscountsSet { shopMoney { amount } } subtotalPriceSet { shopMoney { amount } }
    lineItems(first: 20) { nodes {
      originalTotalSet { shopMoney { amount } }
      plain: discountedTotalSet { shopMoney { amount } }
      withCodes: discountedTotalSet(withCodeDiscounts: true) { shopMoney { amount } }
      discountAllocations { allocatedAmountSet { shopMoney { amount } }
        discountApplication { __typename targetSelection allocationMethod ... on DiscountCodeApplication { code } } }
    } } } }`;
  const cents = (money: { shopMoney: { amount: string } }) => Math.round(Number(money.shopMoney.amount) * 100);

  it("leaves code discounts out of discountedTotalSet unless asked, and order-level discounts always", async () => {
    const data = sim.simulator.runtime(sim.shop)!.data;
    const find = (test: (o: ReturnType<typeof data.order>) => boolean) => {
      for (let i = 0; i < data.orderCount; i++) if (test(data.order(i))) return data.order(i)!;
      throw new Error("no such order in the small store");
    };
    const lineLevel = find((o) => o!.discountTarget === "ENTITLED");
    const orderLevel = find((o) => o!.discountTarget === "ALL");
    const automatic = find((o) => o!.lineItems.some((item) => item.automaticDiscountCents > 0));
    for (const record of [lineLevel, orderLevel, automatic]) {
      const { body } = await sim.graphql(LINES, { id: `gid://shopify/Order/${record.id}` });
      const order = body.data.order;
      expect(cents(order.totalDiscountsSet)).toBe(record.discountCents);
      let linesNet = 0;
      record.lineItems.forEach((item, i) => {
        const line = order.lineItems.nodes[i];
        const original = cents(line.originalTotalSet);
        expect(cents(line.plain)).toBe(original - item.automaticDiscountCents);
        expect(cents(line.withCodes)).toBe(original - item.automaticDiscountCents - item.lineCodeDiscountCents);
        const allocated = (selection: string) =>
          line.discountAllocations
            .filter(
              (a: { discountApplication: { targetSelection: string } }) =>
                a.discountApplication.targetSelection === selection,
            )
            .reduce(
              (sum: number, a: { allocatedAmountSet: { shopMoney: { amount: string } } }) =>
                sum + cents(a.allocatedAmountSet),
              0,
            );
        expect(allocated("ALL")).toBe(item.orderDiscountCents);
        linesNet += cents(line.withCodes) - allocated("ALL");
      });
      // The lines after every discount are the order's subtotal.
      expect(linesNet).toBe(cents(order.subtotalPriceSet));
    }
    const { body } = await sim.graphql(LINES, { id: `gid://shopify/Order/${orderLevel.id}` });
    expect(body.data.order.lineItems.nodes[0].discountAllocations.at(-1).discountApplication).toEqual({
      __typename: "DiscountCodeApplication",
      targetSelection: "ALL",
      allocationMethod: "ACROSS",
      code: orderLevel.discountCode,
    });
  });
});
