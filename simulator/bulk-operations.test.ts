import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
      const { body } = await sim.graphql(RUN, { query: "{ customers { edges { node { id } } } }" });
      const id = body.data.bulkOperationRunQuery.bulkOperation.id;
      await waitForOperation(id);
      for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(received[0]).toEqual({
        topic: "bulk_operations/finish",
        body: expect.objectContaining({
          admin_graphql_api_id: id,
          status: "completed",
          type: "query",
          error_code: null,
        }),
      });
    } finally {
      app.close();
    }
  });
});
