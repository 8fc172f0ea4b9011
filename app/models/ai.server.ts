import { Prisma } from "@prisma/client";
import prisma from "../db.server";

/** What the LLM layer stores: validated outputs by input hash, and one record per request with its tokens and cost. */

export interface CacheKey {
  shop: string;
  purpose: string;
  inputHash: string;
}

export async function findCachedOutput(key: CacheKey): Promise<unknown | undefined> {
  const entry = await prisma.aiCacheEntry.findUnique({
    where: { shop_purpose_inputHash: key },
    select: { output: true },
  });
  return entry?.output ?? undefined;
}

export async function storeCachedOutput(key: CacheKey, model: string, output: unknown) {
  const json = output as Prisma.InputJsonValue;
  await prisma.aiCacheEntry.upsert({
    where: { shop_purpose_inputHash: key },
    create: { ...key, model, output: json },
    update: { model, output: json, createdAt: new Date() },
  });
}

export type AiCallOutcome = "ok" | "invalid" | "error";

export interface AiCallRecord {
  shop: string;
  purpose: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  costUsd: Prisma.Decimal;
  outcome: AiCallOutcome;
  error?: string;
  durationMs: number;
}

export async function recordAiCall(record: AiCallRecord) {
  await prisma.aiCall.create({ data: { ...record, error: record.error?.slice(0, 500) } });
}

/** A shop's LLM spending since a moment: requests, tokens and cost in USD (exact, as a string). */
export async function aiUsageSince(shop: string, since: Date) {
  const totals = await prisma.aiCall.aggregate({
    where: { shop, createdAt: { gte: since } },
    _count: { _all: true },
    _sum: { promptTokens: true, completionTokens: true, costUsd: true },
  });
  return {
    calls: totals._count._all,
    promptTokens: totals._sum.promptTokens ?? 0,
    completionTokens: totals._sum.completionTokens ?? 0,
    costUsd: (totals._sum.costUsd ?? new Prisma.Decimal(0)).toFixed(6),
  };
}

/** Retention: AI call records made before `cutoff`, deleted in batches that commit on their own. */
export async function deleteAiCallsBefore(cutoff: Date, batchSize = 5000) {
  let deleted = 0;
  for (;;) {
    const count = await prisma.$executeRaw`
      DELETE FROM "AiCall" WHERE id IN (SELECT id FROM "AiCall" WHERE "createdAt" < ${cutoff} LIMIT ${batchSize})`;
    deleted += count;
    if (count < batchSize) return deleted;
  }
}
