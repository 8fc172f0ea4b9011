-- A checkout_completed's claim that a visitor is a customer waits here until an order of that customer
-- with that id is known to the app: only then does it become a PixelIdentity.

-- CreateTable
CREATE TABLE "PixelIdentityClaim" (
    "shop" TEXT NOT NULL,
    "clientId" TEXT NOT NULL,
    "orderId" TEXT NOT NULL,
    "customerId" TEXT NOT NULL,
    "claimedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PixelIdentityClaim_pkey" PRIMARY KEY ("shop","clientId","orderId")
);

-- CreateIndex
CREATE INDEX "PixelIdentityClaim_shop_orderId_idx" ON "PixelIdentityClaim"("shop", "orderId");
