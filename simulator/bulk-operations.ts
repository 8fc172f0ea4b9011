import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, stat } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";
import {
  execute,
  getNamedType,
  GraphQLError,
  Kind,
  parse,
  validate,
  visit,
  type DocumentNode,
  type FieldNode,
  type GraphQLObjectType,
  type OperationDefinitionNode,
} from "graphql";
import { adminSchema } from "./admin-schema";
import type { ResolverContext } from "./admin-resolvers";
import { compareDates, parseSearchQuery } from "./search-query";
import { gid } from "./shop-data";

/**
 * Bulk operations as Shopify runs them, validated up front, run in the
 * background and announced by the bulk_operations/finish webhook. Queries
 * run page by page and are written as JSONL where each nested connection's
 * items are their own lines pointing at their parent with __parentId.
 * Mutations run once per line of an uploaded JSONL file of variables, and
 * their result file has one line per input line: the mutation's response
 * and its zero-based __lineNumber.
 */

export type BulkStatus = "CREATED" | "RUNNING" | "COMPLETED" | "CANCELING" | "CANCELED" | "FAILED" | "EXPIRED";
export type BulkOperationType = "QUERY" | "MUTATION";

export interface BulkOperationState {
  id: string;
  status: BulkStatus;
  type: BulkOperationType;
  errorCode: "ACCESS_DENIED" | "INTERNAL_SERVER_ERROR" | "TIMEOUT" | null;
  objectCount: number;
  rootObjectCount: number;
  fileSize: number | null;
  url: string | null;
  partialDataUrl: string | null;
  query: string;
  createdAt: string;
  completedAt: string | null;
  groupObjects: boolean;
  file: string;
  fileToken: string;
  cancelRequested: boolean;
}

export interface BulkFailurePlan {
  /** Fail once this many objects were written; a partial file is kept. */
  afterObjects: number;
  errorCode: "INTERNAL_SERVER_ERROR" | "TIMEOUT";
}

export interface BulkEnvironment {
  rootValue: Record<string, unknown>;
  resultsDir: string;
  publicUrl: string;
  /** Pause between pages, to make long operations observable in tests. */
  pageDelayMs: number;
  nextFailure?: BulkFailurePlan;
  onFinish(operation: BulkOperationState): void;
}

/** Since API 2026-01, bulk queries and mutations together (before: one of each). */
export const MAX_CONCURRENT_BULK_OPERATIONS = 5;
/** The mutations the simulator runs in bulk; Shopify accepts more. */
export const BULK_MUTATIONS = ["tagsAdd", "tagsRemove", "metafieldsSet", "metafieldsDelete"];
const PAGE_SIZE = 250;
const MAX_CONNECTIONS = 5;
const MAX_CONNECTION_DEPTH = 2;
let counter = 0;

export class BulkQueryError extends Error {}
export class BulkMutationError extends Error {}

function isConnectionField(parent: GraphQLObjectType, field: FieldNode) {
  const definition = parent.getFields()[field.name.value];
  return definition ? getNamedType(definition.type).name.endsWith("Connection") : false;
}

/** Parses and validates a bulk operation's document; `fail` makes the error its mutation reports. */
function parseBulkDocument(text: string, what: string, fail: (message: string) => Error) {
  let document: DocumentNode;
  try {
    document = parse(text);
  } catch (error) {
    throw fail(`Invalid ${what}: ${(error as GraphQLError).message}`);
  }
  const errors = validate(adminSchema, document);
  if (errors.length > 0) throw fail(`Invalid ${what}: ${errors[0]!.message}`);
  const operations = document.definitions.filter(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  return { document, operations };
}

/** Validates a bulk query the way Shopify does and returns its parsed document. */
/** The `bulkOperations(query:)` filter: operation_type, status, created_at, as Shopify documents them. */
export function bulkOperationFilter(query: string | null | undefined) {
  const terms = parseSearchQuery(query);
  return (operation: BulkOperationState) =>
    terms.every((term) => {
      switch (term.field) {
        case "operation_type":
          return operation.type === term.value.toUpperCase();
        case "status":
          return operation.status === term.value.toUpperCase();
        case "created_at":
          return compareDates(new Date(operation.createdAt), term.comparison, term.value);
        case "id":
          return operation.id.endsWith(`/${term.value}`);
        default:
          return true;
      }
    });
}

export function checkBulkQuery(query: string): DocumentNode {
  const { document, operations } = parseBulkDocument(query, "bulk query", (message) => new BulkQueryError(message));
  const operation = operations[0];
  if (!operation || operation.operation !== "query")
    throw new BulkQueryError("Bulk queries must be a query operation.");
  const roots = operation.selectionSet.selections.filter((s): s is FieldNode => s.kind === Kind.FIELD);
  const queryType = adminSchema.getQueryType()!;
  if (roots.length !== 1 || !isConnectionField(queryType, roots[0]!)) {
    throw new BulkQueryError("Bulk queries must contain exactly one top-level connection field.");
  }
  let connections = 0;
  const childField = (field: FieldNode, name: string) =>
    field.selectionSet?.selections.find((s): s is FieldNode => s.kind === Kind.FIELD && s.name.value === name);
  const walk = (type: GraphQLObjectType, field: FieldNode, depth: number) => {
    const definition = type.getFields()[field.name.value];
    if (!definition || !field.selectionSet) return;
    const named = getNamedType(definition.type) as GraphQLObjectType;
    if (!isConnectionField(type, field)) {
      for (const selection of field.selectionSet.selections) {
        if (selection.kind === Kind.FIELD && "getFields" in named) walk(named, selection, depth);
      }
      return;
    }
    connections++;
    if (depth + 1 > MAX_CONNECTION_DEPTH) {
      throw new BulkQueryError("Bulk queries cannot contain connections nested more than 2 levels deep.");
    }
    const edges = childField(field, "edges");
    const item = edges ? childField(edges, "node") : childField(field, "nodes");
    if (!item?.selectionSet)
      throw new BulkQueryError("Connections in bulk queries must select edges { node } or nodes.");
    if (!childField(item, "id")) {
      throw new BulkQueryError("The 'id' field is required on every node of a bulk query connection.");
    }
    const itemType = edges
      ? (getNamedType(
          (getNamedType(named.getFields().edges!.type) as GraphQLObjectType).getFields().node!.type,
        ) as GraphQLObjectType)
      : (getNamedType(named.getFields().nodes!.type) as GraphQLObjectType);
    for (const selection of item.selectionSet.selections) {
      if (selection.kind === Kind.FIELD) walk(itemType, selection, depth + 1);
    }
  };
  walk(queryType, roots[0]!, 0);
  if (connections > MAX_CONNECTIONS) throw new BulkQueryError("Bulk queries cannot contain more than 5 connections.");
  return document;
}

/** Validates a bulk mutation the way Shopify does and returns its parsed document. */
export function checkBulkMutation(mutation: string): DocumentNode {
  const { document, operations } = parseBulkDocument(
    mutation,
    "bulk mutation",
    (message) => new BulkMutationError(message),
  );
  if (operations.length !== 1 || operations[0]!.operation !== "mutation") {
    throw new BulkMutationError("Bulk mutations must contain exactly one mutation operation.");
  }
  const fields = operations[0]!.selectionSet.selections.filter((s): s is FieldNode => s.kind === Kind.FIELD);
  if (fields.length !== 1) throw new BulkMutationError("Bulk mutations must contain exactly one top-level field.");
  const name = fields[0]!.name.value;
  if (!BULK_MUTATIONS.includes(name)) {
    throw new BulkMutationError(
      `The mutation "${name}" cannot run in bulk here (supported: ${BULK_MUTATIONS.join(", ")}).`,
    );
  }
  return document;
}

const PAGE_INFO_ALIAS = "__bulkPageInfo";

/** The same query, paged: the top-level connection gets first/after and reports where it stopped. */
function pageDocument(document: DocumentNode, after: string | null): DocumentNode {
  let rootDone = false;
  return visit(document, {
    Field(node) {
      if (rootDone) return undefined;
      rootDone = true;
      const others = (node.arguments ?? []).filter(
        (arg) => !["first", "after", "last", "before"].includes(arg.name.value),
      );
      const args = [
        ...others,
        {
          kind: Kind.ARGUMENT,
          name: { kind: Kind.NAME, value: "first" },
          value: { kind: Kind.INT, value: String(PAGE_SIZE) },
        },
        ...(after
          ? [
              {
                kind: Kind.ARGUMENT,
                name: { kind: Kind.NAME, value: "after" },
                value: { kind: Kind.STRING, value: after },
              },
            ]
          : []),
      ];
      const pageInfo = parse(`{ ${PAGE_INFO_ALIAS}: pageInfo { hasNextPage endCursor } }`)
        .definitions[0] as OperationDefinitionNode;
      return {
        ...node,
        arguments: args,
        selectionSet: {
          ...node.selectionSet!,
          selections: [...node.selectionSet!.selections, ...pageInfo.selectionSet.selections],
        },
      } as FieldNode;
    },
  });
}

type JsonObject = Record<string, unknown>;

function isConnectionValue(value: unknown): value is { edges?: { node: JsonObject }[]; nodes?: JsonObject[] } {
  return typeof value === "object" && value !== null && ("edges" in value || "nodes" in value) && !Array.isArray(value);
}

/** One node and its nested connection items, as JSONL objects. Children are separate lines. */
function flatten(
  node: JsonObject,
  parentId: string | null,
  into: { parents: JsonObject[]; children: JsonObject[] },
  depth = 0,
) {
  const own: JsonObject = {};
  const nested: JsonObject[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (isConnectionValue(value)) nested.push(...(value.edges?.map((edge) => edge.node) ?? value.nodes ?? []));
    else own[key] = value;
  }
  if (parentId) own.__parentId = parentId;
  (depth === 0 ? into.parents : into.children).push(own);
  for (const child of nested) flatten(child, String(node.id), into, depth + 1);
}

export function createBulkOperation(
  type: BulkOperationType,
  query: string,
  groupObjects: boolean,
  resultsDir: string,
): BulkOperationState {
  counter += 1;
  const fileToken = randomBytes(16).toString("hex");
  return {
    id: gid("BulkOperation", 4_700_000 + counter),
    status: "CREATED",
    type,
    errorCode: null,
    objectCount: 0,
    rootObjectCount: 0,
    fileSize: null,
    url: null,
    partialDataUrl: null,
    query,
    createdAt: new Date().toISOString(),
    completedAt: null,
    groupObjects,
    file: path.join(resultsDir, `${fileToken}.jsonl`),
    fileToken,
    cancelRequested: false,
  };
}

/** The operation's result file: lines are counted as written, and finishing publishes its URL. */
async function openResultFile(operation: BulkOperationState, env: BulkEnvironment) {
  await mkdir(path.dirname(operation.file), { recursive: true });
  const out = createWriteStream(operation.file);
  const failure = env.nextFailure;
  env.nextFailure = undefined;
  const finish = async (status: BulkStatus, errorCode: BulkOperationState["errorCode"] = null) => {
    out.end();
    await once(out, "close");
    const { size } = await stat(operation.file);
    // All at once, with no await between: as on Shopify, a finished operation is never seen without its URL.
    operation.status = status;
    operation.errorCode = errorCode;
    operation.completedAt = new Date().toISOString();
    operation.fileSize = size;
    const url = `${env.publicUrl}/bulk-results/${operation.fileToken}.jsonl`;
    if (status === "COMPLETED") operation.url = operation.objectCount > 0 ? url : null;
    if (status === "FAILED" && operation.objectCount > 0) operation.partialDataUrl = url;
    env.onFinish(operation);
  };
  const write = async (line: JsonObject) => {
    if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, "drain");
    operation.objectCount++;
    if (!("__parentId" in line)) operation.rootObjectCount++;
  };
  /** Whether the planned failure is due before the next line. */
  const failureDue = () => Boolean(failure && operation.objectCount >= failure.afterObjects);
  return { failure, finish, write, failureDue };
}

async function pause(env: BulkEnvironment) {
  if (env.pageDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, env.pageDelayMs));
  else await yieldToEventLoop();
}

export async function runBulkOperation(operation: BulkOperationState, document: DocumentNode, env: BulkEnvironment) {
  const { failure, finish, write, failureDue } = await openResultFile(operation, env);
  try {
    operation.status = "RUNNING";
    let after: string | null = null;
    for (;;) {
      if (operation.cancelRequested) return await finish("CANCELED");
      const context: ResolverContext = { bulk: true, searchWarnings: [] };
      const result = await execute({
        schema: adminSchema,
        document: pageDocument(document, after),
        rootValue: env.rootValue,
        contextValue: context,
      });
      if (result.errors?.length) throw result.errors[0];
      const connection = Object.values(result.data ?? {})[0] as {
        edges?: { node: JsonObject }[];
        nodes?: JsonObject[];
        [PAGE_INFO_ALIAS]: { hasNextPage: boolean; endCursor: string | null };
      };
      const roots = connection.edges?.map((edge) => edge.node) ?? connection.nodes ?? [];
      const lines = { parents: [] as JsonObject[], children: [] as JsonObject[] };
      const ordered: JsonObject[] = [];
      for (const root of roots) {
        const one = { parents: [] as JsonObject[], children: [] as JsonObject[] };
        flatten(root, null, one);
        if (operation.groupObjects) ordered.push(...one.parents, ...one.children);
        lines.parents.push(...one.parents);
        lines.children.push(...one.children);
      }
      // Without groupObjects Shopify promises no order; children first is the hardest case for a reader.
      if (!operation.groupObjects) ordered.push(...lines.children, ...lines.parents);
      for (const line of ordered) {
        if (failureDue()) return await finish("FAILED", failure!.errorCode);
        await write(line);
      }
      const pageInfo = connection[PAGE_INFO_ALIAS];
      if (!pageInfo?.hasNextPage || !pageInfo.endCursor) break;
      after = pageInfo.endCursor;
      await pause(env);
    }
    if (operation.cancelRequested) return await finish("CANCELED");
    if (failure) return await finish("FAILED", failure.errorCode);
    await finish("COMPLETED");
  } catch {
    await finish("FAILED", "INTERNAL_SERVER_ERROR");
  }
}

/** Runs the mutation once per line of the variables file, PAGE_SIZE lines between pauses. */
export async function runBulkMutation(
  operation: BulkOperationState,
  document: DocumentNode,
  variablesFile: string,
  env: BulkEnvironment,
) {
  const { failure, finish, write, failureDue } = await openResultFile(operation, env);
  const lines = createInterface({ input: createReadStream(variablesFile), crlfDelay: Infinity });
  try {
    operation.status = "RUNNING";
    let lineNumber = -1;
    for await (const text of lines) {
      lineNumber++;
      if (!text.trim()) continue;
      if (operation.cancelRequested) return await finish("CANCELED");
      if (failureDue()) return await finish("FAILED", failure!.errorCode);
      let variables: unknown;
      try {
        variables = JSON.parse(text);
      } catch {
        variables = undefined;
      }
      if (typeof variables !== "object" || variables === null || Array.isArray(variables)) {
        await write({ errors: [{ message: "The line is not a JSON object of variables." }], __lineNumber: lineNumber });
        continue;
      }
      const result = await execute({
        schema: adminSchema,
        document,
        rootValue: env.rootValue,
        contextValue: { bulk: true, searchWarnings: [] } satisfies ResolverContext,
        variableValues: variables as Record<string, unknown>,
      });
      await write({
        ...(result.errors ? { errors: result.errors.map((error) => error.toJSON()) } : {}),
        ...(result.data ? { data: result.data } : {}),
        __lineNumber: lineNumber,
      });
      if (operation.objectCount % PAGE_SIZE === 0) await pause(env);
    }
    if (operation.cancelRequested) return await finish("CANCELED");
    if (failure) return await finish("FAILED", failure.errorCode);
    await finish("COMPLETED");
  } catch {
    await finish("FAILED", "INTERNAL_SERVER_ERROR");
  } finally {
    lines.close();
  }
}
