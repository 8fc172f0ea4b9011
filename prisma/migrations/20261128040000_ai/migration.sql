-- CreateTable
CREATE TABLE "AiCacheEntry" (
    "shop" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "inputHash" TEXT NOT NULL,
    "output" JSONB NOT NULL,
    "model" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AiCacheEntry_pkey" PRIMARY KEY ("shop","purpose","inputHash")
);

-- CreateTable
CREATE TABLE "AiCall" (
    "id" UUID NOT NULL,
    "shop" TEXT NOT NULL,
    "purpose" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "promptTokens" INTEGER NOT NULL DEFAULT 0,
    "completionTokens" INTEGER NOT NULL DEFAULT 0,
    "costUsd" DECIMAL(12,6) NOT NULL DEFAULT 0,
    "outcome" TEXT NOT NULL,
    "error" TEXT,
    "durationMs" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AiCall_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ProductEnrichment" (
    "shop" TEXT NOT NULL,
    "productId" TEXT NOT NULL,
    "inputHash" TEXT NOT NULL,
    "attributes" JSONB NOT NULL,
    "audience" TEXT NOT NULL,
    "tags" TEXT[],
    "source" TEXT NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "ProductEnrichment_pkey" PRIMARY KEY ("shop","productId")
);

-- CreateIndex
CREATE INDEX "AiCall_shop_createdAt_idx" ON "AiCall"("shop", "createdAt");

