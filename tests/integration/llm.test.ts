import { Prisma } from "@prisma/client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import prisma from "../../app/db.server";
import {
  createLlmClient,
  LlmInvalidOutputError,
  llmConfigured,
  LlmUnavailableError,
  structuredCompletion,
  type LlmSettings,
} from "../../app/services/llm.server";
import { startFakeOpenAi, type FakeOpenAi } from "../helpers/fake-openai";

/** The LLM client against a local OpenAI-compatible server and real Postgres. */

const segmentName = z.object({
  name: z.string().min(1).max(60),
  description: z.string().min(1),
  actions: z.array(z.string().min(1)).min(2).max(3),
});

const goodAnswer = {
  name: "Lapsed weekend hikers",
  description: "Bought trail gear twice last spring and nothing since.",
  actions: ["Send a back-to-the-trails offer", "Show new arrivals in hiking boots"],
};

let fake: FakeOpenAi;
let settings: LlmSettings;
let shopCounter = 0;
const newShop = () => `llm-${Date.now()}-${shopCounter++}.myshopify.com`;

beforeAll(async () => {
  fake = await startFakeOpenAi();
  settings = {
    baseUrl: fake.url,
    apiKey: "sk-test-fake-key",
    model: "test/model-1",
    timeoutMs: 400,
    maxRetries: 2,
    concurrency: 2,
    inputUsdPerMtok: 2,
    outputUsdPerMtok: 8,
    retryBaseMs: 10,
  };
});

afterAll(async () => {
  await fake?.close();
});

beforeEach(() => {
  fake.setMode("valid");
  fake.setResponder(undefined);
  fake.setOptions({ slowMs: 1000, retryAfter: "1" });
  fake.reset();
});

const request = (shop: string, user = "Segment: 40 customers, 2 orders each, last order 200 days ago.") => ({
  shop,
  purpose: "segment-name",
  schema: segmentName,
  system: "You name customer segments for a merchant.",
  user,
});

const callsOf = (shop: string) => prisma.aiCall.findMany({ where: { shop }, orderBy: { createdAt: "asc" } });

describe("structuredCompletion", () => {
  it("asks for strict JSON-schema output, parses it and answers the same input from the cache", async () => {
    const llm = createLlmClient(settings);
    const shop = newShop();
    fake.setResponder(() => goodAnswer);

    const first = await llm.structuredCompletion(request(shop));
    expect(first).toEqual({ output: goodAnswer, source: "llm" });
    expect(fake.calls).toBe(1);
    const sent = fake.requests[0]!;
    expect(sent.headers.authorization).toBe("Bearer sk-test-fake-key");
    expect(sent.body.model).toBe("test/model-1");
    expect(sent.body.messages.map((m) => m.role)).toEqual(["system", "user"]);
    const format = sent.body.response_format!;
    expect(format.type).toBe("json_schema");
    expect(format.json_schema).toMatchObject({ name: "segment-name", strict: true });
    expect(format.json_schema!.schema).toMatchObject({
      type: "object",
      required: ["name", "description", "actions"],
      additionalProperties: false,
    });

    const second = await llm.structuredCompletion(request(shop));
    expect(second).toEqual({ output: goodAnswer, source: "cache" });
    expect(fake.calls).toBe(1);
    // Another shop does not read this shop's cache.
    expect((await llm.structuredCompletion(request(newShop()))).source).toBe("llm");
    expect(fake.calls).toBe(2);
  });

  it("hashes cacheInput instead of the prompt when given one", async () => {
    const llm = createLlmClient(settings);
    const shop = newShop();
    const cacheInput = { segment: "s-1", version: 1 };
    await llm.structuredCompletion({ ...request(shop, "first wording"), cacheInput });
    const again = await llm.structuredCompletion({ ...request(shop, "other wording"), cacheInput });
    expect(again.source).toBe("cache");
    expect(fake.calls).toBe(1);
  });

  it("caches the answer as the model wrote it, so transforming schemas read it back the same", async () => {
    const llm = createLlmClient(settings);
    const shop = newShop();
    const exclaimed = z.object({ name: z.string().transform((name) => `${name}!`) });
    fake.setResponder(() => ({ name: "Loyal locals" }));
    const ask = () => llm.structuredCompletion({ ...request(shop), schema: exclaimed });
    expect(await ask()).toEqual({ output: { name: "Loyal locals!" }, source: "llm" });
    expect(await ask()).toEqual({ output: { name: "Loyal locals!" }, source: "cache" });
  });

  it("fills a generated answer from the schema when the fake has no responder", async () => {
    const shop = newShop();
    const result = await createLlmClient(settings).structuredCompletion(request(shop));
    expect(segmentName.safeParse(result.output).success).toBe(true);
  });

  it("retries once with the validation error when the output is malformed, then succeeds", async () => {
    const shop = newShop();
    fake.setMode(["malformed", "valid"]);
    fake.setResponder(() => goodAnswer);
    const result = await createLlmClient(settings).structuredCompletion(request(shop));
    expect(result).toEqual({ output: goodAnswer, source: "llm" });
    expect(fake.calls).toBe(2);
    const retry = fake.requests[1]!.body.messages;
    expect(retry.map((m) => m.role)).toEqual(["system", "user", "assistant", "user"]);
    expect(retry[3]!.content).toMatch(/not valid: the answer is not JSON/);
    expect((await callsOf(shop)).map((call) => call.outcome)).toEqual(["invalid", "ok"]);
  });

  it("gives up with LlmInvalidOutputError after two invalid answers and caches nothing", async () => {
    const shop = newShop();
    fake.setMode(["mismatch", "malformed", "valid"]);
    const llm = createLlmClient(settings);
    const failure = await llm.structuredCompletion(request(shop)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LlmInvalidOutputError);
    expect(failure).toBeInstanceOf(LlmUnavailableError);
    expect(fake.calls).toBe(2);
    expect(fake.requests[1]!.body.messages[3]!.content).toMatch(/does not match the schema/);
    expect(await prisma.aiCacheEntry.count({ where: { shop } })).toBe(0);
    expect((await llm.structuredCompletion(request(shop))).source).toBe("llm");
    expect(fake.calls).toBe(3);
  });

  it("waits as long as Retry-After asks on 429, then succeeds", async () => {
    const shop = newShop();
    fake.setMode(["429", "valid"]);
    fake.setOptions({ retryAfter: "1" });
    const started = Date.now();
    const result = await createLlmClient(settings).structuredCompletion(request(shop));
    expect(result.source).toBe("llm");
    expect(fake.calls).toBe(2);
    // retryBaseMs is 10: only the header explains a pause of a second.
    const gap = fake.requests[1]!.receivedAt - fake.requests[0]!.receivedAt;
    expect(gap).toBeGreaterThanOrEqual(950);
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await callsOf(shop)).map((call) => [call.outcome, call.error?.slice(0, 8)])).toEqual([
      ["error", "HTTP 429"],
      ["ok", undefined],
    ]);
  });

  it("fails with LlmUnavailableError when 5xx outlasts LLM_MAX_RETRIES", async () => {
    const shop = newShop();
    fake.setMode("500");
    const failure = await createLlmClient(settings)
      .structuredCompletion(request(shop))
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LlmUnavailableError);
    expect(failure).not.toBeInstanceOf(LlmInvalidOutputError);
    expect((failure as Error).message).toMatch(/after 3 attempt\(s\): HTTP 500/);
    expect(fake.calls).toBe(settings.maxRetries + 1);
    const calls = await callsOf(shop);
    expect(calls).toHaveLength(3);
    expect(calls.every((call) => call.outcome === "error")).toBe(true);
  });

  it("abandons an attempt after LLM_TIMEOUT_MS and retries it", async () => {
    const shop = newShop();
    fake.setMode(["timeout", "valid"]);
    fake.setResponder(() => goodAnswer);
    const result = await createLlmClient(settings).structuredCompletion(request(shop));
    expect(result.output).toEqual(goodAnswer);
    expect(fake.calls).toBe(2);
    const gap = fake.requests[1]!.receivedAt - fake.requests[0]!.receivedAt;
    expect(gap).toBeGreaterThanOrEqual(settings.timeoutMs - 20);
    expect(gap).toBeLessThan(settings.timeoutMs + 500);
    const [timedOut] = await callsOf(shop);
    expect(timedOut).toMatchObject({ outcome: "error", error: "no answer within 400 ms" });
    expect(timedOut!.durationMs).toBeGreaterThanOrEqual(settings.timeoutMs - 20);
  });

  it("takes a slow answer that comes within the timeout, and retries one that does not", async () => {
    const shop = newShop();
    fake.setMode("slow");
    fake.setOptions({ slowMs: 150 });
    expect((await createLlmClient(settings).structuredCompletion(request(shop))).source).toBe("llm");
    expect(fake.calls).toBe(1);

    fake.reset();
    fake.setMode(["slow", "valid"]);
    fake.setOptions({ slowMs: 2000 });
    expect((await createLlmClient(settings).structuredCompletion(request(newShop()))).source).toBe("llm");
    expect(fake.calls).toBe(2);
  });

  it("stops at once when the caller's signal aborts, without retrying", async () => {
    fake.setMode("timeout");
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("job cancelled")), 100);
    const started = Date.now();
    const failure = await createLlmClient({ ...settings, timeoutMs: 10_000 })
      .structuredCompletion({ ...request(newShop()), signal: controller.signal })
      .catch((error: unknown) => error);
    expect((failure as Error).message).toBe("job cancelled");
    expect(Date.now() - started).toBeLessThan(1000);
    expect(fake.calls).toBe(1);
  });

  it("keeps at most LLM_CONCURRENCY requests in flight", async () => {
    fake.setMode("slow");
    fake.setOptions({ slowMs: 150 });
    const llm = createLlmClient({ ...settings, concurrency: 2 });
    const shop = newShop();
    const results = await Promise.all(
      Array.from({ length: 7 }, (_, i) => llm.structuredCompletion(request(shop, `segment ${i}`))),
    );
    expect(results.every((result) => result.source === "llm")).toBe(true);
    expect(fake.calls).toBe(7);
    expect(fake.maxInFlight).toBe(2);
  });

  it("records every request's tokens and cost for the shop", async () => {
    const shop = newShop();
    fake.setMode(["500", "valid"]);
    await createLlmClient(settings).structuredCompletion(request(shop));
    const calls = await callsOf(shop);
    expect(calls.map((call) => call.outcome)).toEqual(["error", "ok"]);
    expect(calls[0]).toMatchObject({ promptTokens: 0, completionTokens: 0, model: "test/model-1" });
    const usage = fake.requests[1]!.usage!;
    expect(usage.prompt_tokens).toBeGreaterThan(0);
    expect(calls[1]).toMatchObject({
      purpose: "segment-name",
      model: "test/model-1",
      promptTokens: usage.prompt_tokens,
      completionTokens: usage.completion_tokens,
    });
    const expected = new Prisma.Decimal(usage.prompt_tokens * 2 + usage.completion_tokens * 8).div(1e6);
    expect(calls[1]!.costUsd.toFixed(6)).toBe(expected.toFixed(6));
    expect(calls[1]!.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("sends nothing without an API key", async () => {
    const failure = await createLlmClient({ ...settings, apiKey: undefined })
      .structuredCompletion(request(newShop()))
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LlmUnavailableError);
    expect(fake.calls).toBe(0);
    // The process-wide client reads the settings: the test environment has no LLM_API_KEY.
    expect(llmConfigured()).toBe(false);
    await expect(structuredCompletion(request(newShop()))).rejects.toBeInstanceOf(LlmUnavailableError);
    expect(fake.calls).toBe(0);
  });
});
