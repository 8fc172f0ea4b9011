import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUN_BULK_MUTATION, stageVariables } from "./bulk-mutation-client";
import { apiClientIdOf } from "./server";
import { startTestSimulator } from "./test-client";

let sim: Awaited<ReturnType<typeof startTestSimulator>>;
let namespace: string;
beforeAll(async () => {
  sim = await startTestSimulator({ size: "small" });
  namespace = `app--${apiClientIdOf("sim-key")}--predictions`;
});
afterAll(() => sim.simulator.close());

const CREATE_DEFINITION = `mutation($definition: MetafieldDefinitionInput!) {
  metafieldDefinitionCreate(definition: $definition) {
    createdDefinition { id namespace key name type { name category } validations { name value } access { admin } }
    userErrors { field message code }
  }
}`;
const SET = `mutation($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { namespace key type value compareDigest }
    userErrors { field message code elementIndex }
  }
}`;
const MEMBERS = `query($query: String, $segmentId: ID, $after: String) {
  customerSegmentMembers(first: 50, query: $query, segmentId: $segmentId, after: $after) {
    totalCount edges { node { id displayName metafield(namespace: "$app:predictions", key: "churn_risk") { value } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const DEFINITIONS = [
  { key: "predicted_value", name: "Predicted value", type: "number_decimal" },
  { key: "orders", name: "Orders", type: "number_integer" },
  {
    key: "churn_risk",
    name: "Churn risk",
    type: "single_line_text_field",
    validations: [{ name: "choices", value: JSON.stringify(["low", "medium", "high"]) }],
  },
  { key: "next_order", name: "Next order", type: "date" },
  { key: "scored_at", name: "Scored at", type: "date_time" },
  { key: "vip", name: "VIP", type: "boolean" },
];

const customerId = (index: number) =>
  `gid://shopify/Customer/${sim.simulator.runtime(sim.shop)!.data.customer(index)!.id}`;

async function set(metafields: object[]) {
  return (await sim.graphql(SET, { metafields })).body;
}

async function members(query: string) {
  const { body } = await sim.graphql(MEMBERS, { query });
  if (body.errors) throw new Error(body.errors[0].message);
  return body.data.customerSegmentMembers as {
    totalCount: number;
    edges: { node: { id: string; metafield: { value: string } | null } }[];
  };
}

const memberIds = (page: Awaited<ReturnType<typeof members>>) =>
  page.edges.map((edge) => edge.node.id.replace("CustomerSegmentMember", "Customer")).sort();

describe("metafield definitions", () => {
  it("creates customer definitions in the app-reserved namespace with their types, once", async () => {
    for (const definition of DEFINITIONS) {
      const { body } = await sim.graphql(CREATE_DEFINITION, {
        definition: {
          ...definition,
          namespace: "$app:predictions",
          ownerType: "CUSTOMER",
          access: { admin: "MERCHANT_READ" },
        },
      });
      expect(body.data.metafieldDefinitionCreate.userErrors).toEqual([]);
      expect(body.data.metafieldDefinitionCreate.createdDefinition).toMatchObject({
        namespace,
        key: definition.key,
        type: { name: definition.type },
        access: { admin: "MERCHANT_READ" },
      });
    }
    const again = await sim.graphql(CREATE_DEFINITION, {
      definition: { ...DEFINITIONS[0], namespace: "$app:predictions", ownerType: "CUSTOMER" },
    });
    expect(again.body.data.metafieldDefinitionCreate).toMatchObject({
      createdDefinition: null,
      userErrors: [{ field: ["definition", "key"], code: "TAKEN" }],
    });
    const listed = await sim.graphql(
      `{ metafieldDefinitions(first: 50, ownerType: CUSTOMER, namespace: "$app:predictions") {
          nodes { key namespace type { name category } validations { name type value } metafieldsCount } } }`,
    );
    const nodes = listed.body.data.metafieldDefinitions.nodes;
    expect(nodes.map((node: { key: string }) => node.key)).toEqual(DEFINITIONS.map((d) => d.key));
    expect(nodes[2]).toMatchObject({
      type: { name: "single_line_text_field", category: "TEXT" },
      validations: [{ name: "choices", type: "list.single_line_text_field", value: '["low","medium","high"]' }],
    });
  });

  it("refuses an unknown type, a bad key and another app's namespace", async () => {
    const definition = { namespace: "$app:predictions", ownerType: "CUSTOMER", name: "X" };
    const wrongType = await sim.graphql(CREATE_DEFINITION, {
      definition: { ...definition, key: "x1", type: "money_ish" },
    });
    expect(wrongType.body.data.metafieldDefinitionCreate.userErrors[0]).toMatchObject({ code: "INCLUSION" });
    const badKey = await sim.graphql(CREATE_DEFINITION, { definition: { ...definition, key: "a b", type: "boolean" } });
    expect(badKey.body.data.metafieldDefinitionCreate.userErrors[0]).toMatchObject({ code: "INVALID_CHARACTER" });
    const foreign = await sim.graphql(CREATE_DEFINITION, {
      definition: { ...definition, namespace: "app--1--other", key: "x2", type: "boolean" },
    });
    expect(foreign.body.data.metafieldDefinitionCreate.userErrors[0]).toMatchObject({ code: "RESERVED_NAMESPACE_KEY" });
  });
});

describe("metafieldsSet", () => {
  it("validates every value against its type and sets nothing when one is wrong", async () => {
    const owner = customerId(0);
    const body = await set([
      { ownerId: owner, namespace: "$app:predictions", key: "predicted_value", value: "120.50" },
      { ownerId: owner, namespace: "$app:predictions", key: "orders", value: "2.5" },
      { ownerId: owner, namespace: "$app:predictions", key: "churn_risk", value: "very high" },
      { ownerId: owner, namespace: "$app:predictions", key: "next_order", value: "2026-02-30" },
      { ownerId: owner, namespace: "$app:predictions", key: "scored_at", value: "yesterday" },
      { ownerId: owner, namespace: "$app:predictions", key: "vip", value: "yes" },
      { ownerId: owner, namespace: "$app:predictions", key: "vip", value: "true", type: "single_line_text_field" },
      { ownerId: owner, namespace: "custom", key: "untyped", value: "x" },
      {
        ownerId: "gid://shopify/Customer/1",
        namespace: "custom",
        key: "note",
        value: "x",
        type: "single_line_text_field",
      },
    ]);
    expect(body.data.metafieldsSet.metafields).toBeNull();
    expect(body.data.metafieldsSet.userErrors).toEqual([
      {
        field: ["metafields", "1", "value"],
        message: "Value must be an integer.",
        code: "INVALID_VALUE",
        elementIndex: 1,
      },
      {
        field: ["metafields", "2", "value"],
        message: expect.stringContaining("choices"),
        code: "INCLUSION",
        elementIndex: 2,
      },
      {
        field: ["metafields", "3", "value"],
        message: expect.stringContaining("YYYY-MM-DD"),
        code: "INVALID_VALUE",
        elementIndex: 3,
      },
      {
        field: ["metafields", "4", "value"],
        message: expect.stringContaining("ISO 8601"),
        code: "INVALID_VALUE",
        elementIndex: 4,
      },
      {
        field: ["metafields", "5", "value"],
        message: "Value must be true or false.",
        code: "INVALID_VALUE",
        elementIndex: 5,
      },
      {
        field: ["metafields", "6", "type"],
        message: expect.stringContaining("definition's type"),
        code: "INVALID_TYPE",
        elementIndex: 6,
      },
      { field: ["metafields", "7", "type"], message: "Type can't be blank.", code: "BLANK", elementIndex: 7 },
      { field: ["metafields", "8", "ownerId"], message: "Owner does not exist.", code: "INVALID", elementIndex: 8 },
    ]);
    const read = await sim.graphql(
      `query($id: ID!) { customer(id: $id) { metafields(first: 10) { nodes { key } } } }`,
      {
        id: owner,
      },
    );
    expect(read.body.data.customer.metafields.nodes).toEqual([]);
  });

  it("takes at most 25 metafields a call", async () => {
    const many = Array.from({ length: 26 }, (_, i) => ({
      ownerId: customerId(i),
      namespace: "$app:predictions",
      key: "vip",
      value: "true",
    }));
    const body = await set(many);
    expect(body.data.metafieldsSet.userErrors).toEqual([
      {
        field: ["metafields"],
        message: expect.stringContaining("25"),
        code: "LESS_THAN_OR_EQUAL_TO",
        elementIndex: null,
      },
    ]);
    expect((await set(many.slice(0, 25))).data.metafieldsSet.userErrors).toEqual([]);
  });

  it("stores typed values a customer then answers, and checks compareDigest", async () => {
    const owner = customerId(30);
    const body = await set([
      { ownerId: owner, namespace: "$app:predictions", key: "predicted_value", value: "250.75" },
      { ownerId: owner, namespace: "$app:predictions", key: "orders", value: "3" },
      { ownerId: owner, namespace: "$app:predictions", key: "next_order", value: "2027-03-20" },
    ]);
    expect(body.data.metafieldsSet.userErrors).toEqual([]);
    const read = await sim.graphql(
      `query($id: ID!) { customer(id: $id) {
          value: metafield(namespace: "$app:predictions", key: "predicted_value") { namespace type value jsonValue compareDigest definition { name } }
          orders: metafield(namespace: "${namespace}", key: "orders") { type jsonValue compareDigest }
          all: metafields(first: 10, namespace: "$app:predictions") { nodes { key type value } } } }`,
      { id: owner },
    );
    const customer = read.body.data.customer;
    expect(customer.value).toMatchObject({
      namespace,
      type: "number_decimal",
      value: "250.75",
      jsonValue: "250.75",
      definition: { name: "Predicted value" },
    });
    expect(customer.orders).toEqual({ type: "number_integer", jsonValue: 3, compareDigest: expect.any(String) });
    expect(customer.all.nodes.map((node: { key: string }) => node.key).sort()).toEqual([
      "next_order",
      "orders",
      "predicted_value",
    ]);

    const stale = await set([
      { ownerId: owner, namespace: "$app:predictions", key: "orders", value: "4", compareDigest: "0".repeat(64) },
    ]);
    expect(stale.data.metafieldsSet.userErrors[0]).toMatchObject({
      code: "STALE_OBJECT",
      field: ["metafields", "0", "compareDigest"],
    });
    const fresh = await set([
      {
        ownerId: owner,
        namespace: "$app:predictions",
        key: "orders",
        value: "4",
        compareDigest: customer.orders.compareDigest,
      },
      {
        ownerId: owner,
        namespace: "$app:predictions",
        key: "scored_at",
        value: "2026-11-30T12:00:00Z",
        compareDigest: null,
      },
    ]);
    expect(fresh.data.metafieldsSet.userErrors).toEqual([]);
  });

  it("deletes metafields with metafieldsDelete, reporting those that did not exist as null", async () => {
    const owner = customerId(2);
    await set([{ ownerId: owner, namespace: "$app:predictions", key: "vip", value: "false" }]);
    const { body } = await sim.graphql(
      `mutation($metafields: [MetafieldIdentifierInput!]!) {
        metafieldsDelete(metafields: $metafields) { deletedMetafields { ownerId namespace key } userErrors { message } } }`,
      {
        metafields: [
          { ownerId: owner, namespace: "$app:predictions", key: "vip" },
          { ownerId: owner, namespace: "$app:predictions", key: "orders" },
        ],
      },
    );
    expect(body.data.metafieldsDelete).toEqual({
      deletedMetafields: [{ ownerId: owner, namespace, key: "vip" }, null],
      userErrors: [],
    });
  });
});

describe("segment queries over metafields", () => {
  it("selects the customers whose metafields match, by number, text, date and presence", async () => {
    const values = [
      { predicted: "50.00", risk: "low", next: "2026-12-01" },
      { predicted: "150.00", risk: "high", next: "2026-12-10" },
      { predicted: "300.00", risk: "high", next: "2027-01-15" },
      { predicted: "100.00", risk: "medium", next: "2026-12-31" },
    ];
    const owners = values.map((_, i) => customerId(10 + i));
    for (const [i, value] of values.entries()) {
      const body = await set([
        { ownerId: owners[i], namespace: "$app:predictions", key: "predicted_value", value: value.predicted },
        { ownerId: owners[i], namespace: "$app:predictions", key: "churn_risk", value: value.risk },
        { ownerId: owners[i], namespace: "$app:predictions", key: "next_order", value: value.next },
      ]);
      expect(body.data.metafieldsSet.userErrors).toEqual([]);
    }
    // Customers 0 and 1 also hold values from the tests above; these use churn_risk, which only these four carry.
    const field = (key: string) => `metafields.${namespace}.${key}`;
    const high = await members(`${field("churn_risk")} = 'high'`);
    expect(high.totalCount).toBe(2);
    expect(memberIds(high)).toEqual([owners[1], owners[2]].sort());
    expect(high.edges.every((edge) => edge.node.metafield?.value === "high")).toBe(true);

    const valuable = await members(`${field("churn_risk")} IS NOT NULL AND ${field("predicted_value")} > 100`);
    expect(memberIds(valuable)).toEqual([owners[1], owners[2]].sort());
    const between = await members(
      `${field("predicted_value")} BETWEEN 100 AND 150 AND ${field("churn_risk")} != 'low'`,
    );
    expect(memberIds(between)).toEqual([owners[1], owners[3]].sort());
    const dueThisYear = await members(`${field("next_order")} >= 2026-12-05 AND ${field("next_order")} <= 2026-12-31`);
    expect(memberIds(dueThisYear)).toEqual([owners[1], owners[3]].sort());
    const either = await members(
      `${field("churn_risk")} = 'low' OR (${field("churn_risk")} = 'high' AND ${field("predicted_value")} >= 300)`,
    );
    expect(memberIds(either)).toEqual([owners[0], owners[2]].sort());
    const none = await members(`${field("churn_risk")} IS NULL`);
    expect(none.totalCount).toBe(sim.simulator.runtime(sim.shop)!.data.customerCount - 4);
  });

  it("saves a segment on a metafield and lists its members by segmentId", async () => {
    const query = `metafields.${namespace}.churn_risk = 'high'`;
    const created = await sim.graphql(
      `mutation($name: String!, $query: String!) { segmentCreate(name: $name, query: $query) { segment { id query } userErrors { message } } }`,
      { name: "High churn risk", query },
    );
    expect(created.body.data.segmentCreate.userErrors).toEqual([]);
    const { body } = await sim.graphql(MEMBERS, { segmentId: created.body.data.segmentCreate.segment.id });
    expect(body.data.customerSegmentMembers.totalCount).toBe(2);
  });

  it("refuses filters on metafields without a definition, or with an operator their type lacks", async () => {
    const undefinedField = await sim.graphql(MEMBERS, { query: `metafields.${namespace}.nothing = 'x'` });
    expect(undefinedField.body.errors[0].message).toMatch(/Query is invalid: .*no customer metafield definition/);
    const textAsNumber = await sim.graphql(MEMBERS, { query: `metafields.${namespace}.churn_risk > 3` });
    expect(textAsNumber.body.errors[0].message).toMatch(/Query is invalid/);
    const refused = await sim.graphql(
      `mutation { segmentCreate(name: "Broken", query: "metafields.${namespace}.predicted_value = 'high'") { segment { id } userErrors { field message } } }`,
    );
    expect(refused.body.data.segmentCreate.userErrors[0]).toMatchObject({ field: ["query"] });
  });
});

describe("bulk metafieldsSet", () => {
  it("runs metafieldsSet once per staged line and reports each line's userErrors", async () => {
    const lines = Array.from({ length: 300 }, (_, i) => ({
      metafields: [
        { ownerId: customerId(100 + i), namespace: "$app:predictions", key: "orders", value: String(i) },
        { ownerId: customerId(100 + i), namespace: "$app:predictions", key: "vip", value: i % 2 ? "true" : "false" },
      ],
    }));
    lines.push({ metafields: [{ ownerId: customerId(0), namespace: "$app:predictions", key: "orders", value: "x" }] });
    const { key } = await stageVariables(async (query, variables) => (await sim.graphql(query, variables)).body, lines);
    const mutation = `mutation set($metafields: [MetafieldsSetInput!]!) {
      metafieldsSet(metafields: $metafields) { metafields { key value } userErrors { field message code } } }`;
    const started = await sim.graphql(RUN_BULK_MUTATION, { mutation, path: key });
    expect(started.body.data.bulkOperationRunMutation.userErrors).toEqual([]);
    const id = started.body.data.bulkOperationRunMutation.bulkOperation.id;
    let operation: { status: string; url: string };
    for (;;) {
      operation = (await sim.graphql(`query($id: ID!) { bulkOperation(id: $id) { status url } }`, { id })).body.data
        .bulkOperation;
      if (operation.status === "COMPLETED" || operation.status === "FAILED") break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(operation.status).toBe("COMPLETED");
    const results = (await (await fetch(operation.url)).text())
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(results).toHaveLength(301);
    expect(results[7]).toEqual({
      data: {
        metafieldsSet: {
          metafields: [
            { key: "orders", value: "7" },
            { key: "vip", value: "true" },
          ],
          userErrors: [],
        },
      },
      __lineNumber: 7,
    });
    expect(results[300].data.metafieldsSet.userErrors[0]).toMatchObject({ code: "INVALID_VALUE" });
    const runtime = sim.simulator.runtime(sim.shop)!;
    expect(runtime.metafields.get(customerId(399), "$app:predictions", "orders")?.value).toBe("299");
    const orders = await members(`metafields.${namespace}.orders >= 290`);
    expect(orders.totalCount).toBe(10);
  });
});
