import type { AdminOperations, ApiClientRequestOptions, ReturnData } from "@shopify/admin-api-client";
import { GraphqlQueryError, HttpResponseError } from "@shopify/shopify-api";
import { SessionNotFoundError } from "@shopify/shopify-app-remix/server";
import { z } from "zod";
import { PermanentJobError } from "../models/jobs.server";
import { markNeedsReauth } from "../models/shop.server";
import { unauthenticated } from "../shopify.server";

/**
 * The one way background code talks to the Admin GraphQL API. The client
 * comes from the library's offline-session path, which refreshes expiring
 * tokens; no token ever travels in a job payload. Failures are classified so
 * jobs know whether to retry.
 */

export interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

export interface QueryCost {
  requestedQueryCost: number;
  actualQueryCost: number | null;
  throttleStatus: ThrottleStatus;
}

/** Worth retrying later: throttling, 5xx, network trouble. */
export class TransientShopifyError extends Error {}
/** THROTTLED: the bucket lacked the points; the cost says how long to wait. */
export class ThrottledError extends TransientShopifyError {
  constructor(readonly cost: QueryCost | undefined) {
    super("THROTTLED by the Admin API");
  }
}
/** The query asked more than one request may cost; a smaller page fits. */
export class QueryTooCostlyError extends Error {}
/** Retrying cannot help: the shop must re-authenticate, or the query is wrong. */
export class PermanentShopifyError extends PermanentJobError {
  constructor(
    message: string,
    readonly needsReauth = false,
  ) {
    super(message);
  }
}

export interface AdminGraphqlOptions {
  variables?: Record<string, unknown>;
  signal?: AbortSignal;
  onCost?: (cost: QueryCost) => void;
}

/** The variables of a generated operation (app/types/admin.generated.d.ts), typed from the schema. */
export type TypedOptions<Operation extends keyof AdminOperations> = Omit<AdminGraphqlOptions, "variables"> & {
  variables?: ApiClientRequestOptions<Operation, AdminOperations>["variables"];
};

/** What a generated operation answers, typed from the schema. */
export type AdminResult<Operation extends keyof AdminOperations> = ReturnData<Operation, AdminOperations>;

/**
 * A `#graphql` document is typed by codegen (its result and variables come
 * from Shopify's schema); a document assembled at run time (the pull's
 * pages and bulk lines) brings a zod schema that checks the answer.
 */
export async function adminGraphql<Operation extends keyof AdminOperations>(
  shop: string,
  query: Operation,
  options?: TypedOptions<Operation>,
): Promise<AdminResult<Operation>>;
export async function adminGraphql<Schema extends z.ZodType>(
  shop: string,
  query: string,
  schema: Schema,
  options?: AdminGraphqlOptions,
): Promise<z.infer<Schema>>;
export async function adminGraphql(
  shop: string,
  query: string,
  schemaOrOptions?: z.ZodType | AdminGraphqlOptions,
  maybeOptions?: AdminGraphqlOptions,
): Promise<unknown> {
  const schema = schemaOrOptions instanceof z.ZodType ? schemaOrOptions : undefined;
  const options = (schema ? maybeOptions : (schemaOrOptions as AdminGraphqlOptions | undefined)) ?? {};
  let body: { data?: unknown; extensions?: { cost?: QueryCost } };
  try {
    const { admin } = await unauthenticated.admin(shop);
    const response = await admin.graphql(query, { variables: options.variables, signal: options.signal });
    body = (await response.json()) as typeof body;
  } catch (error) {
    throw await classify(shop, error);
  }
  if (body.extensions?.cost) options.onCost?.(body.extensions.cost);
  if (!schema) {
    if (body.data === undefined || body.data === null) throw new PermanentShopifyError("Admin API answered no data");
    return body.data;
  }
  const parsed = schema.safeParse(body.data);
  if (!parsed.success) {
    throw new PermanentShopifyError(`unexpected Admin API response shape: ${parsed.error.issues[0]?.message}`);
  }
  return parsed.data;
}

/** Maps what the library threw to our error classes (transient, throttled, too costly, permanent). */
export async function classify(shop: string, error: unknown): Promise<Error> {
  if (error instanceof SessionNotFoundError) {
    await markNeedsReauth(shop);
    return new PermanentShopifyError(`no offline session for ${shop}`, true);
  }
  const status =
    error instanceof Response ? error.status : error instanceof HttpResponseError ? error.response.code : undefined;
  if (status === 401 || status === 403) {
    if (status === 401) await markNeedsReauth(shop);
    return new PermanentShopifyError(`Admin API answered ${status} for ${shop}`, status === 401);
  }
  if (status !== undefined) {
    return status === 429 || status >= 500
      ? new TransientShopifyError(`Admin API answered ${status}`)
      : new PermanentShopifyError(`Admin API answered ${status}`);
  }
  if (error instanceof GraphqlQueryError) {
    type GraphqlError = { extensions?: { code?: string } };
    const body = error.body as
      { errors?: GraphqlError[] | { graphQLErrors?: GraphqlError[] }; extensions?: { cost?: QueryCost } } | undefined;
    // The library's client nests the GraphQL errors under errors.graphQLErrors; a raw body has them as a list.
    const errors = Array.isArray(body?.errors) ? body.errors : (body?.errors?.graphQLErrors ?? []);
    const codes = errors.map((item) => item.extensions?.code);
    if (codes.includes("THROTTLED")) return new ThrottledError(body?.extensions?.cost);
    if (codes.includes("MAX_COST_EXCEEDED")) return new QueryTooCostlyError(error.message);
    return new PermanentShopifyError(`GraphQL error: ${error.message}`);
  }
  if (error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError")) return error;
  return new TransientShopifyError(
    `Admin API request failed: ${error instanceof Error ? error.message : String(error)}`,
  );
}
