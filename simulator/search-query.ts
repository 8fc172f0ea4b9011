/**
 * Shopify's search syntax for connection `query` arguments, the subset the
 * app uses: `updated_at:>'2026-01-01T00:00:00Z' AND created_at:<=2026-02-01`,
 * `tag:vip`, `email:x@example.com`, `status:active`. Unknown fields are
 * ignored with a warning, as Shopify does.
 */

export type Comparison = "<" | "<=" | ">" | ">=" | "=";

export interface SearchTerm {
  field: string;
  comparison: Comparison;
  value: string;
}

const TERM = /(-?)([a-z_]+):(<=|>=|<|>|=)?('[^']*'|"[^"]*"|[^\s)]+)/gi;

export function parseSearchQuery(query: string | null | undefined): SearchTerm[] {
  if (!query) return [];
  const terms: SearchTerm[] = [];
  for (const match of query.matchAll(TERM)) {
    const raw = match[4]!;
    const value = /^['"].*['"]$/.test(raw) ? raw.slice(1, -1) : raw;
    terms.push({ field: match[2]!.toLowerCase(), comparison: (match[3] as Comparison) ?? "=", value });
  }
  return terms;
}

export function compareDates(actual: Date, comparison: Comparison, value: string): boolean {
  const target = new Date(value).getTime();
  if (Number.isNaN(target)) return true;
  const time = actual.getTime();
  switch (comparison) {
    case "<":
      return time < target;
    case "<=":
      return time <= target;
    case ">":
      return time > target;
    case ">=":
      return time >= target;
    default:
      return time === target;
  }
}

export interface Searchable {
  createdAt: Date;
  updatedAt: Date;
  tags?: string[];
  email?: string | null;
  status?: string;
}

export interface CompiledSearch {
  matches(record: Searchable): boolean;
  warnings: { field: string; message: string }[];
}

const SUPPORTED = new Set(["updated_at", "created_at", "tag", "email", "status"]);

export function compileSearch(query: string | null | undefined): CompiledSearch {
  const terms = parseSearchQuery(query);
  const warnings = terms
    .filter((term) => !SUPPORTED.has(term.field))
    .map((term) => ({ field: term.field, message: `Invalid search field for this query.` }));
  const active = terms.filter((term) => SUPPORTED.has(term.field));
  return {
    warnings,
    matches(record) {
      return active.every((term) => {
        switch (term.field) {
          case "updated_at":
            return compareDates(record.updatedAt, term.comparison, term.value);
          case "created_at":
            return compareDates(record.createdAt, term.comparison, term.value);
          case "tag":
            return record.tags?.some((tag) => tag.toLowerCase() === term.value.toLowerCase()) ?? false;
          case "email":
            return record.email?.toLowerCase() === term.value.toLowerCase();
          case "status":
            return record.status?.toLowerCase() === term.value.toLowerCase();
          default:
            return true;
        }
      });
    },
  };
}
