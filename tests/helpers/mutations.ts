/**
 * Mutations of a sample value, for tests that hold a fast check against zod:
 * every path into the value, and the value with one of them replaced.
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
