import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { execute, GraphQLError, parse, validate, type DocumentNode, type ExecutionResult } from "graphql";
import { adminSchema } from "./admin-schema";
import {
  AdminViews,
  countOf,
  MAX_INPUT_ARRAY_SIZE,
  type ConnectionArgs,
  type ResolverContext,
} from "./admin-resolvers";
import {
  bulkOperationFilter,
  BulkMutationError,
  BulkQueryError,
  checkBulkMutation,
  checkBulkQuery,
  createBulkOperation,
  MAX_CONCURRENT_BULK_OPERATIONS,
  runBulkMutation,
  runBulkOperation,
  type BulkEnvironment,
  type BulkFailurePlan,
  type BulkOperationState,
} from "./bulk-operations";
import { storeSpec, type GeneratedCustomer, type StoreSizeName } from "./generator";
import { MetafieldStore, type DefinitionInput, type SetInput } from "./metafields";
import { LeakyBucket, MAX_QUERY_COST, queryCost } from "./query-cost";
import { bulkFinishPayload } from "./rest-payloads";
import {
  compileSegmentQuery,
  dayIn,
  SegmentQueryError,
  segmentQueryProblem,
  UnevaluatedSegmentQueryError,
  type SegmentQueryContext,
} from "./segment-query";
import { gid, parseGid, ShopData } from "./shop-data";
import type { SimulatedShop } from "./store";

/**
 * Everything one simulated shop does at run time: its data, its API rate
 * limit, bulk operations, segments and web pixel.
 */

export interface RuntimeOptions {
  bucketSize: number;
  restoreRate: number;
  resultsDir: string;
  /** Where staged uploads (bulk mutation variables) are kept. */
  uploadsDir: string;
  publicUrl: () => string;
  bulkPageDelayMs: number;
  /** Settings fields the web pixel extension declares; webPixelCreate checks them. */
  pixelSettingsFields: string[];
  /** The app's numeric API client id: its reserved metafield namespace is `app--<id>`. */
  apiClientId: string;
  notify(topic: string, shop: string, payload: unknown): void;
}

interface SegmentView {
  __typename: "Segment";
  id: string;
  name: string;
  query: string;
  creationDate: string;
  lastEditDate: string;
}

interface StagedUploadInput {
  resource: string;
  filename: string;
  mimeType: string;
  httpMethod?: string | null;
}

/** A staged upload target handed out by stagedUploadsCreate; the file exists once uploaded. */
export interface StagedUpload {
  key: string;
  file: string;
  signature: string;
}

/** Where the simulator accepts staged uploads, as Shopify's storage bucket does. */
export const STAGED_UPLOADS_PATH = "/staged-uploads";
/** The largest bulk mutation variables file Shopify takes. */
export const STAGED_UPLOAD_MAX_BYTES = 100_000_000;

interface WebPixelView {
  __typename: "WebPixel";
  id: string;
  /** A JSON scalar, as Shopify types it: the settings object itself. */
  settings: Record<string, string>;
}

let segmentCounter = 0;
let pixelCounter = 0;

export class ShopRuntime {
  readonly data: ShopData;
  readonly bucket: LeakyBucket;
  readonly segments = new Map<string, SegmentView>();
  webPixel: WebPixelView | undefined;
  readonly bulkOperations = new Map<string, BulkOperationState>();
  private readonly stagedUploads = new Map<string, StagedUpload>();
  private readonly uploadSecret = randomBytes(32);
  readonly views: AdminViews;
  readonly metafields: MetafieldStore;
  private readonly bulkEnv: BulkEnvironment;
  /** Counts for tests and benchmarks. */
  readonly counters = { requests: 0, throttled: 0, pointsSpent: 0, peakBulkOperations: 0 };

  constructor(
    readonly shop: SimulatedShop,
    private readonly options: RuntimeOptions,
  ) {
    this.data = new ShopData(
      storeSpec((shop.size ?? "tiny") as StoreSizeName, {
        seed: shop.seed ?? 1,
        end: new Date(shop.storeEnd ?? Date.now()),
        currencyCode: shop.currencyCode,
      }),
    );
    this.bucket = new LeakyBucket(options.bucketSize, options.restoreRate);
    this.metafields = new MetafieldStore(`app--${options.apiClientId}`);
    this.views = new AdminViews(this);
    this.bulkEnv = {
      rootValue: this.rootValue(),
      resultsDir: options.resultsDir,
      publicUrl: "",
      pageDelayMs: options.bulkPageDelayMs,
      onFinish: (operation) => options.notify("bulk_operations/finish", shop.domain, bulkFinishPayload(operation)),
    };
  }

  failNextBulkOperation(plan: BulkFailurePlan) {
    this.bulkEnv.nextFailure = plan;
  }

  bulkOperationView(id: string) {
    const operation = this.bulkOperations.get(id);
    if (!operation) return undefined;
    const { file: _file, fileToken: _token, cancelRequested: _cancel, groupObjects: _group, ...view } = operation;
    return {
      __typename: "BulkOperation",
      ...view,
      objectCount: String(view.objectCount),
      rootObjectCount: String(view.rootObjectCount),
      fileSize: view.fileSize === null ? null : String(view.fileSize),
    };
  }

  /** The staged upload with this key, when the policy signature matches the one handed out. */
  /** The size in bytes of every file uploaded to this shop's staged targets, in the order they were handed out. */
  uploadedFileSizes(): number[] {
    return [...this.stagedUploads.values()]
      .filter((staged) => existsSync(staged.file))
      .map((staged) => statSync(staged.file).size);
  }

  stagedUpload(key: string, signature: string): StagedUpload | undefined {
    const staged = this.stagedUploads.get(key);
    if (!staged || staged.signature.length !== signature.length) return undefined;
    return timingSafeEqual(Buffer.from(staged.signature), Buffer.from(signature)) ? staged : undefined;
  }

  private stageUpload(input: StagedUploadInput) {
    const key = `tmp/${this.shop.domain.split(".")[0]}/bulk/${randomUUID()}/${path.basename(input.filename)}`;
    const expiration = new Date(Date.now() + 3600_000).toISOString();
    const policy = Buffer.from(
      JSON.stringify({ conditions: [{ key }, { "Content-Type": input.mimeType }], expiration }),
    ).toString("base64");
    const signature = createHmac("sha256", this.uploadSecret).update(policy).digest("hex");
    const file = path.join(this.options.uploadsDir, `${randomBytes(16).toString("hex")}.jsonl`);
    this.stagedUploads.set(key, { key, file, signature });
    const parameters = {
      key,
      "Content-Type": input.mimeType,
      success_action_status: "201",
      acl: "private",
      policy,
      "x-goog-algorithm": "GOOG4-HMAC-SHA256",
      "x-goog-credential": `simulator/${expiration.slice(0, 10).replaceAll("-", "")}/auto/storage/goog4_request`,
      "x-goog-date": expiration.replace(/[-:]|\.\d+/g, ""),
      "x-goog-signature": signature,
    };
    return {
      url: `${this.options.publicUrl()}${STAGED_UPLOADS_PATH}`,
      resourceUrl: null,
      parameters: Object.entries(parameters).map(([name, value]) => ({ name, value })),
    };
  }

  /** How segment queries see the shop: its customer metafield definitions and today in `timezone`. */
  private segmentContext(timezone = "UTC"): SegmentQueryContext {
    return {
      metafieldType: (namespace, key) => this.metafields.definition("CUSTOMER", namespace, key)?.type,
      today: dayIn(timezone, new Date()),
      timezone,
    };
  }

  /** The customers a segment query selects, as a test of one generated customer. */
  segmentMatcher(query: string, timezone?: string): (record: GeneratedCustomer) => boolean {
    const predicate = compileSegmentQuery(query, this.segmentContext(timezone));
    return (record) => {
      const stats = this.data.customerStats(record.index);
      const ownerId = gid("Customer", record.id);
      return predicate({
        tags: record.tags,
        numberOfOrders: stats.orders,
        amountSpent: stats.spentCents / 100,
        emailSubscriptionStatus: record.emailMarketingState,
        metafield: (namespace, key) => this.metafields.valueOf(ownerId, namespace, key),
      });
    };
  }

  /** The metafield owner type of an existing resource, by GID. */
  private ownerTypeOf(ownerId: string): string | undefined {
    const parsed = parseGid(ownerId);
    if (!parsed) return undefined;
    switch (parsed.type) {
      case "Customer":
        return this.data.customer(this.data.customerIndexOf(parsed.id)) ? "CUSTOMER" : undefined;
      case "Product":
        return this.data.product(this.data.productIndexOf(parsed.id)) ? "PRODUCT" : undefined;
      case "Order":
        return this.data.order(this.data.orderIndexOf(parsed.id)) ? "ORDER" : undefined;
      default:
        return undefined;
    }
  }

  /** Bulk operations not yet ended, of both types: since API 2026-01 they share one limit. */
  private inProgress() {
    return [...this.bulkOperations.values()].filter((op) => ["CREATED", "RUNNING", "CANCELING"].includes(op.status));
  }

  /** The answer to a bulk operation asked for while the shop already runs as many as Shopify allows. */
  private bulkLimitReached() {
    return {
      bulkOperation: null,
      userErrors: [
        {
          field: null,
          message: `A shop can run at most ${MAX_CONCURRENT_BULK_OPERATIONS} bulk operations at the same time. Try again once one has finished.`,
          code: "LIMIT_REACHED",
        },
      ],
    };
  }

  private addBulkOperation(operation: BulkOperationState) {
    this.bulkOperations.set(operation.id, operation);
    this.counters.peakBulkOperations = Math.max(this.counters.peakBulkOperations, this.inProgress().length);
    this.bulkEnv.publicUrl = this.options.publicUrl();
  }

  bulkFileFor(token: string): string | undefined {
    for (const operation of this.bulkOperations.values()) if (operation.fileToken === token) return operation.file;
    return undefined;
  }

  private rootValue(): Record<string, unknown> {
    const views = this.views;
    const data = this.data;
    const shop = this.shop;
    const userError = (field: string, message: string) => [{ field: [field], message }];
    return {
      shop: () => ({
        __typename: "Shop",
        id: gid("Shop", 1),
        name: shop.name,
        email: shop.email,
        myshopifyDomain: shop.domain,
        currencyCode: shop.currencyCode,
        ianaTimezone: shop.ianaTimezone,
        plan: {
          displayName: shop.planDisplayName,
          publicDisplayName: shop.planDisplayName,
          shopifyPlus: shop.shopifyPlus,
          partnerDevelopment: false,
        },
        createdAt: shop.createdAt,
      }),
      node: ({ id }: { id: string }) => views.node(id) ?? null,
      nodes: ({ ids }: { ids: string[] }) => {
        if (ids.length > MAX_INPUT_ARRAY_SIZE)
          throw new GraphQLError(
            `The input array size of ${ids.length} is greater than the maximum allowed of ${MAX_INPUT_ARRAY_SIZE}.`,
            { extensions: { code: "MAX_INPUT_SIZE_EXCEEDED" } },
          );
        return ids.map((id) => views.node(id) ?? null);
      },
      customer: ({ id }: { id: string }) => (parseGid(id)?.type === "Customer" ? (views.node(id) ?? null) : null),
      product: ({ id }: { id: string }) => (parseGid(id)?.type === "Product" ? (views.node(id) ?? null) : null),
      order: ({ id }: { id: string }) => (parseGid(id)?.type === "Order" ? (views.node(id) ?? null) : null),
      customers: (args: object, context: ResolverContext) => views.customers(args, context),
      products: (args: object, context: ResolverContext) => views.products(args, context),
      orders: (args: object, context: ResolverContext) => views.orders(args, context),
      customersCount: (args: { query?: string | null; limit?: number | null }) =>
        countOf(data.customerCount, (i) => data.customer(i), args),
      productsCount: (args: { query?: string | null; limit?: number | null }) =>
        countOf(data.productCount, (i) => data.product(i), args),
      ordersCount: (args: { query?: string | null; limit?: number | null }) =>
        countOf(data.orderCount, (i) => data.order(i), args),
      currentBulkOperation: ({ type }: { type: BulkOperationState["type"] }) => {
        const latest = [...this.bulkOperations.values()].filter((op) => op.type === type).at(-1);
        return latest ? this.bulkOperationView(latest.id) : null;
      },
      bulkOperation: ({ id }: { id: string }) => this.bulkOperationView(id) ?? null,
      bulkOperations: (args: ConnectionArgs, context: ResolverContext) => {
        const matching = [...this.bulkOperations.values()].filter(bulkOperationFilter(args.query));
        // Shopify lists the newest first unless reversed (the sort key's natural order is oldest first).
        const newestFirst = args.reverse ? matching : matching.reverse();
        return views.listOf(
          newestFirst.map((operation) => this.bulkOperationView(operation.id)),
          { first: args.first, after: args.after, last: args.last, before: args.before },
          context,
        );
      },
      segments: (args: { first?: number; after?: string }, context: ResolverContext) => {
        const list = [...this.segments.values()];
        return views.listOf(list, args, context);
      },
      segment: ({ id }: { id: string }) => this.segments.get(id) ?? null,
      metafieldDefinitions: (
        args: { ownerType: string; namespace?: string | null; key?: string | null },
        context: ResolverContext,
      ) =>
        views.listOf(
          this.metafields
            .definitionsOf(args.ownerType, args.namespace, args.key)
            .map((definition) => views.metafieldDefinition(definition)),
          { ...args, query: null } as object,
          context,
        ),
      customerSegmentMembers: (
        args: { segmentId?: string | null; query?: string | null; queryId?: string | null; timezone?: string | null },
        context: ResolverContext,
      ) => {
        let query = args.query;
        if (args.segmentId) {
          const segment = this.segments.get(args.segmentId);
          if (!segment) throw new GraphQLError("Segment does not exist.", { extensions: { code: "NOT_FOUND" } });
          query = segment.query;
        }
        if (!query)
          throw new GraphQLError("Provide one of segmentId, queryId or query.", {
            extensions: { code: "BAD_REQUEST" },
          });
        let matches: (record: GeneratedCustomer) => boolean;
        try {
          matches = this.segmentMatcher(query, args.timezone ?? "UTC");
        } catch (error) {
          if (error instanceof UnevaluatedSegmentQueryError)
            throw new GraphQLError(error.message, { extensions: { code: "BAD_REQUEST" } });
          if (!(error instanceof SegmentQueryError)) throw error;
          throw new GraphQLError(`Query is invalid: ${error.message}`, { extensions: { code: "BAD_REQUEST" } });
        }
        return views.segmentMembers(args, matches, context);
      },
      webPixel: ({ id }: { id?: string }) => {
        if (!this.webPixel || (id && id !== this.webPixel.id)) {
          throw new GraphQLError("No web pixel was found for this app.", { extensions: { code: "NOT_FOUND" } });
        }
        return this.webPixel;
      },

      bulkOperationRunQuery: ({ query, groupObjects }: { query: string; groupObjects: boolean }) => {
        let document: DocumentNode;
        try {
          document = checkBulkQuery(query);
        } catch (error) {
          if (!(error instanceof BulkQueryError)) throw error;
          return { bulkOperation: null, userErrors: [{ field: ["query"], message: error.message, code: "INVALID" }] };
        }
        if (this.inProgress().length >= MAX_CONCURRENT_BULK_OPERATIONS) return this.bulkLimitReached();
        const operation = createBulkOperation("QUERY", query, groupObjects, this.options.resultsDir);
        this.addBulkOperation(operation);
        setImmediate(() => void runBulkOperation(operation, document, this.bulkEnv));
        return { bulkOperation: this.bulkOperationView(operation.id), userErrors: [] };
      },
      bulkOperationRunMutation: ({ mutation, stagedUploadPath }: { mutation: string; stagedUploadPath: string }) => {
        const refuse = (field: string | null, message: string, code: string) => ({
          bulkOperation: null,
          userErrors: [{ field: field ? [field] : null, message, code }],
        });
        let document: DocumentNode;
        try {
          document = checkBulkMutation(mutation);
        } catch (error) {
          if (!(error instanceof BulkMutationError)) throw error;
          return refuse("mutation", error.message, "INVALID_MUTATION");
        }
        const staged = this.stagedUploads.get(stagedUploadPath);
        if (!staged || !existsSync(staged.file)) {
          return refuse(
            "stagedUploadPath",
            "The JSONL file could not be found. Try uploading the file again.",
            "NO_SUCH_FILE",
          );
        }
        if (this.inProgress().length >= MAX_CONCURRENT_BULK_OPERATIONS) return this.bulkLimitReached();
        const operation = createBulkOperation("MUTATION", mutation, false, this.options.resultsDir);
        this.addBulkOperation(operation);
        setImmediate(() => void runBulkMutation(operation, document, staged.file, this.bulkEnv));
        return { bulkOperation: this.bulkOperationView(operation.id), userErrors: [] };
      },
      stagedUploadsCreate: ({ input }: { input: StagedUploadInput[] }) => {
        const userErrors = input.flatMap((item, i) => {
          if (item.resource !== "BULK_MUTATION_VARIABLES")
            return [
              {
                field: ["input", String(i), "resource"],
                message: "The simulator stages only BULK_MUTATION_VARIABLES.",
              },
            ];
          if (item.httpMethod !== "POST")
            return [
              { field: ["input", String(i), "httpMethod"], message: "Bulk mutation variables are uploaded with POST." },
            ];
          if (item.mimeType !== "text/jsonl")
            return [
              { field: ["input", String(i), "mimeType"], message: "Bulk mutation variables must be text/jsonl." },
            ];
          return [];
        });
        if (userErrors.length > 0) return { stagedTargets: null, userErrors };
        return { stagedTargets: input.map((item) => this.stageUpload(item)), userErrors: [] };
      },
      bulkOperationCancel: ({ id }: { id: string }) => {
        const operation = this.bulkOperations.get(id);
        if (!operation) return { bulkOperation: null, userErrors: userError("id", "Bulk operation does not exist") };
        if (!["CREATED", "RUNNING"].includes(operation.status)) {
          return {
            bulkOperation: this.bulkOperationView(id),
            userErrors: userError(
              "id",
              `A bulk operation cannot be canceled when it is ${operation.status.toLowerCase()}`,
            ),
          };
        }
        operation.cancelRequested = true;
        operation.status = "CANCELING";
        return { bulkOperation: this.bulkOperationView(id), userErrors: [] };
      },
      tagsAdd: ({ id, tags }: { id: string; tags: string[] }) => this.changeTags(id, tags, "add"),
      tagsRemove: ({ id, tags }: { id: string; tags: string[] }) => this.changeTags(id, tags, "remove"),
      segmentCreate: ({ name, query }: { name: string; query: string }) => {
        if ([...this.segments.values()].some((segment) => segment.name === name)) {
          return { segment: null, userErrors: userError("name", "Name has already been taken") };
        }
        const problem = segmentQueryProblem(query, this.segmentContext());
        if (problem) return { segment: null, userErrors: userError("query", `Query is invalid: ${problem}`) };
        const now = new Date().toISOString();
        const segment: SegmentView = {
          __typename: "Segment",
          id: gid("Segment", 520_000 + ++segmentCounter),
          name,
          query,
          creationDate: now,
          lastEditDate: now,
        };
        this.segments.set(segment.id, segment);
        return { segment, userErrors: [] };
      },
      segmentUpdate: ({ id, name, query }: { id: string; name?: string; query?: string }) => {
        const segment = this.segments.get(id);
        if (!segment) return { segment: null, userErrors: userError("id", "Segment does not exist") };
        if (name && [...this.segments.values()].some((other) => other.name === name && other.id !== id)) {
          return { segment: null, userErrors: userError("name", "Name has already been taken") };
        }
        const problem =
          query === undefined || query === null ? undefined : segmentQueryProblem(query, this.segmentContext());
        if (problem) return { segment: null, userErrors: userError("query", `Query is invalid: ${problem}`) };
        Object.assign(segment, {
          ...(name ? { name } : {}),
          ...(query ? { query } : {}),
          lastEditDate: new Date().toISOString(),
        });
        return { segment, userErrors: [] };
      },
      metafieldDefinitionCreate: ({ definition }: { definition: DefinitionInput }) => {
        const { created, userErrors } = this.metafields.createDefinition(definition);
        return { createdDefinition: created ? views.metafieldDefinition(created) : null, userErrors };
      },
      metafieldsSet: ({ metafields }: { metafields: SetInput[] }) => {
        const { metafields: written, userErrors } = this.metafields.set(metafields, (id) => this.ownerTypeOf(id));
        return { metafields: written?.map((metafield) => views.metafield(metafield)) ?? null, userErrors };
      },
      metafieldsDelete: ({ metafields }: { metafields: { ownerId: string; namespace: string; key: string }[] }) =>
        this.metafields.delete(metafields),
      webPixelCreate: ({ webPixel }: { webPixel: { settings: unknown } }) => {
        if (this.webPixel)
          return {
            webPixel: null,
            userErrors: [{ field: ["webPixel"], message: "Web pixel is taken.", code: "TAKEN" }],
          };
        const settings = this.checkPixelSettings(webPixel.settings);
        if ("error" in settings)
          return {
            webPixel: null,
            userErrors: [{ field: ["webPixel", "settings"], message: settings.error, code: "INVALID_SETTINGS" }],
          };
        this.webPixel = {
          __typename: "WebPixel",
          id: gid("WebPixel", 880_000 + ++pixelCounter),
          settings: settings.value,
        };
        return { webPixel: this.webPixel, userErrors: [] };
      },
      webPixelUpdate: ({ id, webPixel }: { id: string; webPixel: { settings: unknown } }) => {
        if (!this.webPixel || this.webPixel.id !== id)
          return {
            webPixel: null,
            userErrors: [{ field: ["id"], message: "Web pixel not found.", code: "NOT_FOUND" }],
          };
        const settings = this.checkPixelSettings(webPixel.settings);
        if ("error" in settings)
          return {
            webPixel: null,
            userErrors: [{ field: ["webPixel", "settings"], message: settings.error, code: "INVALID_SETTINGS" }],
          };
        this.webPixel.settings = settings.value;
        return { webPixel: this.webPixel, userErrors: [] };
      },
      webPixelDelete: ({ id }: { id: string }) => {
        if (!this.webPixel || this.webPixel.id !== id)
          return {
            deletedWebPixelId: null,
            userErrors: [{ field: ["id"], message: "Web pixel not found.", code: "NOT_FOUND" }],
          };
        this.webPixel = undefined;
        return { deletedWebPixelId: id, userErrors: [] };
      },
    };
  }

  /** Settings arrive as a JSON object or, as Shopify also accepts, a string holding one. */
  private checkPixelSettings(raw: unknown): { value: Record<string, string> } | { error: string } {
    let settings: unknown = raw;
    if (typeof raw === "string") {
      try {
        settings = JSON.parse(raw);
      } catch {
        return { error: "Settings must be a JSON object." };
      }
    }
    if (typeof settings !== "object" || settings === null || Array.isArray(settings))
      return { error: "Settings must be a JSON object." };
    for (const field of this.options.pixelSettingsFields) {
      const value = (settings as Record<string, unknown>)[field];
      if (typeof value !== "string" || value.length === 0)
        return { error: `Setting "${field}" is required by the extension's settings definition.` };
    }
    const unknown = Object.keys(settings).filter((key) => !this.options.pixelSettingsFields.includes(key));
    if (unknown.length > 0) return { error: `Setting "${unknown[0]}" is not defined by the extension.` };
    return { value: { ...(settings as Record<string, string>) } };
  }

  private changeTags(id: string, tags: string[], change: "add" | "remove") {
    const parsed = parseGid(id);
    if (tags.length > MAX_INPUT_ARRAY_SIZE)
      return { node: null, userErrors: [{ field: ["tags"], message: "Too many tags: at most 250 at once." }] };
    if (parsed?.type !== "Customer")
      return { node: null, userErrors: [{ field: ["id"], message: "Invalid id: only customers are supported here." }] };
    const index = this.data.customerIndexOf(parsed.id);
    const customer = this.data.customer(index);
    if (!customer) return { node: null, userErrors: [{ field: ["id"], message: "Resource not found." }] };
    const cleaned = tags.map((tag) => tag.trim()).filter(Boolean);
    const next =
      change === "add" ? [...customer.tags, ...cleaned] : customer.tags.filter((tag) => !cleaned.includes(tag));
    this.data.setCustomerTags(index, next);
    return { node: this.views.customer(this.data.customer(index)!), userErrors: [] };
  }

  /** One Admin API request: cost, throttle, execution, refund. */
  async executeAdmin(query: string, variables: Record<string, unknown> | undefined, operationName?: string | null) {
    this.counters.requests++;
    let document: DocumentNode;
    try {
      document = parse(query);
    } catch (error) {
      return { errors: [{ message: (error as GraphQLError).message, extensions: { code: "PARSE_ERROR" } }] };
    }
    const validationErrors = validate(adminSchema, document);
    if (validationErrors.length > 0) {
      return {
        errors: validationErrors.map((error) => ({
          message: error.message,
          locations: error.locations,
          extensions: { code: "GRAPHQL_VALIDATION_FAILED" },
        })),
      };
    }
    let requested: number;
    try {
      requested = queryCost(adminSchema, document, variables ?? {}, { operationName });
    } catch (error) {
      return { errors: [{ message: (error as Error).message }] };
    }
    if (requested > MAX_QUERY_COST) {
      return {
        errors: [
          {
            message: `Query cost is ${requested}, which exceeds the single query max cost limit (${MAX_QUERY_COST}).`,
            extensions: { code: "MAX_COST_EXCEEDED", cost: requested, maxCost: MAX_QUERY_COST },
          },
        ],
      };
    }
    if (!this.bucket.take(requested)) {
      this.counters.throttled++;
      return {
        errors: [
          {
            message: "Throttled",
            extensions: { code: "THROTTLED", documentation: "https://shopify.dev/api/usage/rate-limits" },
          },
        ],
        extensions: {
          cost: { requestedQueryCost: requested, actualQueryCost: null, throttleStatus: this.bucket.status() },
        },
      };
    }
    const context: ResolverContext = { bulk: false, searchWarnings: [] };
    const result: ExecutionResult = await execute({
      schema: adminSchema,
      document,
      rootValue: this.bulkEnv.rootValue,
      contextValue: context,
      variableValues: variables,
      operationName,
    });
    const actual = result.data
      ? Math.min(
          requested,
          queryCost(adminSchema, document, variables ?? {}, {
            operationName,
            data: result.data as Record<string, unknown>,
          }),
        )
      : requested;
    this.bucket.refund(requested - actual);
    this.counters.pointsSpent += actual;
    return {
      ...(result.errors ? { errors: result.errors.map((error) => error.toJSON()) } : {}),
      data: result.data ?? null,
      extensions: {
        cost: { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus: this.bucket.status() },
        ...(context.searchWarnings.length
          ? {
              search: context.searchWarnings.map((warning) => ({
                path: [],
                query: "",
                parsed: {},
                warnings: [warning],
              })),
            }
          : {}),
      },
    };
  }
}
