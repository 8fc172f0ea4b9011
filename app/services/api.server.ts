import { z } from "zod";
import { loadConfig } from "../config.server";
import { RESOURCES } from "../models/store-tables.server";
import { hitRateLimit } from "../models/rate-limits.server";
import { authenticate } from "../shopify.server";
import { shopKey } from "../models/jobs.server";
import { pixelRequest } from "./pixel-ingest.server";

/**
 * The JSON API for scripts: one authentication path (the embedded app's
 * session token, `Authorization: Bearer <id_token>`, with a per-shop rate
 * limit shared by every app instance) and one contract, whose zod schemas the
 * routes validate with and /api/openapi.json is generated from.
 */

export async function authenticateApi(request: Request) {
  const context = await authenticate.admin(request);
  const limit = await hitRateLimit(
    `api:${shopKey(context.session.shop)}`,
    loadConfig().API_REQUESTS_PER_MINUTE,
    60_000,
  );
  if (!limit.allowed) {
    throw Response.json(
      { error: "too many requests for this shop; retry later" },
      { status: 429, headers: { "retry-after": String(limit.retryAfterSeconds) } },
    );
  }
  return context;
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
  offset: z.coerce.number().int().min(0).default(0),
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
  kind: z.enum(["rfm", "micro"]),
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

export const enrichAccepted = z.object({ jobId: z.string() });

export const pixelAccepted = z.object({ accepted: z.number().int() });

// ---------------------------------------------------------------------------
// The operations, as /api/openapi.json describes them.

interface Operation {
  method: "get" | "post";
  path: string;
  summary: string;
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
        ? [{ name: "id", in: "path", required: true, schema: { type: "string", format: "uuid" } }]
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
