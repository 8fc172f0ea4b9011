import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { API_VERSION } from "../app/api-version";
import {
  readSchemaSource,
  SCHEMA_DIR,
  schemaFileName,
  sha256,
  SOURCE_FILE,
  type SchemaSource,
} from "../shopify-schema/admin-schema";

/**
 * Fetches Shopify's Admin GraphQL introspection of API_VERSION from its npm
 * package @shopify/dev-mcp (through npm itself) into shopify-schema/, with
 * its checksum, replacing the copy of any other version.
 *
 *   npm run schema:refresh                         # the package version in source.json
 *   npm run schema:refresh -- --package 1.17.0     # a newer package (for a newer API version)
 */

const previous = readSchemaSource();
const flag = process.argv.indexOf("--package");
const packageVersion = flag >= 0 ? process.argv[flag + 1] : previous.version;
if (!packageVersion) throw new Error("--package needs a version, e.g. --package 1.17.0");

const name = schemaFileName(API_VERSION);
const work = mkdtempSync(join(tmpdir(), "admin-schema-"));
try {
  const tarball = execFileSync(
    "npm",
    ["pack", `${previous.package}@${packageVersion}`, "--pack-destination", work, "--silent"],
    { encoding: "utf8" },
  ).trim();
  try {
    execFileSync("tar", ["-xzf", join(work, tarball), "-C", work, `package/dist/data/${name}`]);
  } catch {
    throw new Error(`${previous.package}@${packageVersion} has no dist/data/${name}: try a newer --package`);
  }
  const bytes = readFileSync(join(work, "package", "dist", "data", name));
  copyFileSync(join(work, "package", "dist", "data", name), join(SCHEMA_DIR, name));
  for (const file of readdirSync(SCHEMA_DIR))
    if (/^admin_.+\.json\.gz$/.test(file) && file !== name) unlinkSync(join(SCHEMA_DIR, file));
  const source: SchemaSource = { package: previous.package, version: packageVersion, files: { [name]: sha256(bytes) } };
  writeFileSync(SOURCE_FILE, `${JSON.stringify(source, null, 2)}\n`);
  console.log(`shopify-schema/${name} from ${previous.package}@${packageVersion}, sha256 ${source.files[name]}`);
  console.log("next: npm run graphql-codegen, then npm test (the schema checks list what the new version breaks)");
} finally {
  rmSync(work, { recursive: true, force: true });
}
