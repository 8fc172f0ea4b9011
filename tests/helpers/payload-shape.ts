/**
 * How two JSON payloads differ in shape (keys and value types, not values):
 * what a fixture of Shopify's documented payload has that another payload
 * lacks, has extra, or types otherwise. A null on either side matches any
 * type (Shopify leaves many fields null); arrays compare their first items.
 */
export function shapeDifferences(expected: unknown, actual: unknown, path = "$"): string[] {
  if (expected === null || actual === null) return [];
  const kind = (value: unknown) => (Array.isArray(value) ? "array" : typeof value);
  if (kind(expected) !== kind(actual)) return [`${path}: ${kind(actual)} where Shopify sends ${kind(expected)}`];
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length === 0 || actual.length === 0) return [];
    return shapeDifferences(expected[0], actual[0], `${path}[0]`);
  }
  if (kind(expected) !== "object") return [];
  const want = expected as Record<string, unknown>;
  const have = actual as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(want)) {
    if (!(key in have)) problems.push(`${path}.${key} is missing`);
    else problems.push(...shapeDifferences(want[key], have[key], `${path}.${key}`));
  }
  for (const key of Object.keys(have)) if (!(key in want)) problems.push(`${path}.${key} is not in Shopify's payload`);
  return problems;
}

/** A fixture of tests/fixtures/webhooks, by topic (customers/redact -> customers-redact.json). */
export async function webhookFixture(topic: string): Promise<Record<string, unknown>> {
  const { readFile } = await import("node:fs/promises");
  const path = new URL(`../fixtures/webhooks/${topic.replace("/", "-")}.json`, import.meta.url);
  return JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;
}
