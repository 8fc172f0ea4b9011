import type { z } from "zod";

/**
 * For tests that hold a compiled check against zod: mutations of a sample value
 * (every path into it, replaced by each of a list of values), and a count of zod parses.
 */

/** The value with the thing at `path` replaced (or deleted, for undefined). */
export function replaced(value: unknown, path: (string | number)[], next: unknown): unknown {
  if (path.length === 0) return next;
  const [key, ...rest] = path;
  if (Array.isArray(value)) {
    const copy = [...value];
    copy[key as number] = replaced(copy[key as number], rest, next);
    return copy;
  }
  const copy = { ...(value as Record<string, unknown>) };
  const inner = replaced(copy[key as string], rest, next);
  if (inner === undefined) delete copy[key as string];
  else copy[key as string] = inner;
  return copy;
}

export function* paths(value: unknown, prefix: (string | number)[] = []): Generator<(string | number)[]> {
  yield prefix;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) yield* paths(value[i], [...prefix, i]);
    yield [...prefix, value.length];
  } else if (value && typeof value === "object") {
    for (const [key, inner] of Object.entries(value)) yield* paths(inner, [...prefix, key]);
  }
}

/** Values every agreement test puts in every place: wrong types, edge numbers, empty text and containers. */
export const COMMON_REPLACEMENTS: readonly unknown[] = [
  undefined,
  null,
  0,
  1.5,
  2 ** 53,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  true,
  "",
  "x",
  "12.",
  "1e3",
  [],
  {},
];

/** Every mutation of `sample`: each path into it replaced by each of `replacements`, with a label naming it. */
export function* mutations(sample: unknown, replacements: readonly unknown[]) {
  for (const path of paths(sample)) {
    for (const next of replacements) {
      const label = `${path.join(".") || "(value)"} = ${JSON.stringify(next)?.slice(0, 40) ?? String(next)}`;
      yield { value: replaced(sample, path, next), label };
    }
  }
}

/**
 * Counts the calls that reach zod's own safeParse on `schema` and every schema inside it, so a test can
 * show that a compiled check needed none; `restore` puts the schemas back as they were.
 */
export function watchZodParses(schema: z.ZodType) {
  const watched: [z.ZodType, z.ZodType["safeParse"]][] = [];
  const counter = {
    calls: 0,
    restore: () => watched.forEach(([inner, original]) => Object.assign(inner, { safeParse: original })),
  };
  const watch = (inner: z.ZodType) => {
    const def = (inner as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
    const original = inner.safeParse;
    watched.push([inner, original]);
    Object.assign(inner, { safeParse: (value: unknown) => (counter.calls++, original.call(inner, value)) });
    for (const next of [def.innerType, def.element, ...Object.values((def.shape as object) ?? {})])
      if (next) watch(next as z.ZodType);
  };
  watch(schema);
  return counter;
}
