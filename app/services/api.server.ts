import { z } from "zod";
import { loadConfig } from "../config.server";
import { ChurnRisk, ModelParameters, PurchaseModelName } from "../models/prediction-report.server";
import { RESOURCES } from "../models/store-tables.server";
import { hitRateLimit } from "../models/rate-limits.server";
import { sessionStorage, sessionTokens } from "../shopify.server";
import { shopKey } from "../models/jobs.server";
import { pixelRequest } from "./pixel-ingest.server";

/**
 * The JSON API for scripts: one authentication path (the embedded app's
 * session token, `Authorization: Bearer <id_token>`, with a per-shop rate
 * limit shared by every app instance) and one contract, whose zod schemas the
 * routes validate with and /api/openapi.json is generated from.
 */

const API_REALM = 'Bearer realm="MicroSegment API"';

/** 401 in JSON, never a redirect: a script has no login page to go to. */
function unauthorized(message: string, tokenError?: "invalid_token") {
  return Response.json(
    { error: message },
    {
      status: 401,
      headers: { "www-authenticate": tokenError ? `${API_REALM}, error="${tokenError}"` : API_REALM },
    },
  );
}

/**
 * The shop a request acts for, from its session token alone. Unlike
 * `authenticate.admin` (made for documents in the Admin iframe) this applies no
 * bot filter, so curl and python-requests are served, never redirects, and adds
 * no CORS headers: browsers on other origins stay refused. The token is checked
 * by the library (`decodeSessionToken`: signature with the app secret, aud,
 * exp and nbf) and the shop's offline session must exist (the app is installed).
 */
export async function authenticateApi(request: Request) {
  if (request.method === "OPTIONS") {
    throw Response.json(
      { error: "cross-origin requests are not allowed" },
      { status: 405, headers: { allow: "GET, POST" } },
    );
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "");
  if (!match) throw unauthorized("missing session token: send Authorization: Bearer <session token>");
  let shop: string;
  try {
    const payload = await sessionTokens.decodeSessionToken(match[1]!);
    shop = new URL(payload.dest).hostname;
  } catch {
    throw unauthorized("invalid or expired session token", "invalid_token");
  }
  const session = await sessionStorage.loadSession(sessionTokens.getOfflineId(shop));
  if (!session) throw unauthorized("the app is not installed on this shop", "invalid_token");
  const limit = await hitRateLimit(`api:${shopKey(shop)}`, loadConfig().API_REQUESTS_PER_MINUTE, 60_000);
  if (!limit.allowed) {
    throw Response.json(
      { error: "too many requests for this shop; retry later" },
      { status: 429, headers: { "retry-after": String(limit.retryAfterSeconds) } },
    );
  }
  return { session };
}

// ---------------------------------------------------------------------------
// Requests

const resource = z.enum(RESOURCES as [string, ...string[]]);

export const startPullRequest = z.object({
  resources: z.array(resource).min(1).optional().describe("default: customers, products and orders"),
  mode: z.enum(["bulk", "paginated"]).optional().describe("default: bulk for full pulls, paginated for incremental"),
  kind: z.enum(["full", "incremental"]).default("full"),
});

export const pullResultsQuery = z.object({
  resource,
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(250).default(100),
});

export const segmentPageQuery = z.object({
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

export const enrichProductsRequest = z.object({
  productIds: z
    .array(z.string().regex(/^gid:\/\/shopify\/Product\/\d+$/, "expected a product GID"))
    .min(1)
    .max(1000)
    .optional()
    .describe("default: every product of the shop"),
});

// ---------------------------------------------------------------------------
// Responses

const timestamp = z.iso.datetime();
const status = z.enum(["queued", "running", "succeeded", "failed", "cancelled"]);
const decimal = z
  .string()
  .regex(/^-?\d+(\.\d+)?$/)
  .describe("exact decimal as a string");

export const errorResponse = z.object({ error: z.string() });

export const pullSummary = z.object({
  id: z.uuid(),
  kind: z.enum(["full", "incremental"]),
  mode: z.enum(["bulk", "paginated"]),
  status,
});

export const pullStatusResponse = pullSummary.extend({
  error: z.string().nullable(),
  requestedAt: timestamp,
  startedAt: timestamp.nullable(),
  finishedAt: timestamp.nullable(),
  resources: z.array(
    z.object({
      resource,
      status,
      processed: z.number().int(),
      total: z.number().int().nullable(),
      totalAtLeast: z.boolean().describe("true when Shopify only promised a floor: at least `total` records"),
      error: z.string().nullable(),
    }),
  ),
});

export const pullResultsResponse = z.object({
  resource,
  records: z.array(z.looseObject({ id: z.string() })),
  nextCursor: z.string().nullable(),
});

export const cancelResponse = z.object({ cancelled: z.boolean() });

export const jobAccepted = z.object({
  id: z.uuid(),
  kind: z.enum(["segmentation", "segment-sync"]),
  status,
});

const segment = z.looseObject({
  id: z.uuid(),
  key: z.string(),
  kind: z.enum(["rfm", "timing", "micro"]),
  name: z.string(),
  description: z.string(),
  actions: z.array(z.string()),
  namedBy: z.enum(["llm", "local"]),
  size: z.number().int(),
  trend: z.number().int().nullable(),
  revenue: decimal,
  revenueShare: z.number(),
  averageOrderValue: decimal,
  tag: z.string().nullable(),
  shopifySegmentId: z.string().nullable(),
});

const predictions = z.object({ shown: z.boolean(), reason: z.string().nullable() });

export const segmentsResponse = z.object({
  segments: z.array(segment),
  rfmGrid: z.looseObject({
    cells: z.array(
      z.object({ r: z.number().int(), f: z.number().int(), customers: z.number().int(), revenue: decimal }),
    ),
  }),
  predictions,
  latestRun: z.looseObject({ id: z.uuid(), status, progress: z.number() }).nullable(),
});

export const segmentDetailResponse = z.object({
  segment,
  members: z.array(z.looseObject({ customerId: z.string() })),
  total: z.number().int(),
  nextOffset: z.number().int().nullable(),
  predictions,
});

export const jobStatusResponse = z.looseObject({
  kind: z.enum(["segmentation", "segment-sync", "metafield-sync"]),
  id: z.uuid(),
  status,
  progress: z.number(),
  error: z.string().nullable(),
});

const purchaseModel = PurchaseModelName.describe("bg-nbd, mbg-nbd or pareto-nbd");
const modelParameters = ModelParameters.describe(
  "r, alpha, a, b for the BG family; r, alpha, s, beta for Pareto/NBD; time in weeks",
);

export const predictionsResponse = z.object({
  model: purchaseModel.nullable().describe("the purchase model chosen by the backtest; null before a run stored one"),
  parameters: modelParameters.nullable().describe("the chosen model refitted on all history"),
  logLikelihood: z.number().nullable(),
  spend: z.object({ p: z.number(), q: z.number(), gamma: z.number() }).nullable().describe("Gamma-Gamma spend model"),
  holdout: z
    .object({
      start: z.string().describe("first day of the holdout, YYYY-MM-DD in the shop's calendar"),
      end: z.string().describe("last day of the holdout (inclusive)"),
      days: z.number().int(),
      customers: z.number().int().describe("customers with a first order before the holdout"),
      predictedOrders: z.number().describe("repeat orders the chosen model predicted for the holdout"),
      actualOrders: z.number().describe("repeat orders in the holdout, same-day orders counted once"),
      byFrequency: z.array(
        z.object({
          frequency: z.number().int().describe("repeat orders before the holdout"),
          orMore: z.boolean(),
          customers: z.number().int(),
          predicted: z.number(),
          actual: z.number(),
        }),
      ),
      weekly: z.array(z.object({ weekStart: z.string(), predicted: z.number(), actual: z.number() })),
    })
    .nullable()
    .describe("the backtest; null when the history is too short for one"),
  relativeError: z.number().nullable().describe("(predicted − actual) / actual over the holdout"),
  errorBound: z.number().nullable().describe("the largest |relativeError| at which predictions are shown"),
  shown: z.boolean().describe("whether the app shows predictions"),
  failedCondition: z.string().nullable().describe("when not shown: which condition failed"),
  chosenBecause: z.string().nullable(),
  candidates: z.array(
    z.object({
      model: purchaseModel,
      parameters: modelParameters,
      logLikelihood: z.number(),
      holdoutPredicted: z.number(),
      holdoutError: z.number(),
    }),
  ),
  run: z.object({ id: z.uuid(), asOf: timestamp.nullable(), finishedAt: timestamp.nullable() }).nullable(),
});

export const customerPrediction = z.object({
  probabilityActive: z.number().min(0).max(1),
  expectedNextOrderAt: timestamp.nullable(),
  churnRisk: ChurnRisk.nullable(),
  predictedValue365: decimal.nullable().describe("predicted spend over the next 365 days"),
  expectedOrders90: z.number().nullable(),
  expectedOrders365: z.number().nullable(),
  averageDaysBetweenOrders: z.number().nullable().describe("null with a single order day"),
  historicValue: decimal.describe("net spend so far"),
});

export const customerResponse = z.object({
  customer: z.object({
    id: z.string().describe("the customer's GID"),
    legacyId: z.string(),
    firstName: z.string().nullable(),
    lastName: z.string().nullable(),
    email: z.string().nullable(),
    phone: z.string().nullable(),
    city: z.string().nullable(),
    province: z.string().nullable(),
    countryCode: z.string().nullable(),
    tags: z.array(z.string()),
    createdAt: timestamp,
  }),
  rfm: z
    .object({
      recencyDays: z.number().int(),
      frequency: z.number().int(),
      monetary: decimal,
      averageOrderValue: decimal,
      firstOrderAt: timestamp,
      lastOrderAt: timestamp,
      rScore: z.number().int().min(1).max(5),
      fScore: z.number().int().min(1).max(5),
      mScore: z.number().int().min(1).max(5),
      segment: z.string().describe("the RFM segment's key"),
      segmentName: z.string(),
    })
    .nullable()
    .describe("null when the last run found no countable order for them"),
  segments: z.array(
    z.object({
      id: z.uuid(),
      key: z.string(),
      kind: z.enum(["rfm", "timing", "micro"]),
      name: z.string(),
      rule: z.string().nullable(),
    }),
  ),
  prediction: customerPrediction.nullable().describe("null when predictions are not shown or they were not scored"),
  predictions: z.object({ shown: z.boolean(), reason: z.string().nullable() }),
  asOf: timestamp.nullable().describe("the moment the scores and predictions are as of"),
});

export const enrichAccepted = z.object({ jobId: z.string() });

export const pixelAccepted = z.object({ accepted: z.number().int() });

// ---------------------------------------------------------------------------
// The operations, as /api/openapi.json describes them.

interface Operation {
  method: "get" | "post";
  path: string;
  summary: string;
  /** The {id} path parameter's schema; a UUID unless told. */
  id?: Record<string, unknown>;
  public?: boolean;
  body?: z.ZodType;
  query?: z.ZodObject;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
}

const notFound = { description: "No such object in this shop", schema: errorResponse };
const invalid = { description: "Invalid input; the message names the field", schema: errorResponse };

export const API_OPERATIONS: Operation[] = [
  {
    method: "post",
    path: "/api/pulls",
    summary: "Start a pull of the shop's data from Shopify",
    body: startPullRequest,
    responses: { 202: { description: "Pull queued", schema: pullSummary }, 400: invalid },
  },
  {
    method: "get",
    path: "/api/pulls",
    summary: "The shop's recent pulls",
    responses: { 200: { description: "Pulls, newest first", schema: z.object({ pulls: z.array(z.looseObject({})) }) } },
  },
  {
    method: "get",
    path: "/api/pulls/{id}",
    summary: "Status, per-resource counts and error of a pull",
    responses: { 200: { description: "The pull", schema: pullStatusResponse }, 404: notFound },
  },
  {
    method: "get",
    path: "/api/pulls/{id}/results",
    summary: "The pulled records of one resource, a page at a time",
    query: pullResultsQuery,
    responses: { 200: { description: "A page", schema: pullResultsResponse }, 400: invalid, 404: notFound },
  },
  {
    method: "post",
    path: "/api/pulls/{id}/cancel",
    summary: "Cancel a running pull",
    responses: {
      202: { description: "Cancellation requested", schema: cancelResponse },
      409: { description: "The pull is not running", schema: cancelResponse },
    },
  },
  {
    method: "post",
    path: "/api/segments/run",
    summary: "Compute the shop's segments now (or join the run already waiting)",
    responses: { 202: { description: "Run queued; poll /api/jobs/{id}", schema: jobAccepted } },
  },
  {
    method: "get",
    path: "/api/segments",
    summary: "Segments with size, revenue share, order value and trend; the RFM grid; prediction status",
    responses: { 200: { description: "Segments", schema: segmentsResponse } },
  },
  {
    method: "get",
    path: "/api/segments/{id}",
    summary: "One segment and a page of its members with scores and predictions",
    query: segmentPageQuery,
    responses: { 200: { description: "The segment", schema: segmentDetailResponse }, 400: invalid, 404: notFound },
  },
  {
    method: "post",
    path: "/api/segments/{id}/sync",
    summary: "Push the segment to Shopify as a customer tag and a Shopify customer segment",
    responses: { 202: { description: "Push queued; poll /api/jobs/{id}", schema: jobAccepted }, 404: notFound },
  },
  {
    method: "get",
    path: "/api/predictions",
    summary:
      "The purchase model chosen by the holdout backtest, its parameters and accuracy, and whether predictions are shown",
    responses: {
      200: { description: "The latest run's backtest (fields null before one)", schema: predictionsResponse },
    },
  },
  {
    method: "get",
    path: "/api/customers/{id}",
    summary: "One customer: RFM values and scores, segments, and their predictions when shown",
    id: {
      type: "string",
      pattern: "^(\\d{1,19}|gid://shopify/Customer/\\d{1,19})$",
      description: "numeric id, or the customer GID URL-encoded",
    },
    responses: {
      200: { description: "The customer", schema: customerResponse },
      400: { description: "The id is neither a numeric customer id nor a customer GID", schema: errorResponse },
      404: notFound,
    },
  },
  {
    method: "get",
    path: "/api/jobs/{id}",
    summary: "Status and progress of a segmentation run, a segment push or a customer metafield sync",
    responses: { 200: { description: "The job", schema: jobStatusResponse }, 404: notFound },
  },
  {
    method: "post",
    path: "/api/jobs/{id}/cancel",
    summary: "Cancel a segmentation run or a customer metafield sync",
    responses: {
      202: { description: "Cancellation requested", schema: cancelResponse },
      409: { description: "The job is not running", schema: cancelResponse },
    },
  },
  {
    method: "post",
    path: "/api/ai/products/enrich",
    summary: "Enrich products (attributes, audience, tags) in a job",
    body: enrichProductsRequest,
    responses: { 202: { description: "Job queued", schema: enrichAccepted }, 400: invalid },
  },
  {
    method: "post",
    path: "/api/pixel/events",
    summary: "Storefront events from the web pixel (public; authenticated by the pixel's account id)",
    public: true,
    body: pixelRequest,
    responses: {
      202: { description: "Stored (duplicates are accepted once)", schema: pixelAccepted },
      400: invalid,
      404: { description: "Unknown account id", schema: errorResponse },
      410: { description: "The pixel is disconnected", schema: errorResponse },
      413: { description: "Body over 64 KB", schema: errorResponse },
      429: { description: "Rate limit of the shop or the visitor; see Retry-After", schema: errorResponse },
    },
  },
];

const jsonSchema = (schema: z.ZodType, io: "input" | "output") => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" });
  return rest;
};

export function openApiDocument(serverUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of API_OPERATIONS) {
    const parameters = [
      ...(operation.path.includes("{id}")
        ? [{ name: "id", in: "path", required: true, schema: operation.id ?? { type: "string", format: "uuid" } }]
        : []),
      ...Object.entries(operation.query?.shape ?? {}).map(([name, schema]) => ({
        name,
        in: "query",
        required: !(schema as z.ZodType).safeParse(undefined).success,
        schema: jsonSchema(schema as z.ZodType, "input"),
      })),
    ];
    paths[operation.path] ??= {};
    paths[operation.path]![operation.method] = {
      summary: operation.summary,
      ...(operation.public ? { security: [] } : {}),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(operation.body
        ? {
            requestBody: {
              required: true,
              content: { "application/json": { schema: jsonSchema(operation.body, "input") } },
            },
          }
        : {}),
      responses: Object.fromEntries(
        Object.entries({
          ...operation.responses,
          ...(operation.public
            ? {}
            : {
                401: { description: "Missing or invalid session token" },
                429: { description: "Too many requests for this shop; see Retry-After", schema: errorResponse },
              }),
        }).map(([code, response]) => [
          code,
          {
            description: response.description,
            ...(response.schema
              ? { content: { "application/json": { schema: jsonSchema(response.schema, "output") } } }
              : {}),
          },
        ]),
      ),
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "MicroSegment API",
      version: "1.0.0",
      description:
        "For scripts acting for one shop. Authenticate with the embedded app's session token (App Bridge's idToken) " +
        "as `Authorization: Bearer <token>`; never with a Shopify access token.",
    },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: { sessionToken: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
    },
    security: [{ sessionToken: [] }],
    paths,
  };
}
