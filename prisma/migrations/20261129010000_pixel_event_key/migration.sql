-- A storefront event is keyed by shop, visitor and event id: a visitor's events are found through the key
-- itself, so the separate (shop, clientId) index goes, and every stored event updates one index fewer.
-- Event ids are minted per event by the visitor's pixel, so a repeated delivery keeps its client id and is
-- still stored once.

-- DropIndex
DROP INDEX "PixelEvent_shop_clientId_idx";

-- AlterTable
ALTER TABLE "PixelEvent" DROP CONSTRAINT "PixelEvent_pkey",
ADD CONSTRAINT "PixelEvent_pkey" PRIMARY KEY ("shop", "clientId", "eventId");
