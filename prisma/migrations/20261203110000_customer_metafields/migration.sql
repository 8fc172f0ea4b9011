-- Predictions written to Shopify as customer metafields: what this app last wrote per customer and
-- key (so a sync sends only what changed), and each sync's progress.

-- CreateTable
CREATE TABLE "CustomerMetafieldValue" (
    "shop" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "writtenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CustomerMetafieldValue_pkey" PRIMARY KEY ("shop","customerId","key")
);

-- CreateTable
CREATE TABLE "MetafieldSync" (
    "id" UUID NOT NULL,
    "shop" TEXT NOT NULL,
    "runId" UUID,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "stage" TEXT,
    "mode" TEXT,
    "namespace" TEXT,
    "total" INTEGER,
    "written" INTEGER NOT NULL DEFAULT 0,
    "cleared" INTEGER NOT NULL DEFAULT 0,
    "throttled" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "requestedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "cancelRequestedAt" TIMESTAMP(3),

    CONSTRAINT "MetafieldSync_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "MetafieldSync_shop_requestedAt_idx" ON "MetafieldSync"("shop", "requestedAt");

