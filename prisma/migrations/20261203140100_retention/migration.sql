-- Retention (the data-retention job): a processed delivery's payload is pruned after a period while the record
-- stays, found by status and processing time. AI call records are deleted by age.

-- AlterTable
ALTER TABLE "WebhookDelivery" ALTER COLUMN "payload" DROP NOT NULL;

-- DropIndex
DROP INDEX "WebhookDelivery_status_idx";

-- CreateIndex
CREATE INDEX "WebhookDelivery_status_processedAt_idx" ON "WebhookDelivery"("status", "processedAt");

-- CreateIndex
CREATE INDEX "AiCall_createdAt_idx" ON "AiCall"("createdAt");
