-- Customer search (app/models/customers.server.ts) matches any part of a name or email, case-insensitively.
-- pg_trgm is a trusted extension since PostgreSQL 13, so the database owner may create it. The GIN index
-- serves ILIKE on exactly the expression the search uses. Prisma cannot describe an expression index, so it
-- lives in this migration only.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX "Customer_search_trgm_idx" ON "Customer" USING gin (
  (coalesce("firstName", '') || ' ' || coalesce("lastName", '') || ' ' || coalesce("email", '')) gin_trgm_ops
);
