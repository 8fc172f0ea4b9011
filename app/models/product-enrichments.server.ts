import type { Prisma } from "@prisma/client";
import prisma from "../db.server";

/** Products as enrichment reads them, and the enrichments it writes. */

export type EnrichmentSource = "llm" | "local";

export interface EnrichmentRecord {
  productId: string;
  inputHash: string;
  attributes: Record<string, string>;
  audience: string;
  tags: string[];
  source: EnrichmentSource;
}

const PRODUCT_FIELDS = {
  id: true,
  title: true,
  description: true,
  productType: true,
  vendor: true,
  options: true,
  tags: true,
} as const;

export type ProductForEnrichment = Prisma.ProductGetPayload<{ select: typeof PRODUCT_FIELDS }>;

/** One page of the shop's products in id order (only `productIds` when given). */
export async function productsAfter(
  shop: string,
  after: string | null,
  limit: number,
  productIds?: string[],
): Promise<ProductForEnrichment[]> {
  return prisma.product.findMany({
    where: { shop, id: { ...(productIds ? { in: productIds } : {}), ...(after ? { gt: after } : {}) } },
    orderBy: { id: "asc" },
    take: limit,
    select: PRODUCT_FIELDS,
  });
}

export async function countProducts(shop: string, productIds?: string[]) {
  return prisma.product.count({ where: { shop, ...(productIds ? { id: { in: productIds } } : {}) } });
}

/** What each product's current enrichment was derived from. */
export async function enrichmentStates(shop: string, productIds: string[]) {
  const rows = await prisma.productEnrichment.findMany({
    where: { shop, productId: { in: productIds } },
    select: { productId: true, inputHash: true, source: true },
  });
  return new Map(rows.map((row) => [row.productId, { inputHash: row.inputHash, source: row.source }]));
}

export async function saveEnrichments(shop: string, records: EnrichmentRecord[]) {
  if (records.length === 0) return;
  await prisma.$transaction(
    records.map(({ productId, ...fields }) =>
      prisma.productEnrichment.upsert({
        where: { shop_productId: { shop, productId } },
        create: { shop, productId, ...fields },
        update: fields,
      }),
    ),
  );
}

/** A page of the shop's products with their enrichment (null when not enriched yet), by title. */
export async function productsWithEnrichment(shop: string, page: number, pageSize: number) {
  const [total, products] = await Promise.all([
    prisma.product.count({ where: { shop } }),
    prisma.product.findMany({
      where: { shop },
      orderBy: [{ title: "asc" }, { id: "asc" }],
      skip: (page - 1) * pageSize,
      take: pageSize,
      select: { id: true, title: true, productType: true, vendor: true, status: true },
    }),
  ]);
  const enrichments = await prisma.productEnrichment.findMany({
    where: { shop, productId: { in: products.map((product) => product.id) } },
  });
  const byProduct = new Map(enrichments.map((enrichment) => [enrichment.productId, enrichment]));
  return {
    total,
    products: products.map((product) => {
      const enrichment = byProduct.get(product.id);
      return {
        ...product,
        enrichment: enrichment
          ? {
              attributes: enrichment.attributes as Record<string, string>,
              audience: enrichment.audience,
              tags: enrichment.tags,
              source: enrichment.source as EnrichmentSource,
              updatedAt: enrichment.updatedAt,
            }
          : null,
      };
    }),
  };
}

export async function enrichmentCounts(shop: string) {
  const [products, bySource] = await Promise.all([
    prisma.product.count({ where: { shop } }),
    prisma.productEnrichment.groupBy({ by: ["source"], where: { shop }, _count: { _all: true } }),
  ]);
  const count = (source: EnrichmentSource) => bySource.find((row) => row.source === source)?._count._all ?? 0;
  return { products, llm: count("llm"), local: count("local") };
}
