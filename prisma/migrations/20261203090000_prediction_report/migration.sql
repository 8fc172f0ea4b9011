-- Predictions a merchant can check: each customer's churn risk, usual gap between orders and expected
-- next order, their probability of being active in the run before (for "Slipping away"), and per run
-- the backtest that chose the purchase model (app/models/prediction-report.server.ts holds its shape).

-- AlterTable
ALTER TABLE "CustomerScore" ADD COLUMN     "churnRisk" TEXT,
ADD COLUMN     "averageDaysBetweenOrders" DOUBLE PRECISION,
ADD COLUMN     "expectedNextOrderAt" TIMESTAMP(3),
ADD COLUMN     "previousProbabilityAlive" DOUBLE PRECISION;

-- AlterTable
ALTER TABLE "SegmentationRun" ADD COLUMN     "predictionReport" JSONB;
