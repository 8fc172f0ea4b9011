import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseConfig } from "../../app/config.server";
import { canonicalJson, hashInput, strictJsonSchema } from "../../app/services/llm.server";
import { localEnrichment, productInput, productInputHash } from "../../app/services/product-enrichment.server";
import { TEST_APP } from "../helpers/app-env";

const product = {
  id: "gid://shopify/Product/1",
  title: "Alpine Merino Sweater",
  description: "A  warm sweater in organic cotton and merino for cold mornings and winter trails.",
  productType: "Sweater",
  vendor: "Ridgeline",
  options: [
    { name: "Size", values: ["S", "M", "L"] },
    { name: "Color", values: ["Forest", "Sand"] },
  ],
  tags: ["Collection:Winter", "bestseller"],
};

describe("LLM settings", () => {
  const env = { ...TEST_APP.env, DATABASE_URL: "postgresql://localhost:5432/db" };

  it("defaults to OpenRouter, no key, and gpt-4o-mini prices", () => {
    const config = parseConfig(env);
    expect(config).toMatchObject({
      LLM_BASE_URL: "https://openrouter.ai/api/v1",
      LLM_MODEL: "openai/gpt-4o-mini",
      LLM_TIMEOUT_MS: 30_000,
      LLM_MAX_RETRIES: 3,
      LLM_CONCURRENCY: 4,
      LLM_INPUT_USD_PER_MTOK: 0.15,
      LLM_OUTPUT_USD_PER_MTOK: 0.6,
    });
    expect(config.LLM_API_KEY).toBeUndefined();
    expect(parseConfig({ ...env, LLM_API_KEY: "  " }).LLM_API_KEY).toBeUndefined();
  });

  it("names a malformed LLM setting", () => {
    expect(() => parseConfig({ ...env, LLM_BASE_URL: "ftp://models.example" })).toThrow(/LLM_BASE_URL is invalid/);
    expect(() => parseConfig({ ...env, LLM_CONCURRENCY: "0" })).toThrow(/LLM_CONCURRENCY is invalid/);
  });
});

describe("cache keys and response schemas", () => {
  it("hashes equal inputs equally whatever their key order", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}',
    );
    expect(hashInput({ x: 1, y: 2 })).toBe(hashInput({ y: 2, x: 1 }));
    expect(hashInput({ x: 1 })).not.toBe(hashInput({ x: 2 }));
  });

  it("writes strict JSON schemas: every property required, no others allowed", () => {
    const schema = strictJsonSchema(
      z.object({
        name: z.string().min(1).max(40),
        note: z.string().optional(),
        items: z.array(z.object({ label: z.string().default("x") })),
      }),
    );
    expect(schema.$schema).toBeUndefined();
    expect(schema.properties).toMatchObject({ name: { type: "string" } });
    expect(JSON.stringify(schema)).not.toMatch(/minLength|maxLength/);
    expect(schema).toMatchObject({
      type: "object",
      required: ["name", "note", "items"],
      additionalProperties: false,
      properties: { items: { items: { required: ["label"], additionalProperties: false } } },
    });
  });
});

describe("local product enrichment", () => {
  it("derives attributes, audience and tags from the product's words and options", () => {
    expect(localEnrichment(productInput(product))).toEqual({
      attributes: {
        category: "Sweater",
        size: "S, M, L",
        color: "Forest, Sand",
        material: "organic cotton, merino",
        features: "organic",
      },
      audience: "Hikers and cold-weather adventurers looking for sweaters",
      tags: ["sweater", "organic", "organic-cotton", "merino", "winter", "bestseller"],
    });
  });

  it("hashes only what the enrichment reads, so a sync that changes nothing else costs nothing", () => {
    const hash = productInputHash(productInput(product));
    expect(productInputHash(productInput({ ...product, tags: ["bestseller", "Collection:Winter"] }))).toBe(hash);
    expect(productInputHash(productInput({ ...product, description: product.description + " " }))).toBe(hash);
    expect(productInputHash(productInput({ ...product, title: "Alpine Wool Sweater" }))).not.toBe(hash);
  });

  it("truncates long descriptions and drops Shopify's placeholder option", () => {
    const input = productInput({
      ...product,
      description: "word ".repeat(500),
      options: [{ name: "Title", values: ["Default Title"] }],
    });
    expect(input.description.length).toBeLessThanOrEqual(601);
    expect(input.options).toEqual([]);
  });
});
