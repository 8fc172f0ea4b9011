import prisma from "../db.server";

/** The stored tokens of sessions, a page at a time in id order, for key rotation. */
export function sessionTokensAfter(cursor: string | undefined, take: number) {
  return prisma.session.findMany({
    select: { id: true, accessToken: true, refreshToken: true },
    orderBy: { id: "asc" },
    take,
    ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
  });
}

export interface TokenReplacement {
  id: string;
  old: { accessToken: string; refreshToken: string | null };
  new: { accessToken: string; refreshToken: string | null };
}

/**
 * Writes re-encrypted tokens in one transaction, each guarded on its old
 * ciphertext so a token refreshed meanwhile is not overwritten. Answers how
 * many rows changed.
 */
export async function replaceSessionTokens(replacements: TokenReplacement[]) {
  const results = await prisma.$transaction(
    replacements.map((replacement) =>
      prisma.session.updateMany({ where: { id: replacement.id, ...replacement.old }, data: replacement.new }),
    ),
  );
  return results.reduce((sum, result) => sum + result.count, 0);
}
