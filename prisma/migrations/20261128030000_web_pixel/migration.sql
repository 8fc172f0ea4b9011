-- CreateTable
CREATE TABLE "PixelConnection" (
    "shop" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "webPixelId" TEXT,
    "ingestUrl" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "connectedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "disconnectedAt" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "PixelConnection_pkey" PRIMARY KEY ("shop")
);

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

    CONSTRAINT "PixelEvent_pkey" PRIMARY KEY ("shop","eventId")
);

-- CreateTable
CREATE TABLE "PixelIdentity" (
    "shop" TEXT NOT NULL,
    "clientId" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "orderId" TEXT,
    "linkedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PixelIdentity_pkey" PRIMARY KEY ("shop","clientId")
);

-- CreateTable
CREATE TABLE "RateLimitWindow" (
    "key" TEXT NOT NULL,
    "windowStart" TIMESTAMP(3) NOT NULL,
    "count" INTEGER NOT NULL,

    CONSTRAINT "RateLimitWindow_pkey" PRIMARY KEY ("key","windowStart")
);

-- CreateIndex
CREATE UNIQUE INDEX "PixelConnection_accountId_key" ON "PixelConnection"("accountId");

-- CreateIndex
CREATE INDEX "PixelEvent_shop_occurredAt_idx" ON "PixelEvent"("shop", "occurredAt");

-- CreateIndex
CREATE INDEX "PixelEvent_shop_clientId_idx" ON "PixelEvent"("shop", "clientId");

-- CreateIndex
CREATE INDEX "PixelIdentity_shop_customerId_idx" ON "PixelIdentity"("shop", "customerId");

-- CreateIndex
CREATE INDEX "RateLimitWindow_windowStart_idx" ON "RateLimitWindow"("windowStart");


-- Counters live a minute and are rebuilt by the traffic itself: not worth WAL
-- writes on every pixel batch. A crash forgets them, which only resets limits.
ALTER TABLE "RateLimitWindow" SET UNLOGGED;
