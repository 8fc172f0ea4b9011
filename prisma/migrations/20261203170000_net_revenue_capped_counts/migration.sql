-- AlterTable
ALTER TABLE "Order" ADD COLUMN     "netRevenue" DECIMAL(20,4) NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "OrderLineItem" ADD COLUMN     "netRevenue" DECIMAL(20,4) NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "DataPullStep" ADD COLUMN     "totalAtLeast" BOOLEAN NOT NULL DEFAULT false;

-- Rows pulled before this column existed get the closest figure their stored fields allow (the lines
-- after their own discounts, refunds off), until the next pull writes the exact one.
UPDATE "OrderLineItem" SET "netRevenue" = "discountedTotal";
UPDATE "Order" SET "netRevenue" = GREATEST(0, COALESCE("subtotal", "totalPrice" - COALESCE("totalShipping", 0) - COALESCE("totalTax", 0)) - "totalRefunded");
