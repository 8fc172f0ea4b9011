-- AlterTable
ALTER TABLE "WorkerHeartbeat" ADD COLUMN     "poolId" TEXT;

-- CreateTable
CREATE TABLE "Customer" (
    "shop" TEXT NOT NULL,
    "id" TEXT NOT NULL,
    "legacyId" BIGINT NOT NULL,
    "firstName" TEXT,
    "lastName" TEXT,
    "email" TEXT,
    "phone" TEXT,
    "tags" TEXT[],
    "emailMarketing" TEXT,
    "smsMarketing" TEXT,
    "locale" TEXT,
    "numberOfOrders" INTEGER,
    "amountSpent" DECIMAL(20,4),
    "currencyCode" TEXT,
    "city" TEXT,
    "province" TEXT,
    "countryCode" TEXT,
    "zip" TEXT,
    "address1" TEXT,
    "shopifyCreatedAt" TIMESTAMP(3) NOT NULL,
    "shopifyUpdatedAt" TIMESTAMP(3) NOT NULL,
    "syncedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Customer_pkey" PRIMARY KEY ("shop","id")
);

-- CreateTable
CREATE TABLE "Product" (
    "shop" TEXT NOT NULL,
    "id" TEXT NOT NULL,
    "legacyId" BIGINT NOT NULL,
    "title" TEXT NOT NULL,
    "handle" TEXT,
    "description" TEXT,
    "productType" TEXT,
    "vendor" TEXT,
    "tags" TEXT[],
    "status" TEXT,
    "imageUrl" TEXT,
    "options" JSONB,
    "shopifyCreatedAt" TIMESTAMP(3) NOT NULL,
    "shopifyUpdatedAt" TIMESTAMP(3) NOT NULL,
    "syncedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Product_pkey" PRIMARY KEY ("shop","id")
);

-- CreateTable
CREATE TABLE "ProductVariant" (
    "shop" TEXT NOT NULL,
    "id" TEXT NOT NULL,
    "productId" TEXT NOT NULL,
    "title" TEXT,
    "sku" TEXT,
    "price" DECIMAL(20,4),
    "compareAtPrice" DECIMAL(20,4),
    "selectedOptions" JSONB,
    "syncedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ProductVariant_pkey" PRIMARY KEY ("shop","id")
);

-- CreateTable
CREATE TABLE "Order" (
    "shop" TEXT NOT NULL,
    "id" TEXT NOT NULL,
    "legacyId" BIGINT NOT NULL,
    "name" TEXT NOT NULL,
    "customerId" TEXT,
    "email" TEXT,
    "phone" TEXT,
    "currencyCode" TEXT NOT NULL,
    "financialStatus" TEXT,
    "discountCodes" TEXT[],
    "tags" TEXT[],
    "subtotal" DECIMAL(20,4),
    "totalDiscounts" DECIMAL(20,4),
    "totalShipping" DECIMAL(20,4),
    "totalTax" DECIMAL(20,4),
    "totalPrice" DECIMAL(20,4) NOT NULL,
    "totalRefunded" DECIMAL(20,4) NOT NULL,
    "shippingCity" TEXT,
    "shippingCountry" TEXT,
    "shippingZip" TEXT,
    "shippingAddress1" TEXT,
    "shippingName" TEXT,
    "processedAt" TIMESTAMP(3) NOT NULL,
    "cancelledAt" TIMESTAMP(3),
    "shopifyCreatedAt" TIMESTAMP(3) NOT NULL,
    "shopifyUpdatedAt" TIMESTAMP(3) NOT NULL,
    "syncedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Order_pkey" PRIMARY KEY ("shop","id")
);

-- CreateTable
CREATE TABLE "OrderLineItem" (
    "shop" TEXT NOT NULL,
    "id" TEXT NOT NULL,
    "orderId" TEXT NOT NULL,
    "productId" TEXT,
    "variantId" TEXT,
    "title" TEXT NOT NULL,
    "variantTitle" TEXT,
    "sku" TEXT,
    "quantity" INTEGER NOT NULL,
    "originalUnitPrice" DECIMAL(20,4) NOT NULL,
    "totalDiscount" DECIMAL(20,4) NOT NULL,
    "discountedTotal" DECIMAL(20,4) NOT NULL,
    "syncedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "OrderLineItem_pkey" PRIMARY KEY ("shop","id")
);

-- CreateTable
CREATE TABLE "OrderTransaction" (
    "shop" TEXT NOT NULL,
    "id" TEXT NOT NULL,
    "orderId" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "gateway" TEXT,
    "amount" DECIMAL(20,4) NOT NULL,
    "processedAt" TIMESTAMP(3),
    "syncedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "OrderTransaction_pkey" PRIMARY KEY ("shop","id")
);

-- CreateTable
CREATE TABLE "DataPull" (
    "id" UUID NOT NULL,
    "shop" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "mode" TEXT NOT NULL,
    "trigger" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "error" TEXT,
    "requestedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "cancelRequestedAt" TIMESTAMP(3),

    CONSTRAINT "DataPull_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DataPullStep" (
    "id" UUID NOT NULL,
    "pullId" UUID NOT NULL,
    "shop" TEXT NOT NULL,
    "resource" TEXT NOT NULL,
    "mode" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "updatedSince" TIMESTAMP(3),
    "processed" INTEGER NOT NULL DEFAULT 0,
    "total" INTEGER,
    "cursor" TEXT,
    "bulkOperationId" TEXT,
    "bulkStatus" TEXT,
    "throttled" INTEGER NOT NULL DEFAULT 0,
    "pointsUsed" INTEGER NOT NULL DEFAULT 0,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "DataPullStep_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Customer_shop_shopifyUpdatedAt_idx" ON "Customer"("shop", "shopifyUpdatedAt");

-- CreateIndex
CREATE INDEX "Customer_shop_email_idx" ON "Customer"("shop", "email");

-- CreateIndex
CREATE INDEX "ProductVariant_shop_productId_idx" ON "ProductVariant"("shop", "productId");

-- CreateIndex
CREATE INDEX "Order_shop_customerId_idx" ON "Order"("shop", "customerId");

-- CreateIndex
CREATE INDEX "Order_shop_processedAt_idx" ON "Order"("shop", "processedAt");

-- CreateIndex
CREATE INDEX "OrderLineItem_shop_orderId_idx" ON "OrderLineItem"("shop", "orderId");

-- CreateIndex
CREATE INDEX "OrderLineItem_shop_productId_idx" ON "OrderLineItem"("shop", "productId");

-- CreateIndex
CREATE INDEX "OrderTransaction_shop_orderId_idx" ON "OrderTransaction"("shop", "orderId");

-- CreateIndex
CREATE INDEX "DataPull_shop_requestedAt_idx" ON "DataPull"("shop", "requestedAt");

-- CreateIndex
CREATE INDEX "DataPullStep_shop_resource_status_idx" ON "DataPullStep"("shop", "resource", "status");

-- CreateIndex
CREATE INDEX "DataPullStep_bulkOperationId_idx" ON "DataPullStep"("bulkOperationId");

-- CreateIndex
CREATE UNIQUE INDEX "DataPullStep_pullId_resource_key" ON "DataPullStep"("pullId", "resource");

-- AddForeignKey
ALTER TABLE "DataPullStep" ADD CONSTRAINT "DataPullStep_pullId_fkey" FOREIGN KEY ("pullId") REFERENCES "DataPull"("id") ON DELETE CASCADE ON UPDATE CASCADE;

