-- Customer search (app/models/customers.server.ts): substring matches on name and email. pg_trgm is a trusted
-- extension (PostgreSQL 13+), so the database owner may create it; the GIN index answers ILIKE '%…%' on the
-- same expression the search uses. Prisma cannot describe an expression index, so it lives here only.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX "Customer_search_trgm_idx" ON "Customer" USING gin (
  (coalesce("firstName", '') || ' ' || coalesce("lastName", '') || ' ' || coalesce("email", '')) gin_trgm_ops
);
