import { ApiType, shopifyApiProject } from "@shopify/api-codegen-preset";
import type { IGraphQLConfig } from "graphql-config";
import { API_VERSION } from "./app/api-version";
import { ADMIN_DOCUMENT_GLOBS, GENERATED_TYPES_DIR, unpackSchemaForCodegen } from "./shopify-schema/admin-schema";

/**
 * Typed Admin GraphQL operations, as Shopify's app templates make them:
 * every `#graphql` document in the app and the worker, checked against the
 * pinned version's schema (the local copy in shopify-schema/, never a
 * download), generates app/types/admin.generated.d.ts. `npm run graphql-codegen`
 * rewrites it; tests/unit/admin-documents.test.ts fails while it is stale.
 */
unpackSchemaForCodegen(API_VERSION);

export const adminProject = shopifyApiProject({
  apiType: ApiType.Admin,
  apiVersion: API_VERSION,
  documents: [...ADMIN_DOCUMENT_GLOBS.map((glob) => `./${glob}`), `!./${GENERATED_TYPES_DIR}/**`],
  outputDir: `./${GENERATED_TYPES_DIR}`,
  // Enum types as unions of their values, so a literal such as "COMPLETED" is one.
  enumsAsConst: true,
});

const config: IGraphQLConfig = { projects: { default: adminProject } };

export default config;
