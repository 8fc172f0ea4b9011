import { afterAll, beforeAll, describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import { requestSegmentation } from "../../app/models/segmentation-runs.server";
import { localSegmentNaming, type SegmentProfile } from "../../app/services/segment-namer.server";
import { TEST_APP } from "../helpers/app-env";
import { startFakeOpenAi, type ChatRequestBody, type FakeOpenAi } from "../helpers/fake-openai";
import { startWorker, waitFor, type RunningProcess } from "../helpers/processes";
import { seedSyntheticShop } from "../helpers/segment-data";

/**
 * Naming micro-segments with the LLM, through the real worker against a
 * local OpenAI-compatible server: valid answers are used, malformed answers
 * and an unreachable server fall back to the local namer without losing the
 * segments, and a second run over the same data makes no new LLM calls.
 */

let fake: FakeOpenAi;
let worker: RunningProcess;

/** What a well-behaved model writes: a name from the profile it was sent. */
function responder(body: ChatRequestBody) {
  const profile = JSON.parse(body.messages.at(-1)!.content.split("\n").slice(1).join("\n")) as SegmentProfile;
  const within = profile.withinRfmSegment ? ` in ${profile.withinRfmSegment}` : "";
  return {
    name: `AI ${profile.value}${within}`.slice(0, 40),
    description: `About ${profile.customers} customers grouped by ${profile.dimension}.`,
    actions: ["Send them a tailored email", "Offer a bundle that fits them"],
  };
}

const newShop = (label: string) => `namer-${label}-${Date.now()}.myshopify.com`;

async function runSegmentation(shop: string) {
  const requested = await requestSegmentation({ shop, trigger: "merchant" });
  return waitFor(
    async () => {
      const run = await prisma.segmentationRun.findUniqueOrThrow({ where: { id: requested.id } });
      return ["succeeded", "failed", "cancelled"].includes(run.status) ? run : undefined;
    },
    60_000,
    `the run of ${shop}`,
  );
}

const microSegments = (shop: string) =>
  prisma.segment.findMany({ where: { shop, kind: "micro", active: true }, orderBy: { key: "asc" } });

beforeAll(async () => {
  fake = await startFakeOpenAi({ responder });
  worker = await startWorker({
    ...TEST_APP.env,
    DATABASE_URL: process.env.DATABASE_URL!,
    LLM_API_KEY: "test-llm-key",
    LLM_BASE_URL: fake.url,
    LLM_MAX_RETRIES: "1",
    LLM_TIMEOUT_MS: "2000",
    SEGMENT_MIN_SIZE: "40",
  });
});

afterAll(async () => {
  await worker?.stop();
  await fake?.close();
  await prisma.$disconnect();
});

describe("naming micro-segments with the LLM", () => {
  const shop = newShop("valid");

  it("uses the model's validated names, descriptions and actions", async () => {
    await seedSyntheticShop(prisma, shop, { customers: 600, orders: 2500 });
    fake.reset();
    const run = await runSegmentation(shop);
    expect(run.status, run.error ?? "").toBe("succeeded");
    const segments = await microSegments(shop);
    expect(segments.length).toBeGreaterThanOrEqual(5);
    expect(run).toMatchObject({ llmCalls: segments.length, cacheHits: 0, namingFallbacks: 0 });
    expect(fake.calls).toBe(segments.length);
    for (const segment of segments) {
      expect(segment.namedBy, segment.key).toBe("llm");
      expect(segment.name).toMatch(/^AI /);
      expect(segment.actions).toEqual(["Send them a tailored email", "Offer a bundle that fits them"]);
    }
    // RFM segments keep their standard names.
    const champions = await prisma.segment.findUnique({ where: { shop_key: { shop, key: "rfm:champions" } } });
    expect(champions?.name).toBe("Champions");
  });

  it("sends aggregates only: no customer ids, names or emails reach the model", async () => {
    const customers = await prisma.customer.findMany({
      where: { shop },
      select: { id: true, email: true, firstName: true },
    });
    const sent = fake.requests.map((request) => JSON.stringify(request.body)).join("\n");
    expect(sent).not.toMatch(/gid:\/\/shopify\/Customer|@example\.com/);
    for (const customer of customers.slice(0, 50)) expect(sent).not.toContain(customer.firstName!);
    expect(fake.requests[0]!.body.response_format?.type).toBe("json_schema");
  });

  it("makes no new LLM calls when run again over the same data", async () => {
    const before = await microSegments(shop);
    fake.reset();
    const run = await runSegmentation(shop);
    expect(run.status).toBe("succeeded");
    expect(fake.calls).toBe(0);
    expect(run).toMatchObject({ llmCalls: 0, cacheHits: before.length, namingFallbacks: 0 });
    const after = await microSegments(shop);
    expect(after.map((s) => [s.id, s.name, s.namedBy])).toEqual(before.map((s) => [s.id, s.name, s.namedBy]));
  });
});

describe("falling back to the local namer", () => {
  it("after a malformed answer and its one retry", async () => {
    const shop = newShop("malformed");
    await seedSyntheticShop(prisma, shop, { customers: 600, orders: 2500 });
    fake.reset();
    fake.setMode("malformed");
    try {
      const run = await runSegmentation(shop);
      expect(run.status, run.error ?? "").toBe("succeeded");
      const segments = await microSegments(shop);
      expect(segments.length).toBeGreaterThanOrEqual(5);
      expect(run).toMatchObject({ llmCalls: 0, cacheHits: 0, namingFallbacks: segments.length });
      // One retry per segment, then the local namer.
      expect(fake.calls).toBe(2 * segments.length);
      for (const segment of segments) {
        expect(segment.namedBy).toBe("local");
        expect(segment.name).toBe(localSegmentNaming(segment.profile as unknown as SegmentProfile).name);
      }
    } finally {
      fake.setMode("valid");
    }
  });

  it("when the server is down, keeping the segments; a later run names them", async () => {
    const shop = newShop("down");
    await seedSyntheticShop(prisma, shop, { customers: 600, orders: 2500 });
    fake.reset();
    fake.setMode("500");
    let segments: Awaited<ReturnType<typeof microSegments>>;
    try {
      const run = await runSegmentation(shop);
      expect(run.status, run.error ?? "").toBe("succeeded");
      segments = await microSegments(shop);
      expect(segments.length).toBeGreaterThanOrEqual(5);
      expect(run.namingFallbacks).toBe(segments.length);
      expect(segments.every((segment) => segment.namedBy === "local" && segment.size > 0)).toBe(true);
      expect(await prisma.segmentMember.count({ where: { shop } })).toBeGreaterThan(0);
    } finally {
      fake.setMode("valid");
    }
    const retried = await runSegmentation(shop);
    expect(retried).toMatchObject({ status: "succeeded", llmCalls: segments.length, namingFallbacks: 0 });
    const renamed = await microSegments(shop);
    expect(renamed.map((segment) => segment.id)).toEqual(segments.map((segment) => segment.id));
    expect(renamed.every((segment) => segment.namedBy === "llm" && segment.name.startsWith("AI "))).toBe(true);
  });
});

describe("the local namer", () => {
  it("describes order value bands and the behaviour window from the traits table", () => {
    const descriptionOf = (dimension: string, value: string) =>
      localSegmentNaming({ dimension, value, withinRfmSegment: null } as SegmentProfile).description;
    expect(descriptionOf("aov-band", "high")).toBe("Their orders are among the largest in your shop (top quarter).");
    expect(descriptionOf("aov-band", "low")).toBe("Their orders are among the smallest in your shop (bottom quarter).");
    expect(descriptionOf("behaviour", "browse-without-buy")).toBe(
      "Viewed several products in the last 30 days without adding to cart or ordering since.",
    );
    expect(descriptionOf("behaviour", "cart-abandoner")).toBe(
      "Added to cart or started checkout in the last 30 days and have not ordered since.",
    );
  });
});
