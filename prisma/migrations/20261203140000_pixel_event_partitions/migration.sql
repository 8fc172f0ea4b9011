-- PixelEvent becomes a table partitioned by UTC day of "occurredAt" (native PostgreSQL range partitions), so
-- that expiry drops whole days instead of deleting rows, and an insert only touches the indexes of its own
-- day: ingest cost stays the same however much history is kept. A partitioned table's key must hold the
-- partition key, so "occurredAt" joins it (a repeated delivery of an event carries the same time and is still
-- stored once). Rows of days without a partition land in "PixelEvent_default", and the data-retention job
-- moves them into their day's partition and creates the coming days ahead (app/models/pixel.server.ts).
-- Prisma knows none of this: to it, PixelEvent is one table with the key below. No semicolon may appear
-- inside a statement or comment here, as the driver adapter splits the script at each one.

-- RenameTable
ALTER TABLE "PixelEvent" RENAME TO "PixelEvent_unpartitioned";
ALTER TABLE "PixelEvent_unpartitioned" RENAME CONSTRAINT "PixelEvent_pkey" TO "PixelEvent_unpartitioned_pkey";
ALTER INDEX "PixelEvent_shop_occurredAt_idx" RENAME TO "PixelEvent_unpartitioned_shop_occurredAt_idx";

-- CreateTable
CREATE TABLE "PixelEvent" (
    "shop" TEXT NOT NULL,
    "eventId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "clientId" TEXT NOT NULL,
    "occurredAt" TIMESTAMP(3) NOT NULL,
    "receivedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "url" TEXT,
    "data" JSONB,

    CONSTRAINT "PixelEvent_pkey" PRIMARY KEY ("shop","clientId","eventId","occurredAt")
) PARTITION BY RANGE ("occurredAt");

-- CreateIndex
CREATE INDEX "PixelEvent_shop_occurredAt_idx" ON "PixelEvent"("shop", "occurredAt");

-- CreatePartition: the default, which takes every day without a partition of its own. The data-retention job
-- (run when a worker starts and daily) makes the day partitions, moving these rows into them.
CREATE TABLE "PixelEvent_default" PARTITION OF "PixelEvent" DEFAULT;

-- CopyData
INSERT INTO "PixelEvent" SELECT "shop", "eventId", "name", "clientId", "occurredAt", "receivedAt", "url", "data"
FROM "PixelEvent_unpartitioned";

-- DropTable
DROP TABLE "PixelEvent_unpartitioned";
