import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { defineConfig } from "prisma/config";

// Workaround for prisma/orm#27403: @prisma/adapter-pg cannot deserialize the
// Postgres `name` type (oid 19), which the WebAssembly schema engine reads
// from the catalog during `migrate deploy` / `migrate status`. Reporting those
// columns as text (oid 25) is safe because `name` is text on the wire. This
// runs only inside the Prisma CLI's config process, never in the app.
const NAME_OID = 19;
const TEXT_OID = 25;
type FieldDescription = { dataTypeID: number };
const resultPrototype = pg.Result.prototype as unknown as { addFields(fields: FieldDescription[]): void };
const addFields = resultPrototype.addFields;
resultPrototype.addFields = function (fieldDescriptions) {
  for (const field of fieldDescriptions) {
    if (field.dataTypeID === NAME_OID) field.dataTypeID = TEXT_OID;
  }
  return addFields.call(this, fieldDescriptions);
};

// `prisma generate` (run by postinstall) never connects, but the schema's
// env("DATABASE_URL") must resolve or the CLI falls back to downloading a
// native engine. Other commands keep failing loudly without a real URL.
if (process.argv.includes("generate")) process.env.DATABASE_URL ??= "postgresql://generate-only@localhost/unused";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  engine: "js",
  experimental: { adapter: true },
  async adapter() {
    const connectionString = process.env.DATABASE_URL;
    if (!connectionString) throw new Error("DATABASE_URL is required for the Prisma CLI");
    return new PrismaPg({ connectionString });
  },
});
