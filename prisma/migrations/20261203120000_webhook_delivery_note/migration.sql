-- Why a delivery was recorded and not acted on (status "ignored"): a shop/redact for a shop still installed,
-- a delivery for a shop that never installed the app.

-- AlterTable
ALTER TABLE "WebhookDelivery" ADD COLUMN     "note" TEXT;
