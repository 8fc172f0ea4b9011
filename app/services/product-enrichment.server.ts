import { z } from "zod";
import { enqueueJob, hasPendingJob } from "../models/jobs.server";
import { logger } from "../logger.server";
import {
  countProducts,
  enrichmentStates,
  productsAfter,
  saveEnrichments,
  type EnrichmentRecord,
  type ProductForEnrichment,
} from "../models/product-enrichments.server";
import { hashInput, LlmInvalidOutputError, LlmUnavailableError, processLlmClient, type LlmClient } from "./llm.server";

/**
 * Product enrichment: attributes, audience and tags derived from a product's
 * title, description, options and type, by the LLM in batches, or by a
 * deterministic local rule set when no LLM is configured or it fails.
 * Product data is not personal data, so it may go to the LLM.
 */

// Bump when the prompt or the shape of the result changes: every product is enriched again.
const ENRICHMENT_VERSION = 1;
const PURPOSE = "product-enrichment";
const BATCH_SIZE = 20;
const PAGE_SIZE = 200;
const DESCRIPTION_CHARS = 600;
const MAX_TAGS = 8;
const MAX_ATTRIBUTES = 8;

export interface ProductInput {
  title: string;
  description: string;
  productType: string;
  vendor: string;
  options: { name: string; values: string[] }[];
  tags: string[];
}

export interface Enrichment {
  attributes: Record<string, string>;
  audience: string;
  tags: string[];
}

const optionsSchema = z.array(z.object({ name: z.string(), values: z.array(z.string()) }));

export function productInput(product: ProductForEnrichment): ProductInput {
  const options = optionsSchema.safeParse(product.options);
  const description = (product.description ?? "").replace(/\s+/g, " ").trim();
  return {
    title: product.title.trim(),
    description: description.length > DESCRIPTION_CHARS ? `${description.slice(0, DESCRIPTION_CHARS)}…` : description,
    productType: product.productType?.trim() ?? "",
    vendor: product.vendor?.trim() ?? "",
    // Shopify's placeholder option of products without variants says nothing.
    options: (options.success ? options.data : [])
      .filter((option) => !(option.name === "Title" && option.values.join() === "Default Title"))
      .map((option) => ({ name: option.name.trim(), values: option.values.map((value) => value.trim()).slice(0, 20) })),
    tags: [...product.tags].map((tag) => tag.trim()).sort(),
  };
}

export function productInputHash(input: ProductInput) {
  return hashInput({ version: ENRICHMENT_VERSION, input });
}

// --- Normalisation shared by both sources.

function normaliseTag(tag: string) {
  return tag
    .toLowerCase()
    .replace(/^[^:]*:/, "")
    .trim()
    .replace(/[^\p{L}\p{N}]+/gu, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
}

function normaliseTags(tags: string[]) {
  return [...new Set(tags.map(normaliseTag).filter(Boolean))].slice(0, MAX_TAGS);
}

function normaliseAttributes(pairs: { name: string; value: string }[]) {
  const attributes: Record<string, string> = {};
  for (const { name, value } of pairs) {
    const key = name
      .toLowerCase()
      .trim()
      .replace(/[^\p{L}\p{N}]+/gu, " ")
      .trim();
    const text = value.replace(/\s+/g, " ").trim().slice(0, 120);
    if (key && text && !(key in attributes) && Object.keys(attributes).length < MAX_ATTRIBUTES) attributes[key] = text;
  }
  return attributes;
}

// --- Local, deterministic enrichment: keywords and options.

const MATERIALS = [
  "organic cotton",
  "merino",
  "wool",
  "cotton",
  "linen",
  "leather",
  "suede",
  "canvas",
  "denim",
  "nylon",
  "polyester",
  "fleece",
  "down",
  "silk",
  "cashmere",
  "bamboo",
  "hemp",
  "rubber",
  "stainless steel",
  "aluminium",
  "aluminum",
  "titanium",
  "ceramic",
  "glass",
  "wood",
];
const COLORS = [
  "black",
  "white",
  "grey",
  "gray",
  "navy",
  "blue",
  "red",
  "green",
  "olive",
  "brown",
  "tan",
  "beige",
  "pink",
  "purple",
  "yellow",
  "orange",
  "charcoal",
  "cream",
];
const FEATURES = [
  "waterproof",
  "weatherproof",
  "windproof",
  "insulated",
  "breathable",
  "lightweight",
  "packable",
  "durable",
  "recycled",
  "organic",
  "handmade",
  "vegan",
];
const AUDIENCES: [RegExp, string][] = [
  [/\b(trail|hik(e|ing|ers?)|trek)/, "hikers"],
  [/\b(camp(ing|ers?)?|tent|sleeping bag)\b/, "campers"],
  [/\b(run(ning|ners?)?|jog)/, "runners"],
  [/\b(commut\w*|city|urban)\b/, "city commuters"],
  [/\b(travel\w*|trips?|weekend)\b/, "travellers"],
  [/\b(cold|winter|snow|ski\w*)\b/, "cold-weather adventurers"],
  [/\b(yoga|gym|fitness|workout)\b/, "fitness fans"],
  [/\b(kids?|child(ren)?|toddler|baby)\b/, "parents"],
  [/\bgift/, "gift shoppers"],
  [/\b(recycled|organic|eco|sustainab\w*)\b/, "eco-conscious shoppers"],
];

const containsWord = (text: string, word: string) =>
  new RegExp(`(^|[^\\p{L}])${word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}([^\\p{L}]|$)`, "u").test(text);

function plural(noun: string) {
  const lower = noun.toLowerCase();
  if (/s$/.test(lower)) return lower;
  if (/[^aeiou]y$/.test(lower)) return `${lower.slice(0, -1)}ies`;
  if (/(ch|sh|x|z)$/.test(lower)) return `${lower}es`;
  return `${lower}s`;
}

export function localEnrichment(input: ProductInput): Enrichment {
  const text = `${input.title} ${input.description} ${input.productType} ${input.tags.join(" ")}`.toLowerCase();
  const optionNames = new Set(input.options.map((option) => option.name.toLowerCase()));
  const pairs: { name: string; value: string }[] = [];
  if (input.productType) pairs.push({ name: "category", value: input.productType });
  for (const option of input.options) pairs.push({ name: option.name, value: option.values.join(", ") });
  const materials = MATERIALS.filter((material) => containsWord(text, material));
  const distinctMaterials = materials.filter(
    (material) => !materials.some((other) => other !== material && other.includes(material)),
  );
  if (distinctMaterials.length && !optionNames.has("material"))
    pairs.push({ name: "material", value: distinctMaterials.join(", ") });
  const colors = COLORS.filter((color) => containsWord(text, color));
  if (colors.length && !optionNames.has("color") && !optionNames.has("colour"))
    pairs.push({ name: "color", value: colors.join(", ") });
  const features = FEATURES.filter((feature) => containsWord(text, feature));
  if (features.length) pairs.push({ name: "features", value: features.join(", ") });

  const audiences = AUDIENCES.filter(([pattern]) => pattern.test(text))
    .map(([, audience]) => audience)
    .slice(0, 2);
  const who = audiences.length ? audiences.join(" and ") : "shoppers";
  const what = input.productType ? plural(input.productType) : "products like this one";
  const audience = `${who[0]!.toUpperCase()}${who.slice(1)} looking for ${what}`;

  return {
    attributes: normaliseAttributes(pairs),
    audience,
    tags: normaliseTags([input.productType, ...features, ...distinctMaterials, ...input.tags]),
  };
}

// --- LLM enrichment.

const SYSTEM_PROMPT = `You enrich a store's product catalogue for its marketing.
For every product (identified by "ref") derive, only from what the data supports:
- attributes: up to ${MAX_ATTRIBUTES} short name/value pairs a shopper would filter by (material, color, style, fit, season, use, capacity, …);
- audience: one short sentence, in plain words a merchant understands, naming who the product is for;
- tags: 3 to ${MAX_TAGS} lowercase tags, single words or short hyphenated phrases, without "name:" prefixes.
Answer for every ref exactly once.`;

function batchSchema(refs: string[]) {
  return z
    .object({
      products: z
        .array(
          z.object({
            ref: z.enum(refs as [string, ...string[]]),
            attributes: z
              .array(z.object({ name: z.string().min(1).max(40), value: z.string().min(1).max(120) }))
              .max(MAX_ATTRIBUTES),
            audience: z.string().min(1).max(300),
            tags: z.array(z.string().min(1).max(40)).max(MAX_TAGS),
          }),
        )
        .length(refs.length),
    })
    .refine((answer) => new Set(answer.products.map((product) => product.ref)).size === refs.length, {
      message: "every ref must be answered exactly once",
      path: ["products"],
    });
}

async function enrichBatchWithLlm(llm: LlmClient, shop: string, inputs: ProductInput[], signal?: AbortSignal) {
  const refs = inputs.map((_, i) => String(i + 1));
  const products = inputs.map((input, i) => ({ ref: refs[i]!, ...input }));
  const { output, source } = await llm.structuredCompletion({
    shop,
    purpose: PURPOSE,
    schema: batchSchema(refs),
    system: SYSTEM_PROMPT,
    user: JSON.stringify({ products }),
    cacheInput: { version: ENRICHMENT_VERSION, products },
    signal,
  });
  const byRef = new Map(output.products.map((product) => [product.ref, product]));
  const enrichments = refs.map((ref): Enrichment => {
    const answer = byRef.get(ref)!;
    return {
      attributes: normaliseAttributes(answer.attributes),
      audience: answer.audience.trim(),
      tags: normaliseTags(answer.tags),
    };
  });
  return { enrichments, source };
}

export interface EnrichmentProgress {
  total: number;
  processed: number;
  skipped: number;
  llm: number;
  local: number;
  /** Batches answered from the AI cache without a request. */
  cachedBatches: number;
}

export interface EnrichProductsOptions {
  shop: string;
  /** Only these products; every product of the shop when absent. */
  productIds?: string[];
  signal?: AbortSignal;
  onProgress?: (progress: EnrichmentProgress) => void;
  /** The process-wide client unless another is given. */
  llm?: LlmClient;
}

/**
 * Enriches the shop's products whose input changed since their last
 * enrichment (and, once an LLM is configured, those only enriched locally).
 */
export async function enrichProducts({
  shop,
  productIds,
  signal,
  onProgress,
  llm = processLlmClient(),
}: EnrichProductsOptions): Promise<EnrichmentProgress> {
  const useLlm = llm.configured;
  // Once the server is unreachable (retries exhausted), the rest of the run uses the local rules.
  let llmDown = false;
  const progress: EnrichmentProgress = { total: 0, processed: 0, skipped: 0, llm: 0, local: 0, cachedBatches: 0 };
  progress.total = await countProducts(shop, productIds);
  let after: string | null = null;
  for (;;) {
    signal?.throwIfAborted();
    const page = await productsAfter(shop, after, PAGE_SIZE, productIds);
    if (page.length === 0) break;
    after = page[page.length - 1]!.id;
    const states = await enrichmentStates(
      shop,
      page.map((product) => product.id),
    );
    const pending: { productId: string; input: ProductInput; inputHash: string }[] = [];
    for (const product of page) {
      const input = productInput(product);
      const inputHash = productInputHash(input);
      const state = states.get(product.id);
      if (state?.inputHash === inputHash && (state.source === "llm" || !useLlm)) progress.skipped++;
      else pending.push({ productId: product.id, input, inputHash });
    }
    progress.processed += page.length - pending.length;

    const batches: (typeof pending)[] = [];
    for (let i = 0; i < pending.length; i += BATCH_SIZE) batches.push(pending.slice(i, i + BATCH_SIZE));
    // As many lanes as the client has request slots; each lane takes the next batch when it is done.
    const runBatch = async (batch: (typeof pending)[number][]) => {
      signal?.throwIfAborted();
      let enrichments: Enrichment[] | undefined;
      let source: "llm" | "local" = "local";
      if (useLlm && !llmDown) {
        try {
          const answer = await enrichBatchWithLlm(
            llm,
            shop,
            batch.map((item) => item.input),
            signal,
          );
          enrichments = answer.enrichments;
          source = "llm";
          if (answer.source === "cache") progress.cachedBatches++;
        } catch (error) {
          if (!(error instanceof LlmUnavailableError)) throw error;
          if (!(error instanceof LlmInvalidOutputError)) llmDown = true;
          logger.warn(
            { shop, products: batch.length, error: error.message },
            "product enrichment fell back to local rules",
          );
        }
      }
      enrichments ??= batch.map((item) => localEnrichment(item.input));
      const records: EnrichmentRecord[] = batch.map((item, i) => ({
        productId: item.productId,
        inputHash: item.inputHash,
        ...enrichments[i]!,
        source,
      }));
      signal?.throwIfAborted();
      await saveEnrichments(shop, records);
      progress[source] += batch.length;
      progress.processed += batch.length;
      onProgress?.({ ...progress });
    };
    let next = 0;
    let failed = false;
    await Promise.all(
      Array.from({ length: Math.min(llm.concurrency, batches.length) }, async () => {
        try {
          while (next < batches.length && !failed) await runBatch(batches[next++]!);
        } catch (error) {
          failed = true;
          throw error;
        }
      }),
    );
    if (pending.length === 0) onProgress?.({ ...progress });
  }
  return progress;
}

// --- Jobs.

/** Enrichment jobs of a shop run one at a time, so two runs never pay for the same products. */
export function enqueueProductEnrichment(shop: string, productIds?: string[]) {
  return enqueueJob("products-enrich", { shop, ...(productIds ? { productIds } : {}) });
}

/** Whether an enrichment job of the shop is waiting or running. */
export function enrichmentInProgress(shop: string) {
  return hasPendingJob("products-enrich", shop);
}
