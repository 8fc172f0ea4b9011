-- Pull progress in the units the merchant counts: `processed` and `total` are top-level records
-- (customers, orders, products), their children (line items, variants) are counted apart, a bulk import
-- reports how much of its result file it has read, and a bulk operation being prepared how far Shopify got.
ALTER TABLE "DataPullStep" ADD COLUMN "children" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "DataPullStep" ADD COLUMN "preparedObjects" INTEGER;
ALTER TABLE "DataPullStep" ADD COLUMN "fileSize" BIGINT;
ALTER TABLE "DataPullStep" ADD COLUMN "bytesRead" BIGINT;
