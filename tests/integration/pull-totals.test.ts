import { describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import { claimBulkSlot, commitPage, createPull, recordStepTotal } from "../../app/models/pulls.server";
import { StoreWriter } from "../../app/models/store-data.server";

/** A step's total when Shopify only promises a floor, and the shop's bulk slots; against real Postgres. */

describe("pull step totals", () => {
  it("grows a floor (a capped count) with the records fetched, and leaves an exact total alone", async () => {
    const shop = `totals-${Date.now()}.myshopify.com`;
    const pull = await createPull({ shop, kind: "full", mode: "paginated", trigger: "merchant" });
    const steps = await prisma.dataPullStep.findMany({ where: { pullId: pull.id }, orderBy: { resource: "asc" } });
    const [floor, exact] = steps;
    await recordStepTotal(floor!.id, { total: 10_000, atLeast: true });
    await recordStepTotal(exact!.id, { total: 10_000, atLeast: false });
    for (const processed of [9_000, 12_500]) {
      await commitPage(floor!.id, new StoreWriter().take(), { processed, children: 0, cursor: "c" });
      await commitPage(exact!.id, new StoreWriter().take(), { processed, children: 0, cursor: "c" });
    }
    const after = await prisma.dataPullStep.findMany({ where: { id: { in: [floor!.id, exact!.id] } } });
    const byId = new Map(after.map((step) => [step.id, step]));
    expect(byId.get(floor!.id)).toMatchObject({ total: 12_500, totalAtLeast: true, processed: 12_500 });
    expect(byId.get(exact!.id)).toMatchObject({ total: 10_000, totalAtLeast: false, processed: 12_500 });
  });

  it("hands out at most the limit of a shop's bulk slots, even when asked for at once", async () => {
    const shop = `slots-${Date.now()}.myshopify.com`;
    const pull = await createPull({ shop, kind: "full", mode: "bulk", trigger: "merchant" });
    const steps = await prisma.dataPullStep.findMany({ where: { pullId: pull.id } });
    await prisma.dataPullStep.updateMany({ where: { pullId: pull.id }, data: { status: "running" } });
    const claims = await Promise.all(steps.map((step) => claimBulkSlot(step, 2)));
    expect(claims.filter(Boolean)).toHaveLength(2);
    // A step that holds a slot keeps it when it asks again; the one left out gets one once another ends.
    const holder = steps[claims.indexOf(true)]!;
    expect(await claimBulkSlot(holder, 2)).toBe(true);
    const waiting = steps[claims.indexOf(false)]!;
    expect(await claimBulkSlot(waiting, 2)).toBe(false);
    await prisma.dataPullStep.update({ where: { id: holder.id }, data: { status: "succeeded" } });
    expect(await claimBulkSlot(waiting, 2)).toBe(true);
  });
});
