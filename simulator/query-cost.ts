import {
  getArgumentValues,
  getNamedType,
  isLeafType,
  isListType,
  isNonNullType,
  Kind,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type GraphQLType,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";

/**
 * Calculated query cost and the leaky bucket, after Shopify's rules: scalars
 * and enums cost 0, an object 1, a connection 2 plus its page size times the
 * cost of one item, a mutation 10 on top. The requested cost is computed from
 * `first`/`last`; the actual cost from what the answer holds, and the
 * difference is refunded.
 */

export const MUTATION_BASE_COST = 10;
export const MAX_QUERY_COST = 1000;

type Data = Record<string, unknown> | null | undefined;

function unwrap(type: GraphQLType): GraphQLType {
  return isNonNullType(type) ? type.ofType : type;
}

function isConnection(type: GraphQLType) {
  return getNamedType(type).name.endsWith("Connection");
}

class CostWalker {
  private readonly fragments = new Map<string, FragmentDefinitionNode>();

  constructor(
    private readonly schema: GraphQLSchema,
    document: DocumentNode,
    private readonly variables: Record<string, unknown>,
  ) {
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) this.fragments.set(definition.name.value, definition);
    }
  }

  /** Cost of a selection set on one object; with `data`, counts what was returned. */
  selection(
    parent: GraphQLCompositeType,
    selectionSet: SelectionSetNode,
    data: Data | undefined,
    actual: boolean,
  ): number {
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const typeName = selection.typeCondition?.name.value;
        const type = (typeName ? this.schema.getType(typeName) : parent) as GraphQLCompositeType;
        if (actual && typeName && data && data.__typename && data.__typename !== typeName) continue;
        cost += this.selection(type, selection.selectionSet, data, actual);
        continue;
      }
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = this.fragments.get(selection.name.value);
        if (!fragment) continue;
        const type = this.schema.getType(fragment.typeCondition.name.value) as GraphQLCompositeType;
        cost += this.selection(type, fragment.selectionSet, data, actual);
        continue;
      }
      if (selection.name.value.startsWith("__") || !("getFields" in parent)) continue;
      const field = (parent as GraphQLObjectType).getFields()[selection.name.value] as GraphQLField<unknown, unknown>;
      if (!field || isLeafType(getNamedType(field.type)) || !selection.selectionSet) continue;
      const key = selection.alias?.value ?? selection.name.value;
      const value = actual ? (data?.[key] as unknown) : undefined;
      const named = getNamedType(field.type) as GraphQLCompositeType;
      const args = getArgumentValues(field, selection, this.variables);
      if (isConnection(field.type)) {
        cost += 2 + this.connection(named as GraphQLObjectType, selection.selectionSet, args, value as Data, actual);
      } else if (isListType(unwrap(field.type))) {
        // A list sized by its input (nodes(ids:)) is requested at that size.
        const size = Array.isArray(args.ids) ? args.ids.length : Number(args.first ?? 1);
        const items = actual ? ((value as Data[]) ?? []) : Array.from({ length: size });
        for (const item of items) cost += 1 + this.selection(named, selection.selectionSet, item as Data, actual);
      } else if (!actual || value) {
        cost += 1 + this.selection(named, selection.selectionSet, value as Data, actual);
      }
    }
    return cost;
  }

  private connection(
    type: GraphQLObjectType,
    selectionSet: SelectionSetNode,
    args: Record<string, unknown>,
    data: Data,
    actual: boolean,
  ): number {
    const pageSize = Number(args.first ?? args.last ?? 0);
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind !== Kind.FIELD || !selection.selectionSet) continue;
      const name = selection.name.value;
      const key = selection.alias?.value ?? name;
      const field = type.getFields()[name];
      if (!field || name === "pageInfo") continue;
      const itemType = getNamedType(field.type) as GraphQLCompositeType;
      const items = actual ? ((data?.[key] as Data[]) ?? []) : Array.from<Data>({ length: pageSize });
      for (const item of items) {
        // An edge wraps its node for free; the node is the object that costs 1.
        cost +=
          name === "edges"
            ? this.selection(itemType, selection.selectionSet, item, actual)
            : 1 + this.selection(itemType, selection.selectionSet, item, actual);
      }
    }
    return cost;
  }
}

function operation(document: DocumentNode, operationName?: string | null): OperationDefinitionNode | undefined {
  return document.definitions.find(
    (definition): definition is OperationDefinitionNode =>
      definition.kind === Kind.OPERATION_DEFINITION && (!operationName || definition.name?.value === operationName),
  );
}

export function queryCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> = {},
  options: { operationName?: string | null; data?: Record<string, unknown> | null } = {},
): number {
  const op = operation(document, options.operationName);
  if (!op) return 0;
  const root = op.operation === "mutation" ? schema.getMutationType() : schema.getQueryType();
  if (!root) return 0;
  const walker = new CostWalker(schema, document, variables);
  const base = op.operation === "mutation" ? MUTATION_BASE_COST : 0;
  return base + walker.selection(root, op.selectionSet, options.data, options.data !== undefined);
}

export interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

/** Shopify's per app-and-shop bucket: refills at `restoreRate` points a second up to `maximumAvailable`. */
export class LeakyBucket {
  private available: number;
  private updatedAt: number;

  constructor(
    readonly maximumAvailable: number,
    readonly restoreRate: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.available = maximumAvailable;
    this.updatedAt = now();
  }

  private refill() {
    const now = this.now();
    this.available = Math.min(
      this.maximumAvailable,
      this.available + ((now - this.updatedAt) / 1000) * this.restoreRate,
    );
    this.updatedAt = now;
  }

  /** Takes `cost` points if they are there; false means THROTTLED. */
  take(cost: number): boolean {
    this.refill();
    if (cost > this.available) return false;
    this.available -= cost;
    return true;
  }

  refund(points: number) {
    this.refill();
    this.available = Math.min(this.maximumAvailable, this.available + Math.max(0, points));
  }

  status(): ThrottleStatus {
    this.refill();
    return {
      maximumAvailable: this.maximumAvailable,
      currentlyAvailable: Math.floor(this.available),
      restoreRate: this.restoreRate,
    };
  }
}
