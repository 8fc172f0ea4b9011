import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUN_BULK_MUTATION, STAGE_VARIABLES, stageVariables as stageVariablesThrough } from "./bulk-mutation-client";
import { startTestSimulator } from "./test-client";

const ORDERS_WITH_LINES = `{
  orders {
    edges { node { id name totalPriceSet { shopMoney { amount currencyCode } } customer { id }
      lineItems { edges { node { id quantity variant { id } } } }
      transactions { kind amountSet { shopMoney { amount } } } } }
  }
}`;

const RUN = `mutation($query: String!, $group: Boolean) {
  bulkOperationRunQuery(query: $query, groupObjects: $group) { bulkOperation { id status } userErrors { message code } }
}`;

let sim: Awaited<ReturnType<typeof startTestSimulator>>;
beforeAll(async () => {
  sim = await startTestSimulator({ size: "small" });
});
afterAll(() => sim.simulator.close());

async function waitForOperation(id: string) {
  for (;;) {
    const { body } = await sim.graphql(
      "query($id: ID!) { bulkOperation(id: $id) { id status errorCode objectCount rootObjectCount url partialDataUrl fileSize } }",
      { id },
    );
    const operation = body.data.bulkOperation;
    if (!["CREATED", "RUNNING", "CANCELING"].includes(operation.status)) return operation;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function lines(url: string) {
  const text = await (await fetch(url)).text();
  return text
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
}

describe("bulk query operations", () => {
  it("exports every order with nested line items as __parentId lines, grouped under their parent", async () => {
    const { body } = await sim.graphql(RUN, { query: ORDERS_WITH_LINES, group: true });
    expect(body.data.bulkOperationRunQuery.userErrors).toEqual([]);
    expect(body.data.bulkOperationRunQuery.bulkOperation.status).toBe("CREATED");
    const operation = await waitForOperation(body.data.bulkOperationRunQuery.bulkOperation.id);
    expect(operation.status).toBe("COMPLETED");
    const rows = await lines(operation.url);
    expect(rows).toHaveLength(Number(operation.objectCount));
    const orders = rows.filter((row) => !row.__parentId);
    const children = rows.filter((row) => row.__parentId);
    expect(orders).toHaveLength(3000);
    expect(Number(operation.rootObjectCount)).toBe(3000);
    expect(children.length).toBeGreaterThan(6000);
    const orderIds = new Set(orders.map((order) => order.id));
    for (const child of children) {
      expect(child.id).toMatch(/^gid:\/\/shopify\/LineItem\//);
      expect(orderIds.has(child.__parentId)).toBe(true);
    }
    // grouped: each child follows its parent
    let currentParent = "";
    for (const row of rows) {
      if (!row.__parentId) currentParent = row.id;
      else expect(row.__parentId).toBe(currentParent);
    }
    expect(orders[0].lineItems).toBeUndefined();
    expect(orders[0].transactions[0].kind).toBe("SALE");
    expect(orders[0].totalPriceSet.shopMoney.amount).toMatch(/^\d+\.\d{2}$/);
  });

  it("without groupObjects may write children before their parents", async () => {
    const { body } = await sim.graphql(RUN, {
      query: "{ products { edges { node { id variants { edges { node { id price } } } } } } }",
      group: false,
    });
    const operation = await waitForOperation(body.data.bulkOperationRunQuery.bulkOperation.id);
    const rows = await lines(operation.url);
    const firstParent = rows.findIndex((row) => !row.__parentId);
    const firstChild = rows.findIndex((row) => row.__parentId);
    expect(firstChild).toBeLessThan(firstParent);
    expect(rows.filter((row) => !row.__parentId)).toHaveLength(60);
  });

  it("rejects invalid bulk queries with user errors", async () => {
    const noConnection = await sim.graphql(RUN, { query: "{ shop { name } }" });
    expect(noConnection.body.data.bulkOperationRunQuery.userErrors[0].message).toMatch(/top-level connection/);
    const noId = await sim.graphql(RUN, { query: "{ customers { edges { node { email } } } }" });
    expect(noId.body.data.bulkOperationRunQuery.userErrors[0].message).toMatch(/'id' field is required/);
    const unknown = await sim.graphql(RUN, { query: "{ customers { edges { node { id shoeSize } } } }" });
    expect(unknown.body.data.bulkOperationRunQuery.userErrors[0].message).toMatch(/Cannot query field "shoeSize"/);
  });

  it("fails midway with a partial data file", async () => {
    sim.simulator.runtime(sim.shop)!.failNextBulkOperation({ afterObjects: 300, errorCode: "INTERNAL_SERVER_ERROR" });
    const { body } = await sim.graphql(RUN, { query: "{ customers { edges { node { id email } } } }" });
    const operation = await waitForOperation(body.data.bulkOperationRunQuery.bulkOperation.id);
    expect(operation).toMatchObject({ status: "FAILED", errorCode: "INTERNAL_SERVER_ERROR", url: null });
    expect(Number(operation.objectCount)).toBe(300);
    const partial = await lines(operation.partialDataUrl);
    expect(partial).toHaveLength(300);
    expect(new Set(partial.map((row) => row.id)).size).toBe(300);
  });

  it("cancels a running operation", async () => {
    const slow = await startTestSimulator({ size: "small", bulkPageDelayMs: 200 });
    try {
      const { body } = await slow.graphql(RUN, { query: "{ orders { edges { node { id } } } }" });
      const id = body.data.bulkOperationRunQuery.bulkOperation.id;
      const cancel = await slow.graphql(
        "mutation($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { status } userErrors { message } } }",
        { id },
      );
      expect(cancel.body.data.bulkOperationCancel.bulkOperation.status).toBe("CANCELING");
      let status = "CANCELING";
      while (status === "CANCELING" || status === "RUNNING") {
        await new Promise((resolve) => setTimeout(resolve, 50));
        status = (await slow.graphql("query($id: ID!) { bulkOperation(id: $id) { status } }", { id })).body.data
          .bulkOperation.status;
      }
      expect(status).toBe("CANCELED");
    } finally {
      await slow.simulator.close();
    }
  });

  it("notifies the app with bulk_operations/finish", async () => {
    const { id, webhook } = await finishWebhookOf(async () => {
      const { body } = await sim.graphql(RUN, { query: "{ customers { edges { node { id } } } }" });
      return body.data.bulkOperationRunQuery.bulkOperation.id;
    });
    expect(webhook).toEqual({
      topic: "bulk_operations/finish",
      body: expect.objectContaining({ admin_graphql_api_id: id, status: "completed", type: "query", error_code: null }),
    });
  });
});

/** Starts an operation with the app listening for webhooks; returns its id and the first webhook that came. */
async function finishWebhookOf(start: () => Promise<string>) {
  const received: { topic: string; body: any }[] = [];
  const { createServer } = await import("node:http");
  const app = createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk) => (raw += chunk));
    req.on("end", () => {
      received.push({ topic: String(req.headers["x-shopify-topic"]), body: JSON.parse(raw) });
      res.end();
    });
  }).listen(0, "127.0.0.1");
  await once(app, "listening");
  sim.simulator.setAppUrl(`http://127.0.0.1:${(app.address() as { port: number }).port}`);
  try {
    const id = await start();
    await waitForOperation(id);
    for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    return { id, webhook: received[0] };
  } finally {
    app.close();
  }
}

const TAGS_ADD = `mutation call($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) { node { id } userErrors { field message } }
}`;

type TestSimulator = Awaited<ReturnType<typeof startTestSimulator>>;

/** Stages the variables through the simulator's HTTP Admin API. */
const stageVariables = (target: TestSimulator, lines: object[], order?: "file last" | "file first") =>
  stageVariablesThrough(async (query, variables) => (await target.graphql(query, variables)).body, lines, order);

const customerGid = (target: TestSimulator, index: number) =>
  `gid://shopify/Customer/${target.simulator.runtime(target.shop)!.data.customer(index)!.id}`;
const tagsOf = (target: TestSimulator, index: number) =>
  target.simulator.runtime(target.shop)!.data.customer(index)!.tags;

describe("bulk mutation operations", () => {
  it("stages the variables, runs tagsAdd once per line and writes one result line per input line", async () => {
    const count = 400;
    const variables = Array.from({ length: count }, (_, i) => ({ id: customerGid(sim, i), tags: ["bulk-vip"] }));
    variables.push({ id: "gid://shopify/Customer/999999999", tags: ["bulk-vip"] });
    const { staged, upload, key } = await stageVariables(sim, variables);
    expect(staged.url).toBe(`${sim.url}/staged-uploads`);
    expect(staged.parameters.map((parameter) => parameter.name)).toEqual(
      expect.arrayContaining(["key", "Content-Type", "success_action_status", "policy", "x-goog-signature"]),
    );
    expect(upload.status).toBe(201);
    expect(await upload.text()).toContain(`<Key>${key}</Key>`);

    const { body } = await sim.graphql(RUN_BULK_MUTATION, { mutation: TAGS_ADD, path: key });
    expect(body.data.bulkOperationRunMutation.userErrors).toEqual([]);
    expect(body.data.bulkOperationRunMutation.bulkOperation).toMatchObject({ status: "CREATED", type: "MUTATION" });
    const id = body.data.bulkOperationRunMutation.bulkOperation.id;
    const operation = await waitForOperation(id);
    expect(operation.status).toBe("COMPLETED");
    expect(Number(operation.objectCount)).toBe(count + 1);

    const current = await sim.graphql(
      "{ mutation: currentBulkOperation(type: MUTATION) { id type query } query: currentBulkOperation { id } }",
    );
    expect(current.body.data.mutation).toEqual({ id, type: "MUTATION", query: TAGS_ADD });
    expect(current.body.data.query?.id).not.toBe(id);

    const rows = await lines(operation.url);
    expect(rows.map((row) => row.__lineNumber)).toEqual(Array.from({ length: count + 1 }, (_, i) => i));
    expect(rows[0]).toEqual({ data: { tagsAdd: { node: { id: variables[0]!.id }, userErrors: [] } }, __lineNumber: 0 });
    expect(rows[count].data.tagsAdd).toEqual({
      node: null,
      userErrors: [{ field: ["id"], message: "Resource not found." }],
    });
    for (let i = 0; i < count; i++) expect(tagsOf(sim, i)).toContain("bulk-vip");
    expect(tagsOf(sim, count)).not.toContain("bulk-vip");
  });

  it("runs tagsRemove the same way", async () => {
    const variables = Array.from({ length: 10 }, (_, i) => ({ id: customerGid(sim, i), tags: ["bulk-vip"] }));
    const { key } = await stageVariables(sim, variables);
    const mutation = TAGS_ADD.replaceAll("tagsAdd", "tagsRemove");
    const { body } = await sim.graphql(RUN_BULK_MUTATION, { mutation, path: key });
    const operation = await waitForOperation(body.data.bulkOperationRunMutation.bulkOperation.id);
    expect(operation.status).toBe("COMPLETED");
    for (let i = 0; i < 10; i++) expect(tagsOf(sim, i)).not.toContain("bulk-vip");
    expect(tagsOf(sim, 10)).toContain("bulk-vip");
  });

  it("reports a line whose variables do not fit the mutation as that line's errors", async () => {
    const { key } = await stageVariables(sim, [{ id: customerGid(sim, 0) }, { id: customerGid(sim, 1), tags: ["x"] }]);
    const { body } = await sim.graphql(RUN_BULK_MUTATION, { mutation: TAGS_ADD, path: key });
    const operation = await waitForOperation(body.data.bulkOperationRunMutation.bulkOperation.id);
    const rows = await lines(operation.url);
    expect(rows[0]).toMatchObject({ errors: [{ message: expect.stringContaining("$tags") }], __lineNumber: 0 });
    expect(rows[0].data).toBeUndefined();
    expect(rows[1]).toMatchObject({ data: { tagsAdd: { userErrors: [] } }, __lineNumber: 1 });
  });

  it("rejects other mutations, unknown files and a second mutation while one runs", async () => {
    const slow = await startTestSimulator({ size: "small", bulkPageDelayMs: 200 });
    try {
      const { key } = await stageVariables(
        slow,
        Array.from({ length: 1000 }, (_, i) => ({ id: customerGid(slow, i % 500), tags: ["slow"] })),
      );
      const other = await slow.graphql(RUN_BULK_MUTATION, {
        mutation:
          "mutation($name: String!, $query: String!) { segmentCreate(name: $name, query: $query) { segment { id } } }",
        path: key,
      });
      expect(other.body.data.bulkOperationRunMutation).toMatchObject({
        bulkOperation: null,
        userErrors: [
          { field: ["mutation"], code: "INVALID_MUTATION", message: expect.stringContaining("segmentCreate") },
        ],
      });
      const invalid = await slow.graphql(RUN_BULK_MUTATION, { mutation: "mutation { tagsAdd(id: 1) }", path: key });
      expect(invalid.body.data.bulkOperationRunMutation.userErrors[0].code).toBe("INVALID_MUTATION");
      const missing = await slow.graphql(RUN_BULK_MUTATION, { mutation: TAGS_ADD, path: "tmp/nothing/bulk_op_vars" });
      expect(missing.body.data.bulkOperationRunMutation.userErrors[0]).toMatchObject({
        field: ["stagedUploadPath"],
        code: "NO_SUCH_FILE",
      });

      const first = await slow.graphql(RUN_BULK_MUTATION, { mutation: TAGS_ADD, path: key });
      const id = first.body.data.bulkOperationRunMutation.bulkOperation.id;
      const second = await slow.graphql(RUN_BULK_MUTATION, { mutation: TAGS_ADD, path: key });
      expect(second.body.data.bulkOperationRunMutation.userErrors[0]).toMatchObject({
        code: "OPERATION_IN_PROGRESS",
        message: expect.stringContaining(id),
      });
      // A query runs beside the mutation.
      const query = await slow.graphql(RUN, { query: "{ products { edges { node { id } } } }" });
      expect(query.body.data.bulkOperationRunQuery.userErrors).toEqual([]);
      await slow.graphql("mutation($id: ID!) { bulkOperationCancel(id: $id) { userErrors { message } } }", { id });
      let status = "CANCELING";
      while (["CANCELING", "RUNNING"].includes(status)) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        status = (await slow.graphql("query($id: ID!) { bulkOperation(id: $id) { status } }", { id })).body.data
          .bulkOperation.status;
      }
      expect(status).toBe("CANCELED");
    } finally {
      await slow.simulator.close();
    }
  });

  it("accepts only uploads signed by stagedUploadsCreate, with the file as the last field", async () => {
    const { upload } = await stageVariables(sim, [{ id: customerGid(sim, 0), tags: ["x"] }], "file first");
    expect(upload.status).toBe(400);
    expect(await upload.text()).toContain("must be the last field");

    const { staged } = await stageVariables(sim, []);
    const forged = new FormData();
    for (const { name, value } of staged.parameters)
      forged.append(name, name === "x-goog-signature" ? "0".repeat(value.length) : value);
    forged.append("file", new Blob(["{}"]), "vars.jsonl");
    expect((await fetch(staged.url, { method: "POST", body: forged })).status).toBe(403);

    const wrongKind = await sim.graphql(STAGE_VARIABLES, {
      input: [{ resource: "IMAGE", filename: "a.png", mimeType: "image/png", httpMethod: "POST" }],
    });
    expect(wrongKind.body.data.stagedUploadsCreate).toMatchObject({ stagedTargets: null, userErrors: [{}] });
  });

  it("notifies the app with bulk_operations/finish of type mutation", async () => {
    const { id, webhook } = await finishWebhookOf(async () => {
      const { key } = await stageVariables(sim, [{ id: customerGid(sim, 0), tags: ["x"] }]);
      const { body } = await sim.graphql(RUN_BULK_MUTATION, { mutation: TAGS_ADD, path: key });
      return body.data.bulkOperationRunMutation.bulkOperation.id;
    });
    expect(webhook).toEqual({
      topic: "bulk_operations/finish",
      body: expect.objectContaining({ admin_graphql_api_id: id, status: "completed", type: "mutation" }),
    });
  });

  it("lists the app's operations with bulkOperations(query:), newest first, by type and status", async () => {
    const { key } = await stageVariables(sim, [{ id: customerGid(sim, 1), tags: ["listed"] }]);
    const started = await sim.graphql(RUN_BULK_MUTATION, { mutation: TAGS_ADD, path: key });
    const mutationId = started.body.data.bulkOperationRunMutation.bulkOperation.id;
    await waitForOperation(mutationId);
    const list = async (query: string) =>
      (
        await sim.graphql(
          "query($query: String) { bulkOperations(first: 50, query: $query) { nodes { id type status } } }",
          {
            query,
          },
        )
      ).body.data.bulkOperations.nodes as { id: string; type: string; status: string }[];
    const mutations = await list("operation_type:mutation");
    expect(mutations[0]!.id).toBe(mutationId);
    expect(mutations.every((operation) => operation.type === "MUTATION")).toBe(true);
    const queries = await list("operation_type:query AND status:completed");
    expect(queries.length).toBeGreaterThan(0);
    expect(queries.every((operation) => operation.type === "QUERY" && operation.status === "COMPLETED")).toBe(true);
    expect(queries.some((operation) => operation.id === mutationId)).toBe(false);
  });
});
