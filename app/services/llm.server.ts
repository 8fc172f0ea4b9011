import { createHash } from "node:crypto";
import { Prisma } from "@prisma/client";
import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from "openai";
import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { z } from "zod";
import { loadConfig, type Config } from "../config.server";
import { logger } from "../logger.server";
import { findCachedOutput, recordAiCall, storeCachedOutput, type AiCallOutcome } from "../models/ai.server";
import { metrics } from "./metrics.server";

/**
 * The one LLM client: structured output from any OpenAI-compatible server,
 * validated with zod and cached by a hash of its input. Retries, the
 * concurrency limit and the timeout are ours (the SDK's own retries are off)
 * so that every request is bounded and recorded in AiCall with its tokens
 * and cost. Prompts must never contain customer personal data.
 */

export interface StructuredRequest<T> {
  shop: string;
  purpose: string;
  schema: z.ZodType<T>;
  system: string;
  user: string;
  /** what the cache key hashes; defaults to {system,user,model} */
  cacheInput?: unknown;
  signal?: AbortSignal;
}

export interface StructuredResult<T> {
  output: T;
  source: "llm" | "cache";
}

/** No API key, or every attempt failed: the caller uses its deterministic fallback. */
export class LlmUnavailableError extends Error {
  override name = "LlmUnavailableError";
}

/** The model answered, but twice with output that does not match the schema. */
export class LlmInvalidOutputError extends LlmUnavailableError {
  override name = "LlmInvalidOutputError";
}

export interface LlmSettings {
  baseUrl: string;
  apiKey?: string;
  model: string;
  timeoutMs: number;
  maxRetries: number;
  concurrency: number;
  inputUsdPerMtok: number;
  outputUsdPerMtok: number;
  /** First backoff delay in ms; doubled on every retry. */
  retryBaseMs?: number;
}

export function llmSettingsFromConfig(config: Config = loadConfig()): LlmSettings {
  return {
    baseUrl: config.LLM_BASE_URL,
    apiKey: config.LLM_API_KEY,
    model: config.LLM_MODEL,
    timeoutMs: config.LLM_TIMEOUT_MS,
    maxRetries: config.LLM_MAX_RETRIES,
    concurrency: config.LLM_CONCURRENCY,
    inputUsdPerMtok: config.LLM_INPUT_USD_PER_MTOK,
    outputUsdPerMtok: config.LLM_OUTPUT_USD_PER_MTOK,
  };
}

const MAX_BACKOFF_MS = 30_000;
// A server asking for a longer pause than this is treated as unavailable for now.
const MAX_RETRY_AFTER_MS = 60_000;
const MAX_ECHOED_ANSWER_CHARS = 8_000;

/** JSON with object keys sorted, so equal inputs hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner) => {
    if (inner === null || typeof inner !== "object" || Array.isArray(inner)) return inner;
    return Object.fromEntries(
      Object.keys(inner as object)
        .sort()
        .map((key) => [key, (inner as Record<string, unknown>)[key]]),
    );
  });
}

export function hashInput(input: unknown): string {
  return createHash("sha256").update(canonicalJson(input)).digest("hex");
}

/**
 * The JSON schema sent as response_format. Strict structured output requires
 * every object to list all its properties as required and to forbid others;
 * zod's input schema (what the model must write) is tightened to that. String
 * lengths are left out because strict mode rejects them; zod still checks them.
 */
export function strictJsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...json } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  const tighten = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(tighten);
    if (node === null || typeof node !== "object") return;
    const record = node as Record<string, unknown>;
    if (record.type === "string") {
      delete record.minLength;
      delete record.maxLength;
    }
    if (record.type === "object" && record.properties && typeof record.properties === "object") {
      record.required = Object.keys(record.properties);
      record.additionalProperties ??= false;
    }
    Object.values(record).forEach(tighten);
  };
  tighten(json);
  return json;
}

/** At most `limit` tasks at once; a waiting task leaves the queue when its signal aborts. */
function createLimiter(limit: number) {
  let active = 0;
  const waiting: { start: () => void }[] = [];
  return async function limited<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (active < limit) active++;
    else {
      await new Promise<void>((resolve, reject) => {
        const entry = {
          start: () => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
          },
        };
        const onAbort = () => {
          const index = waiting.indexOf(entry);
          if (index >= 0) waiting.splice(index, 1);
          reject(signal!.reason);
        };
        if (signal?.aborted) return reject(signal.reason);
        signal?.addEventListener("abort", onAbort, { once: true });
        waiting.push(entry);
      });
    }
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next.start();
      else active--;
    }
  };
}

function sleep(ms: number, signal?: AbortSignal) {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Retry-After (seconds or HTTP date) or OpenAI's retry-after-ms, in ms. */
function retryAfterMs(error: unknown): number | undefined {
  if (!(error instanceof APIError) || !error.headers) return undefined;
  const millis = Number(error.headers.get("retry-after-ms"));
  if (error.headers.get("retry-after-ms") && Number.isFinite(millis) && millis >= 0) return millis;
  const value = error.headers.get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

class AttemptTimeoutError extends Error {}

function isRetryable(error: unknown) {
  if (error instanceof AttemptTimeoutError || error instanceof APIConnectionError) return true;
  if (error instanceof APIError && typeof error.status === "number") {
    return error.status === 408 || error.status === 409 || error.status === 429 || error.status >= 500;
  }
  return false;
}

function describeError(error: unknown) {
  if (error instanceof AttemptTimeoutError) return error.message;
  if (error instanceof APIError && typeof error.status === "number") {
    return `HTTP ${error.status}: ${error.message.replace(/^\d{3}\s*/, "")}`;
  }
  return error instanceof Error ? error.message : String(error);
}

// `json` is the answer as the model wrote it: what the cache keeps, parsed again on every read.
type Validation<T> = { ok: true; value: T; json: unknown } | { ok: false; problem: string };

function validate<T>(content: string | null, refusal: string | null | undefined, schema: z.ZodType<T>): Validation<T> {
  if (refusal) return { ok: false, problem: `the model refused: ${refusal.slice(0, 300)}` };
  if (!content) return { ok: false, problem: "the answer was empty" };
  // Servers without structured output support sometimes wrap the JSON in a Markdown fence.
  const unfenced = content
    .trim()
    .replace(/^```(?:json)?\s*/i, "")
    .replace(/\s*```$/, "");
  let json: unknown;
  try {
    json = JSON.parse(unfenced);
  } catch (error) {
    return { ok: false, problem: `the answer is not JSON (${(error as Error).message})` };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data, json };
  return { ok: false, problem: `the JSON does not match the schema:\n${z.prettifyError(parsed.error).slice(0, 1500)}` };
}

export function createLlmClient(settings: LlmSettings) {
  const openai = settings.apiKey
    ? new OpenAI({
        baseURL: settings.baseUrl,
        apiKey: settings.apiKey,
        timeout: settings.timeoutMs,
        maxRetries: 0,
      })
    : undefined;
  const limited = createLimiter(settings.concurrency);
  const retryBaseMs = settings.retryBaseMs ?? 500;

  const costOf = (promptTokens: number, completionTokens: number) =>
    new Prisma.Decimal(promptTokens)
      .mul(settings.inputUsdPerMtok)
      .plus(new Prisma.Decimal(completionTokens).mul(settings.outputUsdPerMtok))
      .div(1_000_000)
      .toDecimalPlaces(6);

  async function record(
    request: StructuredRequest<unknown>,
    outcome: AiCallOutcome,
    durationMs: number,
    usage?: { prompt_tokens?: number; completion_tokens?: number },
    error?: string,
  ) {
    const promptTokens = usage?.prompt_tokens ?? 0;
    const completionTokens = usage?.completion_tokens ?? 0;
    const costUsd = costOf(promptTokens, completionTokens);
    metrics.llmCalls.inc({ purpose: request.purpose, outcome });
    metrics.llmTokens.inc({ purpose: request.purpose, kind: "prompt" }, promptTokens);
    metrics.llmTokens.inc({ purpose: request.purpose, kind: "completion" }, completionTokens);
    metrics.llmCost.inc({ purpose: request.purpose }, costUsd.toNumber());
    try {
      await recordAiCall({
        shop: request.shop,
        purpose: request.purpose,
        model: settings.model,
        promptTokens,
        completionTokens,
        costUsd,
        outcome,
        error,
        durationMs,
      });
    } catch (recordError) {
      logger.warn({ err: recordError, shop: request.shop, purpose: request.purpose }, "could not record an AI call");
    }
  }

  /** One chat completion with our retries; failed attempts are recorded here, answers by the caller. */
  async function complete(
    client: OpenAI,
    request: StructuredRequest<unknown>,
    messages: ChatCompletionMessageParam[],
    responseFormat: OpenAI.ResponseFormatJSONSchema,
  ) {
    for (let attempt = 0; ; attempt++) {
      request.signal?.throwIfAborted();
      let started = Date.now();
      let sent = false;
      try {
        const completion = await limited(async () => {
          started = Date.now();
          sent = true;
          const deadline = new AbortController();
          const timer = setTimeout(
            () => deadline.abort(new AttemptTimeoutError(`no answer within ${settings.timeoutMs} ms`)),
            settings.timeoutMs,
          );
          const signal = request.signal ? AbortSignal.any([request.signal, deadline.signal]) : deadline.signal;
          try {
            return await client.chat.completions.create(
              { model: settings.model, messages, response_format: responseFormat },
              { signal, timeout: settings.timeoutMs, maxRetries: 0 },
            );
          } catch (error) {
            if (error instanceof APIUserAbortError && deadline.signal.aborted && !request.signal?.aborted) {
              throw deadline.signal.reason;
            }
            throw error;
          } finally {
            clearTimeout(timer);
          }
        }, request.signal);
        return { completion, durationMs: Date.now() - started };
      } catch (error) {
        const durationMs = Date.now() - started;
        if (request.signal?.aborted) {
          if (sent) await record(request, "error", durationMs, undefined, "aborted");
          throw request.signal.reason ?? error;
        }
        await record(request, "error", durationMs, undefined, describeError(error));
        const log = { shop: request.shop, purpose: request.purpose, model: settings.model, attempt: attempt + 1 };
        if (!isRetryable(error) || attempt >= settings.maxRetries) {
          logger.warn({ ...log, error: describeError(error) }, "LLM request failed");
          throw new LlmUnavailableError(`LLM request failed after ${attempt + 1} attempt(s): ${describeError(error)}`, {
            cause: error,
          });
        }
        const requested = retryAfterMs(error);
        if (requested !== undefined && requested > MAX_RETRY_AFTER_MS) {
          throw new LlmUnavailableError(`LLM server asked to wait ${Math.round(requested / 1000)} s`, { cause: error });
        }
        const backoff = Math.min(MAX_BACKOFF_MS, retryBaseMs * 2 ** attempt) * (0.5 + Math.random() / 2);
        const waitMs = Math.round(requested ?? backoff);
        logger.warn({ ...log, error: describeError(error), retryInMs: waitMs }, "LLM request failed; retrying");
        await sleep(waitMs, request.signal);
      }
    }
  }

  async function structuredCompletion<T>(request: StructuredRequest<T>): Promise<StructuredResult<T>> {
    if (!openai) throw new LlmUnavailableError("LLM_API_KEY is not set");
    request.signal?.throwIfAborted();
    const key = {
      shop: request.shop,
      purpose: request.purpose,
      inputHash: hashInput({
        input: request.cacheInput ?? { system: request.system, user: request.user },
        model: settings.model,
      }),
    };
    const cached = await findCachedOutput(key);
    if (cached !== undefined) {
      const parsed = request.schema.safeParse(cached);
      if (parsed.success) return { output: parsed.data, source: "cache" };
    }

    const responseFormat: OpenAI.ResponseFormatJSONSchema = {
      type: "json_schema",
      json_schema: {
        name: request.purpose.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64) || "output",
        schema: strictJsonSchema(request.schema),
        strict: true,
      },
    };
    const messages: ChatCompletionMessageParam[] = [
      { role: "system", content: request.system },
      { role: "user", content: request.user },
    ];
    const generic = request as StructuredRequest<unknown>;
    let problem = "";
    for (let answer = 0; answer < 2; answer++) {
      const { completion, durationMs } = await complete(openai, generic, messages, responseFormat);
      const message = completion.choices?.[0]?.message;
      const result = validate(message?.content ?? null, message?.refusal, request.schema);
      await record(
        generic,
        result.ok ? "ok" : "invalid",
        durationMs,
        completion.usage,
        result.ok ? undefined : result.problem,
      );
      if (result.ok) {
        await storeCachedOutput(key, settings.model, result.json);
        return { output: result.value, source: "llm" };
      }
      problem = result.problem;
      logger.warn(
        { shop: request.shop, purpose: request.purpose, model: settings.model, answer: answer + 1 },
        "LLM output invalid",
      );
      messages.push(
        { role: "assistant", content: (message?.content ?? "").slice(0, MAX_ECHOED_ANSWER_CHARS) },
        {
          role: "user",
          content: `Your answer was not valid: ${problem}\nAnswer again with only a JSON object that matches the schema.`,
        },
      );
    }
    throw new LlmInvalidOutputError(`LLM output invalid twice: ${problem}`);
  }

  return {
    configured: Boolean(openai),
    model: settings.model,
    concurrency: settings.concurrency,
    structuredCompletion,
  };
}

export type LlmClient = ReturnType<typeof createLlmClient>;

let defaultClient: LlmClient | undefined;

/** The process-wide client, from settings: one concurrency limit for every caller in this process. */
export function processLlmClient(): LlmClient {
  return (defaultClient ??= createLlmClient(llmSettingsFromConfig()));
}

export function llmConfigured(): boolean {
  return processLlmClient().configured;
}

export async function structuredCompletion<T>(request: StructuredRequest<T>): Promise<StructuredResult<T>> {
  return processLlmClient().structuredCompletion(request);
}
