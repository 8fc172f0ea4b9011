import type { z } from "zod";

/**
 * Predicates compiled from zod schemas, for the two places where input
 * arrives by the hundred thousand (bulk lines of a pull, storefront events):
 * they accept exactly what the schema accepts but allocate nothing, where zod
 * builds a copy of every object and array it checks. zod stays the source of
 * truth: anything the compiler does not know is handed to zod, and zod words
 * the error when a value is refused.
 */

export type Check = (value: unknown) => boolean;

interface CheckDef {
  check: string;
  format?: string;
  pattern?: RegExp;
  minimum?: number;
  maximum?: number;
  value?: number;
  inclusive?: boolean;
  when?: unknown;
  abort?: boolean;
  fn?: (value: unknown) => unknown;
}

interface SchemaDef {
  type: string;
  checks?: { _zod: { def: CheckDef } }[];
  innerType?: z.ZodType;
  element?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  entries?: Record<string, string | number>;
  format?: string;
  pattern?: RegExp;
}

/** Definition keys that change nothing a predicate must know beyond what it reads. */
const PLAIN_KEYS = new Set(["type", "checks", "innerType", "element", "shape", "catchall", "entries"]);
/** String formats zod checks by their pattern alone (others, such as url or email, do more). */
const PATTERN_FORMATS = new Set(["regex", "datetime"]);
/** What a datetime's definition holds besides its pattern: options the pattern was built from. */
const DATETIME_KEYS = new Set(["format", "check", "offset", "local", "precision", "pattern"]);

const definitionOf = (schema: z.ZodType) =>
  (schema as unknown as { _zod: { def: SchemaDef & Record<string, unknown> } })._zod.def;

/** A check of one value's size or pattern, or undefined when only zod can run it. */
function compileRefinement(check: CheckDef, kind: "string" | "number" | "array" | "object"): Check | undefined {
  const { minimum, maximum, value: bound, inclusive, pattern } = check;
  switch (check.check) {
    case "min_length":
      return kind === "string" || kind === "array"
        ? (value) => (value as { length: number }).length >= minimum!
        : undefined;
    case "max_length":
      return kind === "string" || kind === "array"
        ? (value) => (value as { length: number }).length <= maximum!
        : undefined;
    case "string_format":
      if (kind !== "string" || !pattern || !PATTERN_FORMATS.has(check.format ?? "")) return undefined;
      return (value) => {
        pattern.lastIndex = 0;
        return pattern.test(value as string);
      };
    case "number_format":
      return kind === "number" && check.format === "safeint" ? (value) => Number.isSafeInteger(value) : undefined;
    case "greater_than":
      if (kind !== "number" || typeof bound !== "number") return undefined;
      return inclusive ? (value) => (value as number) >= bound : (value) => (value as number) > bound;
    case "less_than":
      if (kind !== "number" || typeof bound !== "number") return undefined;
      return inclusive ? (value) => (value as number) <= bound : (value) => (value as number) < bound;
    case "custom":
      // A refinement (`.refine(fn)` on an object): its own function, trusted only when it answers a boolean.
      if (kind !== "object" || check.when !== undefined || !check.fn) return undefined;
      return (value) => check.fn!(value) === true;
    default:
      return undefined;
  }
}

/**
 * A predicate that accepts exactly what `schema` accepts, for objects (plain
 * or strict), strings with lengths and patterns, numbers with bounds, enums,
 * arrays, optional and nullable values and object refinements; anything else
 * is left to zod. The value it accepts is the one zod would answer, except
 * that a plain object keeps keys zod would strip.
 */
export function compileCheck(schema: z.ZodType): Check {
  const def = definitionOf(schema);
  const byZod: Check = (value) => schema.safeParse(value).success;
  const isDatetime = def.type === "string" && def.format === "datetime" && def.pattern instanceof RegExp;
  const known = Object.entries(def).every(
    ([key, value]) => value === undefined || PLAIN_KEYS.has(key) || (isDatetime && DATETIME_KEYS.has(key)),
  );
  if (!known) return byZod;

  const kind = def.type as "string" | "number" | "array" | "object";
  const refinements: Check[] = [];
  if (isDatetime)
    refinements.push(
      compileRefinement({ check: "string_format", format: "datetime", pattern: def.pattern }, "string")!,
    );
  for (const check of def.checks ?? []) {
    const compiled = compileRefinement(check._zod.def, kind);
    if (!compiled) return byZod;
    refinements.push(compiled);
  }
  const refined = (value: unknown) => {
    for (const refinement of refinements) if (!refinement(value)) return false;
    return true;
  };

  switch (def.type) {
    case "string":
      return (value) => typeof value === "string" && refined(value);
    case "number":
      return (value) => typeof value === "number" && Number.isFinite(value) && refined(value);
    case "boolean":
      return refinements.length === 0 ? (value) => typeof value === "boolean" : byZod;
    case "enum": {
      const values = new Set(Object.values(def.entries ?? {}));
      return refinements.length === 0 ? (value) => values.has(value as string) : byZod;
    }
    case "nullable": {
      const inner = compileCheck(def.innerType!);
      return (value) => value === null || inner(value);
    }
    case "optional": {
      const inner = compileCheck(def.innerType!);
      return (value) => value === undefined || inner(value);
    }
    case "array": {
      const element = compileCheck(def.element!);
      return (value) => {
        if (!Array.isArray(value)) return false;
        for (const item of value) if (!element(item)) return false;
        return refined(value);
      };
    }
    case "object": {
      const catchall = def.catchall && definitionOf(def.catchall).type;
      if (catchall !== undefined && catchall !== "never") return byZod;
      const strict = catchall === "never";
      const fields = Object.entries(def.shape!).map(([key, field]) => [key, compileCheck(field)] as const);
      const allowed = new Set(Object.keys(def.shape!));
      return (value) => {
        if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
        const record = value as Record<string, unknown>;
        for (const [key, check] of fields) if (!check(record[key])) return false;
        if (strict) for (const key in record) if (!allowed.has(key)) return false;
        return refined(value);
      };
    }
    default:
      return byZod;
  }
}

/** A schema checked by its compiled predicate on the way in, with zod's own words when it refuses. */
export class FastSchema<T extends z.ZodType> {
  private readonly check: Check;
  constructor(readonly schema: T) {
    this.check = compileCheck(schema);
  }

  /** The value, typed, when valid; otherwise the first reason, as `path: message` (`root` for the value itself). */
  parse(value: unknown, root: string): { ok: true; value: z.infer<T> } | { ok: false; reason: string } {
    if (this.check(value)) return { ok: true, value: value as z.infer<T> };
    const result = this.schema.safeParse(value);
    if (result.success) return { ok: true, value: result.data };
    const issue = result.error.issues[0];
    return { ok: false, reason: issue ? `${issue.path.join(".") || root}: ${issue.message}` : "invalid" };
  }
}
