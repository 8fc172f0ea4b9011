import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { buildClientSchema, type GraphQLSchema, type IntrospectionQuery } from "graphql";
import { z } from "zod";
import { API_VERSION } from "../app/api-version";

/**
 * Shopify's own Admin GraphQL schema, as published in its npm package
 * @shopify/dev-mcp (dist/data/admin_<version>.json.gz), committed here with
 * its checksum so CI checks the app and the simulator against it offline.
 * `npm run schema:refresh` fetches it again for the version in app/api-version.ts.
 */

/** Where the app's Admin GraphQL documents live: codegen reads them, the schema test checks them. */
export const ADMIN_DOCUMENT_GLOBS = ["app/**/*.{ts,tsx}", "worker/**/*.ts"];
export const GENERATED_TYPES_DIR = "app/types";

export const SCHEMA_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(SCHEMA_DIR, "..");
export const REFRESH_COMMAND = "npm run schema:refresh";

const sourceManifest = z.object({
  package: z.string(),
  version: z.string(),
  files: z.record(z.string(), z.string().regex(/^[0-9a-f]{64}$/)),
});
export type SchemaSource = z.infer<typeof sourceManifest>;
export const SOURCE_FILE = join(SCHEMA_DIR, "source.json");

export const schemaFileName = (version: string) => `admin_${version}.json.gz`;

export function readSchemaSource(): SchemaSource {
  return sourceManifest.parse(JSON.parse(readFileSync(SOURCE_FILE, "utf8")));
}

export const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** The committed introspection of `version`, after checking it is the file source.json names. */
export function readAdminIntrospection(version: string = API_VERSION): IntrospectionQuery {
  const name = schemaFileName(version);
  const path = join(SCHEMA_DIR, name);
  const expected = readSchemaSource().files[name];
  if (!existsSync(path) || !expected) {
    throw new Error(`no Admin schema for API ${version} in shopify-schema/; run ${REFRESH_COMMAND}`);
  }
  const compressed = readFileSync(path);
  if (sha256(compressed) !== expected) {
    throw new Error(`shopify-schema/${name} does not match its checksum in source.json; run ${REFRESH_COMMAND}`);
  }
  const parsed = JSON.parse(gunzipSync(compressed).toString("utf8")) as {
    data?: IntrospectionQuery;
  } & IntrospectionQuery;
  return parsed.data ?? parsed;
}

const loaded = new Map<string, GraphQLSchema>();

export function loadAdminSchema(version: string = API_VERSION): GraphQLSchema {
  let schema = loaded.get(version);
  if (!schema) {
    schema = buildClientSchema(readAdminIntrospection(version));
    loaded.set(version, schema);
  }
  return schema;
}

/**
 * Where @shopify/api-codegen-preset reads a local schema instead of
 * downloading one (app/types/admin-<version>.schema.json, git-ignored):
 * written from the committed copy whenever it is missing or differs.
 */
export function unpackSchemaForCodegen(version: string = API_VERSION): string {
  const path = join(ROOT, GENERATED_TYPES_DIR, `admin-${version}.schema.json`);
  const text = JSON.stringify({ data: readAdminIntrospection(version) });
  if (!existsSync(path) || readFileSync(path, "utf8") !== text) writeFileSync(path, text);
  return path;
}
