import { z } from "zod";

/**
 * The one way a route reads its query string: through its own zod schema,
 * with NUL (which PostgreSQL cannot store) refused in any parameter before
 * the schema sees it. Pages throw a plain 400 that their error boundary shows as
 * "This link is not valid"; API routes throw `{"error": …}` naming the field.
 */

export type Reader = "page" | "api";

/** For routes that read no query parameters: any they are sent are ignored, but still checked. */
export const noQuery = z.object({});

/** A whole number within bounds from a query string; "1e20", "1.5", "-1" and "" are refused, not coerced. */
export const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,15}$/, "expected a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

function refuse(message: string, reader: Reader): Response {
  return reader === "api" ? Response.json({ error: message }, { status: 400 }) : new Response(message, { status: 400 });
}

function describe(error: z.ZodError) {
  return error.issues.map((issue) => `${issue.path.join(".") || "query"}: ${issue.message}`).join("; ");
}

/**
 * Why a request target (path and query, as sent) cannot be read, or undefined when it can: malformed
 * percent-encoding anywhere, or NUL in the path. Checked by server.ts before routing, because Remix
 * re-encodes a query it touches ("%ZZ" reaches a loader as the text "%ZZ"); NUL in a query parameter
 * reaches the route's own schema, so that a page can explain it.
 */
export function malformedTarget(target: string): string | undefined {
  const queryAt = target.indexOf("?");
  let path: string;
  try {
    path = decodeURIComponent(queryAt === -1 ? target : target.slice(0, queryAt));
    if (queryAt !== -1) decodeURIComponent(target.slice(queryAt + 1));
  } catch {
    return "malformed percent-encoding in the URL";
  }
  return path.includes("\0") ? "NUL is not allowed in the URL" : undefined;
}

function parseFields<Schema extends z.ZodType>(
  fields: Record<string, unknown>,
  schema: Schema,
  reader: Reader,
): z.output<Schema> {
  for (const [name, value] of Object.entries(fields)) {
    if (typeof value === "string" && value.includes("\0")) throw refuse(`${name}: NUL is not allowed`, reader);
  }
  const parsed = schema.safeParse(fields);
  if (!parsed.success) throw refuse(describe(parsed.error), reader);
  return parsed.data;
}

/** The route's query, parsed by its schema; throws a 400 Response for anything else. */
export function parseQuery<Schema extends z.ZodType>(
  request: Request,
  schema: Schema,
  reader: Reader = "page",
): z.output<Schema> {
  return parseFields(Object.fromEntries(new URL(request.url).searchParams), schema, reader);
}
