import { globSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { generate, type CodegenConfig } from "@graphql-codegen/cli";
import { gqlPluckFromCodeStringSync } from "@graphql-tools/graphql-tag-pluck";
import { pluckConfig } from "@shopify/api-codegen-preset";
import { parse as parseToml } from "smol-toml";
import { describe, expect, it } from "vitest";
import { adminProject } from "../../.graphqlrc";
import { API_VERSION } from "../../app/api-version";
import { RESOURCES } from "../../app/models/store-tables.server";
import {
  bulkQuery,
  countQuery,
  MORE_LINE_ITEMS,
  MORE_VARIANTS,
  PAGINATED,
  updatedSinceFilter,
} from "../../app/services/pull-queries.server";
import { bulkMetafieldMutation } from "../../app/services/customer-metafields.server";
import { recordsQuery } from "../../app/services/record-sync.server";
import { bulkTagMutation, changeTagsDocument } from "../../app/services/segment-sync.server";
import { documentProblems } from "../../shopify-schema/checks";
import {
  ADMIN_DOCUMENT_GLOBS,
  GENERATED_TYPES_DIR,
  loadAdminSchema,
  readSchemaSource,
  REFRESH_COMMAND,
  ROOT,
  schemaFileName,
} from "../../shopify-schema/admin-schema";
import { SIMULATED_API_VERSION } from "../../simulator/admin-schema";

/**
 * Every Admin GraphQL document the app sends, checked against Shopify's
 * schema of the pinned version: an unknown field, a wrong argument or enum
 * value, or a deprecated field or value fails here, as does a generated
 * types file that no longer matches the documents.
 */

const shopify = loadAdminSchema(API_VERSION);

const sourceFiles = () =>
  ADMIN_DOCUMENT_GLOBS.flatMap((glob) => globSync(glob, { cwd: ROOT }))
    .filter((file) => !file.startsWith(GENERATED_TYPES_DIR))
    .sort();

/** The `#graphql` documents, found the way codegen finds them (Shopify's pluck config). */
function taggedDocuments(): Record<string, string> {
  const documents: Record<string, string> = {};
  for (const file of sourceFiles()) {
    const code = readFileSync(join(ROOT, file), "utf8");
    if (!code.includes("#graphql") && !/\/\* GraphQL \*\//i.test(code)) continue;
    gqlPluckFromCodeStringSync(file, code, pluckConfig).forEach((source, i) => {
      const name = /#VAR_NAME=(\w+)/.exec(source.body)?.[1] ?? String(i);
      documents[`${file} ${name}`] = source.body;
    });
  }
  return documents;
}

/**
 * Documents assembled at run time (the pull's shared selections, aliased tag
 * batches), produced by their builders. Each file here is counted below, so a
 * new untagged document elsewhere fails until it is tagged or added.
 */
function builtDocuments(): Record<string, string> {
  const since = updatedSinceFilter(new Date("2026-11-01T00:00:00Z"));
  const documents: Record<string, string> = {
    MORE_LINE_ITEMS: MORE_LINE_ITEMS.query,
    MORE_VARIANTS: MORE_VARIANTS.query,
    "changeTagsDocument(tagsAdd)": changeTagsDocument("tagsAdd", 3),
    "changeTagsDocument(tagsRemove)": changeTagsDocument("tagsRemove", 1),
    "bulkTagMutation(tagsAdd)": bulkTagMutation("tagsAdd", "sync-1"),
    "bulkTagMutation(tagsRemove)": bulkTagMutation("tagsRemove", "sync-1"),
    "bulkMetafieldMutation(set)": bulkMetafieldMutation("set", "sync-1"),
    "bulkMetafieldMutation(clear)": bulkMetafieldMutation("clear", "sync-1"),
  };
  for (const resource of RESOURCES) {
    documents[`PAGINATED.${resource}`] = PAGINATED[resource].query;
    documents[`countQuery(${resource})`] = countQuery(resource);
    documents[`recordsQuery(${resource})`] = recordsQuery(resource);
    documents[`bulkQuery(${resource})`] = bulkQuery(resource, null);
    documents[`bulkQuery(${resource}, since)`] = bulkQuery(resource, since);
  }
  return documents;
}

/** Files that assemble documents at run time, and how many operations each writes out untagged. */
const UNTAGGED_OPERATIONS = {
  "app/services/pull-queries.server.ts": 4,
  "app/services/record-sync.server.ts": 1,
  "app/services/segment-sync.server.ts": 2,
};

describe("the app's Admin GraphQL documents", () => {
  it("are each valid in Shopify's schema of the pinned version and use nothing deprecated", () => {
    const documents = { ...taggedDocuments(), ...builtDocuments() };
    expect(Object.keys(documents).length).toBeGreaterThan(30);
    const problems = Object.fromEntries(
      Object.entries(documents)
        .map(([name, source]) => [name, documentProblems(shopify, source)] as const)
        .filter(([, found]) => found.length > 0),
    );
    expect(problems).toEqual({});
  });

  it("are all either #graphql tagged or built by a builder checked above", () => {
    const untagged: Record<string, number> = {};
    for (const file of sourceFiles()) {
      const code = readFileSync(join(ROOT, file), "utf8");
      for (const [literal] of code.matchAll(/`(?:\\.|[^`\\])*`/g)) {
        const text = literal.slice(1);
        if (/^\s*#graphql/.test(text)) continue;
        if (/^\s*(?:#[^\n]*\n\s*)*(?:query|mutation|subscription|fragment)\s+(?:[A-Za-z_$])/.test(text))
          untagged[file] = (untagged[file] ?? 0) + 1;
      }
    }
    expect(untagged).toEqual(UNTAGGED_OPERATIONS);
  });

  it("fail the check when broken: an unknown field, a wrong enum value or argument, a deprecated field", () => {
    const problems = (source: string) => documentProblems(shopify, source).join("\n");
    expect(problems("query { shop { name planName } }")).toMatch(/Cannot query field "planName" on type "Shop"/);
    expect(problems("query { shop { plan { displayName } } }")).toMatch(
      /The field ShopPlan.displayName is deprecated\. Use `publicDisplayName` instead/,
    );
    expect(problems("query { currentBulkOperation { id } }")).toMatch(/QueryRoot.currentBulkOperation is deprecated/);
    expect(problems("query { bulkOperations(first: 1, sortKey: NEWEST) { nodes { id } } }")).toMatch(
      /Value "NEWEST" does not exist in "BulkOperationsSortKeys" enum/,
    );
    expect(problems("query { customers(first: 1, limit: 5) { nodes { id } } }")).toMatch(/Unknown argument "limit"/);
  });

  it("match the generated types: app/types is what `npm run graphql-codegen` writes now", async () => {
    const codegen = adminProject.extensions?.codegen as CodegenConfig;
    const outputs = await generate(
      { ...codegen, schema: adminProject.schema, documents: adminProject.documents, cwd: ROOT, silent: true },
      false,
    );
    expect(outputs.length).toBe(2);
    for (const output of outputs as { filename: string; content: string }[]) {
      const committed = readFileSync(join(ROOT, output.filename), "utf8");
      expect(
        committed === output.content,
        `${relative(ROOT, join(ROOT, output.filename))} is stale: run npm run graphql-codegen`,
      ).toBe(true);
    }
  }, 300_000);
});

describe("the pinned Admin API version", () => {
  it("is one constant, and the schema, shopify.app.toml and the simulator follow it", () => {
    const source = readSchemaSource();
    expect(source.files[schemaFileName(API_VERSION)], `run ${REFRESH_COMMAND}`).toMatch(/^[0-9a-f]{64}$/);
    const toml = parseToml(readFileSync(join(ROOT, "shopify.app.toml"), "utf8")) as {
      webhooks: { api_version: string };
    };
    expect(toml.webhooks.api_version).toBe(API_VERSION);
    expect(SIMULATED_API_VERSION).toBe(API_VERSION);
  });
});
