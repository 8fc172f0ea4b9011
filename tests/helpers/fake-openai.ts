import { randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local OpenAI-compatible server for tests and benchmarks:
 * POST /v1/chat/completions (and /chat/completions). What it answers is
 * switchable at any time:
 *   "valid"     a JSON object satisfying the request's json_schema (or what the responder returns)
 *   "malformed" content that is not JSON
 *   "mismatch"  JSON that violates the schema
 *   "429"       Too Many Requests with Retry-After
 *   "500"       an internal server error
 *   "timeout"   never answers
 *   "slow"      a valid answer after `slowMs`
 * A list of modes is a script: each request takes the next one, and the last repeats.
 */

export type FakeMode = "valid" | "malformed" | "mismatch" | "429" | "500" | "timeout" | "slow";

export interface FakeRequest {
  path: string;
  headers: IncomingHttpHeaders;
  // Whatever the client sent; a chat completion request when the client is well-behaved.
  body: ChatRequestBody;
  mode: FakeMode;
  receivedAt: number;
  /** The usage reported in the answer, when there was one. */
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

export interface ChatRequestBody {
  model: string;
  messages: { role: string; content: string }[];
  response_format?: { type: string; json_schema?: { name: string; schema: JsonSchema; strict?: boolean } };
  [key: string]: unknown;
}

/** Builds the answer of a "valid" request; the default generates one from the json_schema. */
export type FakeResponder = (body: ChatRequestBody) => unknown;

export interface FakeOpenAiOptions {
  mode?: FakeMode | FakeMode[];
  responder?: FakeResponder;
  /** Delay of "slow" answers. Default 1000 ms. */
  slowMs?: number;
  /** Retry-After header of "429" answers, in seconds. Default "1". */
  retryAfter?: string;
}

export interface FakeOpenAi {
  /** Base URL to give the client, ending in /v1. */
  url: string;
  /** Chat completion requests received. */
  readonly calls: number;
  readonly requests: FakeRequest[];
  /** Requests being answered right now, and the most there ever were at once. */
  readonly inFlight: number;
  readonly maxInFlight: number;
  setMode(mode: FakeMode | FakeMode[]): void;
  setResponder(responder: FakeResponder | undefined): void;
  setOptions(options: Pick<FakeOpenAiOptions, "slowMs" | "retryAfter">): void;
  /** Forgets recorded requests and the in-flight maximum. */
  reset(): void;
  close(): Promise<void>;
}

type JsonSchema = { [key: string]: unknown };

/** A value satisfying a JSON schema of the kind zod's toJSONSchema writes. */
export function sampleFromSchema(schema: JsonSchema, root: JsonSchema = schema, name = "value"): unknown {
  if (typeof schema.$ref === "string") {
    const path = schema.$ref.replace(/^#\//, "").split("/");
    const target = path.reduce<unknown>((node, part) => (node as JsonSchema)?.[part], root);
    return sampleFromSchema(target as JsonSchema, root, name);
  }
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  for (const key of ["anyOf", "oneOf", "allOf"] as const) {
    const options = schema[key];
    if (Array.isArray(options)) {
      const preferred = options.find((option) => (option as JsonSchema).type !== "null") ?? options[0];
      return sampleFromSchema(preferred as JsonSchema, root, name);
    }
  }
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  const type = types.find((candidate) => candidate !== "null") ?? types[0];
  switch (type) {
    case "object": {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
      return Object.fromEntries(
        Object.entries(properties).map(([key, inner]) => [key, sampleFromSchema(inner, root, key)]),
      );
    }
    case "array": {
      const count = Math.max(Number(schema.minItems ?? 0), Math.min(2, Number(schema.maxItems ?? 2)));
      const items = (schema.items ?? {}) as JsonSchema;
      return Array.from({ length: count }, (_, i) => sampleFromSchema(items, root, `${name} ${i + 1}`));
    }
    case "integer":
    case "number": {
      const minimum = Number(schema.minimum ?? schema.exclusiveMinimum ?? 0);
      const value = type === "integer" ? Math.ceil(minimum) : minimum;
      return schema.exclusiveMinimum !== undefined ? value + 1 : value;
    }
    case "boolean":
      return true;
    case "null":
      return null;
    default: {
      let text = `sample ${name}`;
      const minLength = Number(schema.minLength ?? 0);
      const maxLength = Number(schema.maxLength ?? Infinity);
      while (text.length < minLength) text += " x";
      return text.slice(0, maxLength);
    }
  }
}

const tokensOf = (text: string) => Math.max(1, Math.ceil(text.length / 4));

export async function startFakeOpenAi(options: FakeOpenAiOptions = {}): Promise<FakeOpenAi> {
  let script: FakeMode[] = [];
  let steady: FakeMode = "valid";
  let responder = options.responder;
  let slowMs = options.slowMs ?? 1000;
  let retryAfter = options.retryAfter ?? "1";
  const requests: FakeRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const hanging = new Set<ServerResponse>();

  const setMode = (mode: FakeMode | FakeMode[]) => {
    const modes = Array.isArray(mode) ? mode : [mode];
    steady = modes[modes.length - 1] ?? "valid";
    script = modes.slice(0, -1);
  };
  setMode(options.mode ?? "valid");

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    if (res.destroyed) return;
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };

  const completion = (request: FakeRequest, content: string) => {
    const { body } = request;
    const promptTokens = (body.messages ?? []).reduce((sum, message) => sum + tokensOf(String(message.content)), 0);
    const completionTokens = tokensOf(content);
    return {
      id: `chatcmpl-${randomUUID()}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: body.model,
      choices: [
        { index: 0, message: { role: "assistant", content, refusal: null }, finish_reason: "stop", logprobs: null },
      ],
      usage: (request.usage = {
        prompt_tokens: promptTokens,
        completion_tokens: completionTokens,
        total_tokens: promptTokens + completionTokens,
      }),
    };
  };

  const validContent = (body: ChatRequestBody) => {
    if (responder) return JSON.stringify(responder(body));
    const schema = body.response_format?.json_schema?.schema;
    return JSON.stringify(schema ? sampleFromSchema(schema) : { answer: "sample" });
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    if (req.method !== "POST" || !/^(\/v1)?\/chat\/completions$/.test(path)) {
      return send(res, 404, { error: { message: `no route ${req.method} ${path}`, type: "invalid_request_error" } });
    }
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      let body: ChatRequestBody;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return send(res, 400, { error: { message: "body is not JSON", type: "invalid_request_error" } });
      }
      const mode = script.shift() ?? steady;
      const request: FakeRequest = { path, headers: req.headers, body, mode, receivedAt: Date.now() };
      requests.push(request);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        inFlight--;
        hanging.delete(res);
      };
      res.on("close", finish);
      hanging.add(res);
      switch (mode) {
        case "valid":
          return send(res, 200, completion(request, validContent(body)));
        case "slow":
          return void setTimeout(() => send(res, 200, completion(request, validContent(body))), slowMs);
        case "malformed":
          return send(res, 200, completion(request, '{"name": "Unfinished answer", "descr'));
        case "mismatch":
          return send(res, 200, completion(request, JSON.stringify({ unexpected: true, name: 42 })));
        case "429":
          return send(
            res,
            429,
            { error: { message: "Rate limit reached", type: "rate_limit_exceeded", code: "rate_limit_exceeded" } },
            { "retry-after": retryAfter },
          );
        case "500":
          return send(res, 500, { error: { message: "The server had an error", type: "server_error" } });
        case "timeout":
          return; // answered by nobody; the client has to give up
      }
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    get calls() {
      return requests.length;
    },
    requests,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    setMode,
    setResponder(next) {
      responder = next;
    },
    setOptions(next) {
      slowMs = next.slowMs ?? slowMs;
      retryAfter = next.retryAfter ?? retryAfter;
    },
    reset() {
      requests.length = 0;
      maxInFlight = inFlight;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
