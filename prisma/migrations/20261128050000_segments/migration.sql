-- CreateTable
CREATE TABLE "SegmentationRun" (
    "id" UUID NOT NULL,
    "shop" TEXT NOT NULL,
    "trigger" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "stage" TEXT,
    "progress" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "predictionGate" TEXT,
    "predictionsShown" BOOLEAN NOT NULL DEFAULT false,
    "model" JSONB,
    "customers" INTEGER,
    "orders" INTEGER,
    "segments" INTEGER,
    "namingFallbacks" INTEGER NOT NULL DEFAULT 0,
    "llmCalls" INTEGER NOT NULL DEFAULT 0,
    "cacheHits" INTEGER NOT NULL DEFAULT 0,
    "asOf" TIMESTAMP(3),
    "requestedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "cancelRequestedAt" TIMESTAMP(3),

    CONSTRAINT "SegmentationRun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CustomerScore" (
    "shop" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "recencyDays" INTEGER NOT NULL,
    "frequency" INTEGER NOT NULL,
    "monetary" DECIMAL(20,4) NOT NULL,
    "averageOrderValue" DECIMAL(20,4) NOT NULL,
    "firstOrderAt" TIMESTAMP(3) NOT NULL,
    "lastOrderAt" TIMESTAMP(3) NOT NULL,
    "rScore" INTEGER NOT NULL,
    "fScore" INTEGER NOT NULL,
    "mScore" INTEGER NOT NULL,
    "rfmSegment" TEXT NOT NULL,
    "probabilityAlive" DOUBLE PRECISION,
    "expectedOrders90" DOUBLE PRECISION,
    "expectedOrders365" DOUBLE PRECISION,
    "expectedSpend90" DECIMAL(20,4),
    "expectedSpend365" DECIMAL(20,4),
    "runId" UUID NOT NULL,
    "computedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CustomerScore_pkey" PRIMARY KEY ("shop","customerId")
);

-- CreateTable
CREATE TABLE "Segment" (
    "id" UUID NOT NULL,
    "shop" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "parentKey" TEXT,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "actions" JSONB NOT NULL,
    "namedBy" TEXT NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "size" INTEGER NOT NULL,
    "previousSize" INTEGER,
    "revenue" DECIMAL(20,4) NOT NULL,
    "revenueShare" DOUBLE PRECISION NOT NULL,
    "averageOrderValue" DECIMAL(20,4) NOT NULL,
    "definition" JSONB NOT NULL,
    "profile" JSONB,
    "sampleCustomerIds" TEXT[],
    "runId" UUID,
    "tag" TEXT,
    "shopifySegmentId" TEXT,
    "syncStatus" TEXT,
    "syncError" TEXT,
    "lastSyncedAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Segment_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SegmentMember" (
    "segmentId" UUID NOT NULL,
    "shop" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,

    CONSTRAINT "SegmentMember_pkey" PRIMARY KEY ("segmentId","customerId")
);

-- CreateTable
CREATE TABLE "SegmentTaggedCustomer" (
    "shop" TEXT NOT NULL,
    "segmentId" UUID NOT NULL,
    "customerId" TEXT NOT NULL,
    "taggedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SegmentTaggedCustomer_pkey" PRIMARY KEY ("segmentId","customerId")
);

-- CreateTable
CREATE TABLE "SegmentSync" (
    "id" UUID NOT NULL,
    "shop" TEXT NOT NULL,
    "segmentId" UUID NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "stage" TEXT,
    "total" INTEGER,
    "tagged" INTEGER NOT NULL DEFAULT 0,
    "untagged" INTEGER NOT NULL DEFAULT 0,
    "throttled" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "requestedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "SegmentSync_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "SegmentationRun_shop_requestedAt_idx" ON "SegmentationRun"("shop", "requestedAt");

-- CreateIndex
CREATE INDEX "CustomerScore_shop_rfmSegment_idx" ON "CustomerScore"("shop", "rfmSegment");

-- CreateIndex
CREATE INDEX "CustomerScore_shop_rScore_fScore_idx" ON "CustomerScore"("shop", "rScore", "fScore");

-- CreateIndex
CREATE INDEX "Segment_shop_kind_idx" ON "Segment"("shop", "kind");

-- CreateIndex
CREATE UNIQUE INDEX "Segment_shop_key_key" ON "Segment"("shop", "key");

-- CreateIndex
CREATE INDEX "SegmentMember_shop_customerId_idx" ON "SegmentMember"("shop", "customerId");

-- CreateIndex
CREATE INDEX "SegmentTaggedCustomer_shop_customerId_idx" ON "SegmentTaggedCustomer"("shop", "customerId");

-- CreateIndex
CREATE INDEX "SegmentSync_shop_segmentId_requestedAt_idx" ON "SegmentSync"("shop", "segmentId", "requestedAt");

-- AddForeignKey
ALTER TABLE "SegmentMember" ADD CONSTRAINT "SegmentMember_segmentId_fkey" FOREIGN KEY ("segmentId") REFERENCES "Segment"("id") ON DELETE CASCADE ON UPDATE CASCADE;
