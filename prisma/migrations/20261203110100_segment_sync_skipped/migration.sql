-- A push counts the members it left untagged because they already carry the most tags of this app a
-- customer may get (Shopify allows 250 tags a customer, the app keeps to a few of its own).

-- AlterTable
ALTER TABLE "SegmentSync" ADD COLUMN     "skipped" INTEGER NOT NULL DEFAULT 0;
