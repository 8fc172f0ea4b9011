import { Prisma } from "@prisma/client";
import { z } from "zod";

/** JSON for API answers: exact decimals and 64-bit ids as strings, dates as ISO strings. */
export function toJson(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_key, inner) => {
      if (typeof inner === "bigint") return inner.toString();
      if (inner instanceof Prisma.Decimal) return inner.toString();
      return inner;
    }),
  );
}

export function jsonResponse(body: unknown, init: ResponseInit = {}) {
  return Response.json(toJson(body), init);
}

/** A 400 that says exactly which field was wrong. */
export function badRequest(error: z.ZodError | string) {
  const message =
    typeof error === "string"
      ? error
      : error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`).join("; ");
  return Response.json({ error: message }, { status: 400 });
}

export async function readJsonBody(
  request: Request,
): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }> {
  try {
    return { ok: true, value: await request.json() };
  } catch {
    return { ok: false, response: badRequest("body must be valid JSON") };
  }
}
