import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdir, stat } from "node:fs/promises";
import path from "node:path";
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
import { gid } from "./shop-data";

/**
 * Bulk query operations as Shopify runs them: validated up front, run in the
 * background page by page, written as JSONL where each nested connection's
 * items are their own lines pointing at their parent with __parentId, and
 * announced by the bulk_operations/finish webhook.
 */

export type BulkStatus = "CREATED" | "RUNNING" | "COMPLETED" | "CANCELING" | "CANCELED" | "FAILED" | "EXPIRED";

export interface BulkOperationState {
  id: string;
  status: BulkStatus;
  type: "QUERY";
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

export const MAX_CONCURRENT_BULK_QUERIES = 5;
const PAGE_SIZE = 250;
const MAX_CONNECTIONS = 5;
const MAX_CONNECTION_DEPTH = 2;
let counter = 0;

export class BulkQueryError extends Error {}

function isConnectionField(parent: GraphQLObjectType, field: FieldNode) {
  const definition = parent.getFields()[field.name.value];
  return definition ? getNamedType(definition.type).name.endsWith("Connection") : false;
}

/** Validates a bulk query the way Shopify does and returns its parsed document. */
export function checkBulkQuery(query: string): DocumentNode {
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch (error) {
    throw new BulkQueryError(`Invalid bulk query: ${(error as GraphQLError).message}`);
  }
  const errors = validate(adminSchema, document);
  if (errors.length > 0) throw new BulkQueryError(`Invalid bulk query: ${errors[0]!.message}`);
  const operation = document.definitions.find(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
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

export function createBulkOperation(query: string, groupObjects: boolean, resultsDir: string): BulkOperationState {
  counter += 1;
  const fileToken = randomBytes(16).toString("hex");
  return {
    id: gid("BulkOperation", 4_700_000 + counter),
    status: "CREATED",
    type: "QUERY",
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

export async function runBulkOperation(operation: BulkOperationState, document: DocumentNode, env: BulkEnvironment) {
  await mkdir(path.dirname(operation.file), { recursive: true });
  const out = createWriteStream(operation.file);
  const failure = env.nextFailure;
  env.nextFailure = undefined;
  const finish = async (status: BulkStatus, errorCode: BulkOperationState["errorCode"] = null) => {
    out.end();
    await once(out, "close");
    operation.status = status;
    operation.errorCode = errorCode;
    operation.completedAt = new Date().toISOString();
    operation.fileSize = (await stat(operation.file)).size;
    const url = `${env.publicUrl}/bulk-results/${operation.fileToken}.jsonl`;
    if (status === "COMPLETED") operation.url = operation.objectCount > 0 ? url : null;
    if (status === "FAILED" && operation.objectCount > 0) operation.partialDataUrl = url;
    env.onFinish(operation);
  };
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
        if (failure && operation.objectCount >= failure.afterObjects) return await finish("FAILED", failure.errorCode);
        if (!out.write(`${JSON.stringify(line)}\n`)) await once(out, "drain");
        operation.objectCount++;
        if (!("__parentId" in line)) operation.rootObjectCount++;
      }
      const pageInfo = connection[PAGE_INFO_ALIAS];
      if (!pageInfo?.hasNextPage || !pageInfo.endCursor) break;
      after = pageInfo.endCursor;
      if (env.pageDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, env.pageDelayMs));
      else await yieldToEventLoop();
    }
    if (operation.cancelRequested) return await finish("CANCELED");
    if (failure) return await finish("FAILED", failure.errorCode);
    await finish("COMPLETED");
  } catch {
    await finish("FAILED", "INTERNAL_SERVER_ERROR");
  }
}
