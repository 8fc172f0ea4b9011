-- The Dashboard asks, for every customer who ordered in a period, when they first ordered, to tell new
-- from returning customers. With processedAt in the key that is the first entry of the range of that
-- customer, not a read of all their orders. The index still serves every (shop, customerId) lookup, so
-- it replaces the old one and a pull maintains no extra index.

-- DropIndex
DROP INDEX "Order_shop_customerId_idx";

-- CreateIndex
CREATE INDEX "Order_shop_customerId_processedAt_idx" ON "Order"("shop", "customerId", "processedAt");
