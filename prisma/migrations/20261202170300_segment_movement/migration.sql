-- Each run remembers every customer's RFM segment of the run before, taken from the score row it replaces,
-- so the Segments page can show who moved from which segment to which. Null for a customer scored for
-- the first time (and for every customer on a shop's first run).

-- AlterTable
ALTER TABLE "CustomerScore" ADD COLUMN     "previousRfmSegment" TEXT,
ADD COLUMN     "previousRunId" UUID;
