import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../app/config.server";
import { createPull } from "../../app/models/pulls.server";
import { createLlmClient, llmSettingsFromConfig, type LlmSettings } from "../../app/services/llm.server";
import {
  enqueueProductEnrichment,
  enrichProducts,
  localEnrichment,
  productInput,
} from "../../app/services/product-enrichment.server";
import { startFakeOpenAi, type ChatRequestBody, type FakeOpenAi } from "../helpers/fake-openai";
import { simulatedInstall } from "../helpers/installed-shop";
import { startAppServer, startWorker, waitFor, type RunningProcess } from "../helpers/processes";
import { BROWSER_HEADERS, sessionToken } from "../helpers/shopify-requests";

/**
 * Product enrichment end to end: products pulled from the simulated store by
 * the real worker, enriched by it through a local OpenAI-compatible server.
 */

type Install = Awaited<ReturnType<typeof simulatedInstall>>;

interface SentProduct {
  ref: string;
  title: string;
  productType: string;
  options: { name: string; values: string[] }[];
}

/** Answers like a model would: one entry per ref, derived from the product it was sent. */
function answerFromProducts(body: ChatRequestBody) {
  const products = JSON.parse(body.messages[1]!.content).products as SentProduct[];
  return {
    products: products.map((product) => ({
      ref: product.ref,
      attributes: [
        { name: "Style", value: `${product.title} style` },
        ...product.options.map((option) => ({ name: option.name, value: option.values.join(", ") })),
      ],
      audience: `People who want ${product.title}`,
      tags: ["Outdoor:Gear", "Trail Ready", product.productType],
    })),
  };
}

let install: Install;
let fake: FakeOpenAi;
let worker: RunningProcess | undefined;
let app: RunningProcess & { url: string };
let llmEnv: Record<string, string>;
let llmSettings: () => LlmSettings;

const finishedRuns = () => worker!.logs().filter((line) => line.msg === "product enrichment finished");

async function runEnrichment(run: () => Promise<unknown>) {
  const before = finishedRuns().length;
  await run();
  await waitFor(async () => finishedRuns().length > before, 30_000, "product enrichment job");
  return finishedRuns().at(-1)!;
}

const enrichments = () =>
  install.prisma.productEnrichment.findMany({ where: { shop: install.shop }, orderBy: { productId: "asc" } });

const postEnrich = (body: unknown, token = sessionToken(install.shop)) =>
  fetch(`${app.url}/api/ai/products/enrich`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...BROWSER_HEADERS },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  fake = await startFakeOpenAi({ responder: answerFromProducts });
  install = await simulatedInstall({ size: "small" });
  llmEnv = {
    LLM_BASE_URL: fake.url,
    LLM_API_KEY: "sk-test-enrichment",
    LLM_MODEL: "test/enricher",
    LLM_TIMEOUT_MS: "2000",
    LLM_MAX_RETRIES: "1",
    LLM_CONCURRENCY: "2",
  };
  llmSettings = () => llmSettingsFromConfig(parseConfig({ ...install.env, ...llmEnv }));
  worker = await startWorker({ ...install.env, ...llmEnv });
  app = await startAppServer({ ...install.env, NODE_ENV: "production" });
  const pull = await createPull({ shop: install.shop, kind: "full", resources: ["products"], trigger: "merchant" });
  await waitFor(
    async () => (await install.prisma.dataPull.findUnique({ where: { id: pull.id } }))?.status === "succeeded",
    45_000,
    "product pull",
  );
});

afterAll(async () => {
  await Promise.all([worker?.stop(), app?.stop()]);
  await fake?.close();
  await install?.close();
});

describe("product enrichment with an LLM", () => {
  it("enriches every product in batches through POST /api/ai/products/enrich", async () => {
    fake.setMode("slow");
    fake.setOptions({ slowMs: 300 });
    const total = install.truth().products;
    const finished = await runEnrichment(async () => {
      const response = await postEnrich({});
      expect(response.status).toBe(202);
      expect(await response.json()).toEqual({ jobId: expect.stringMatching(/^\d+$/) });
    });
    expect(finished).toMatchObject({ total, llm: total, local: 0, skipped: 0 });

    // 60 products, 20 a request, at most LLM_CONCURRENCY=2 at once.
    expect(fake.calls).toBe(3);
    expect(fake.maxInFlight).toBe(2);
    expect(fake.requests.every((request) => request.headers.authorization === "Bearer sk-test-enrichment")).toBe(true);
    expect(fake.requests[0]!.body.model).toBe("test/enricher");

    const rows = await enrichments();
    expect(rows).toHaveLength(total);
    const products = await install.prisma.product.findMany({ where: { shop: install.shop } });
    const titles = new Map(products.map((product) => [product.id, product]));
    for (const row of rows) {
      const product = titles.get(row.productId)!;
      // Each answer lands on the product it was written for.
      expect(row.audience).toBe(`People who want ${product.title}`);
      expect(row.attributes).toMatchObject({ style: `${product.title} style` });
      expect(row.tags).toEqual(["gear", "trail-ready", product.productType!.toLowerCase().replace(/\W+/g, "-")]);
      expect(row.source).toBe("llm");
    }

    const calls = await install.prisma.aiCall.findMany({ where: { shop: install.shop } });
    expect(calls).toHaveLength(3);
    expect(calls.every((call) => call.outcome === "ok" && call.promptTokens > 0 && call.costUsd.gt(0))).toBe(true);
  });

  it("makes no LLM call when run again over unchanged products", async () => {
    fake.reset();
    const before = await enrichments();
    const finished = await runEnrichment(() => enqueueProductEnrichment(install.shop));
    expect(finished).toMatchObject({ skipped: before.length, llm: 0, local: 0 });
    expect(fake.calls).toBe(0);
    expect(await enrichments()).toEqual(before);
  });

  it("enriches again only the product whose input changed", async () => {
    fake.reset();
    fake.setMode("valid");
    const [first] = await enrichments();
    await install.prisma.product.update({
      where: { shop_id: { shop: install.shop, id: first!.productId } },
      data: { title: "Renamed Merino Hoodie" },
    });
    const finished = await runEnrichment(() => enqueueProductEnrichment(install.shop));
    expect(finished).toMatchObject({ llm: 1, skipped: install.truth().products - 1 });
    expect(fake.calls).toBe(1);
    const sent = JSON.parse(fake.requests[0]!.body.messages[1]!.content).products;
    expect(sent.map((product: SentProduct) => product.title)).toEqual(["Renamed Merino Hoodie"]);
    const updated = await install.prisma.productEnrichment.findUniqueOrThrow({
      where: { shop_productId: { shop: install.shop, productId: first!.productId } },
    });
    expect(updated.audience).toBe("People who want Renamed Merino Hoodie");
  });

  it("enriches only the products a request lists", async () => {
    fake.reset();
    const [, second, third] = await enrichments();
    await install.prisma.productEnrichment.deleteMany({
      where: { shop: install.shop, productId: { in: [second!.productId, third!.productId] } },
    });
    const finished = await runEnrichment(async () => {
      const response = await postEnrich({ productIds: [second!.productId] });
      expect(response.status).toBe(202);
    });
    expect(finished).toMatchObject({ total: 1, llm: 1 });
    expect(
      await install.prisma.productEnrichment.count({
        where: { shop: install.shop, productId: { in: [second!.productId, third!.productId] } },
      }),
    ).toBe(1);
    await runEnrichment(() => enqueueProductEnrichment(install.shop, [third!.productId]));
  });

  it("falls back to local rules when the LLM keeps failing, and upgrades them once it answers", async () => {
    fake.reset();
    fake.setMode("500");
    const [first] = await enrichments();
    await install.prisma.product.update({
      where: { shop_id: { shop: install.shop, id: first!.productId } },
      data: {
        title: "Storm Rain Jacket 1",
        productType: "Jacket",
        description: "A waterproof jacket in recycled nylon for city commutes.",
      },
    });
    const failed = await runEnrichment(() => enqueueProductEnrichment(install.shop));
    expect(failed).toMatchObject({ llm: 0, local: 1 });
    // LLM_MAX_RETRIES=1: two requests, then the local rules.
    expect(fake.calls).toBe(2);
    const local = await install.prisma.productEnrichment.findUniqueOrThrow({
      where: { shop_productId: { shop: install.shop, productId: first!.productId } },
    });
    expect(local.source).toBe("local");
    expect(local.attributes).toMatchObject({ material: "nylon", features: "waterproof, recycled" });
    expect(local.audience).toBe("City commuters and eco-conscious shoppers looking for jackets");

    fake.reset();
    fake.setMode("valid");
    const upgraded = await runEnrichment(() => enqueueProductEnrichment(install.shop));
    expect(upgraded).toMatchObject({ llm: 1 });
    expect(fake.calls).toBe(1);
  });

  it("rejects requests without a session token or with an invalid body", async () => {
    expect((await postEnrich({}, "not-a-token")).status).toBe(401);
    const invalid = await postEnrich({ productIds: ["gid://shopify/Customer/1"] });
    expect(invalid.status).toBe(400);
    expect((await invalid.json()).error).toMatch(/productIds\.0: expected a product GID/);
  });
});

describe("product enrichment runs that end early", () => {
  it("stops asking an LLM server that is down and enriches the rest by local rules", async () => {
    fake.reset();
    fake.setMode("500");
    await install.prisma.productEnrichment.deleteMany({ where: { shop: install.shop } });
    const llm = createLlmClient({ ...llmSettings(), model: "test/down-model", concurrency: 1 });
    const result = await enrichProducts({ shop: install.shop, llm });
    const total = install.truth().products;
    expect(result).toMatchObject({ total, processed: total, llm: 0, local: total });
    // LLM_MAX_RETRIES=1: the first batch tries twice; the two other batches do not try at all.
    expect(fake.calls).toBe(2);
  });

  it("aborts the request in flight and starts no other batch", async () => {
    fake.reset();
    fake.setMode("timeout");
    await install.prisma.productEnrichment.deleteMany({ where: { shop: install.shop } });
    // Another model: the batches cached by the runs above do not answer for it.
    const llm = createLlmClient({ ...llmSettings(), model: "test/other-model", timeoutMs: 10_000, concurrency: 1 });
    const controller = new AbortController();
    const running = enrichProducts({ shop: install.shop, signal: controller.signal, llm }).catch((error) => error);
    await waitFor(async () => fake.calls === 1, 10_000, "the first batch's request");
    const asked = Date.now();
    controller.abort(new Error("job cancelled"));
    expect(((await running) as Error).message).toBe("job cancelled");
    expect(Date.now() - asked).toBeLessThan(1000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(fake.calls).toBe(1);
    expect(fake.inFlight).toBe(0);
    expect(await install.prisma.productEnrichment.count({ where: { shop: install.shop } })).toBe(0);
  });
});

describe("product enrichment without an API key", () => {
  it("uses the local rules and sends nothing", async () => {
    await worker?.stop();
    worker = await startWorker(install.env);
    fake.reset();
    await install.prisma.productEnrichment.deleteMany({ where: { shop: install.shop } });
    const total = install.truth().products;
    const finished = await runEnrichment(() => enqueueProductEnrichment(install.shop));
    expect(finished).toMatchObject({ total, llm: 0, local: total });
    expect(fake.calls).toBe(0);

    const rows = await enrichments();
    expect(rows).toHaveLength(total);
    const products = await install.prisma.product.findMany({ where: { shop: install.shop }, orderBy: { id: "asc" } });
    for (const [i, row] of rows.entries()) {
      expect(row.source).toBe("local");
      const expected = localEnrichment(productInput(products[i]!));
      expect({ attributes: row.attributes, audience: row.audience, tags: row.tags }).toEqual(expected);
      expect(row.attributes).toMatchObject({ category: products[i]!.productType });
      expect(row.tags.length).toBeLessThanOrEqual(8);
    }
    // Unchanged products stay as they are on the next run.
    const again = await runEnrichment(() => enqueueProductEnrichment(install.shop));
    expect(again).toMatchObject({ skipped: total, local: 0 });
  });
});
