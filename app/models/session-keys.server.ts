import prisma from "../db.server";
import { DecryptionError, keyIdOf, type KeyRing } from "../services/crypto.server";
import { openToken, sealToken } from "../services/session-storage.server";

/**
 * Re-encrypts every stored token under the newest key (and seals any plain
 * token left from before encryption). Rows already under the newest key are
 * skipped, so the command can be re-run safely after an interruption. A row
 * whose key is no longer in the ring is left as it is and reported.
 */
export async function rotateSessionKeys(keys: KeyRing, batchSize = 500) {
  const newestId = keys[0]!.id;
  let rotated = 0;
  const undecryptable: string[] = [];
  let scanned = 0;
  let cursor: string | undefined;
  for (;;) {
    const rows = await prisma.session.findMany({
      select: { id: true, accessToken: true, refreshToken: true },
      orderBy: { id: "asc" },
      take: batchSize,
      ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
    });
    if (rows.length === 0) break;
    cursor = rows[rows.length - 1]!.id;
    scanned += rows.length;
    const stale = rows.filter(
      (row) =>
        (row.accessToken !== "" && keyIdOf(row.accessToken) !== newestId) ||
        (row.refreshToken !== null && keyIdOf(row.refreshToken) !== newestId),
    );
    const updates = [];
    for (const row of stale) {
      try {
        const accessToken =
          row.accessToken && sealToken(openToken(row.accessToken, keys, row.id, "access"), keys, row.id, "access");
        const refreshToken =
          row.refreshToken && sealToken(openToken(row.refreshToken, keys, row.id, "refresh"), keys, row.id, "refresh");
        // Guarded on the old ciphertext so a token refreshed meanwhile is not overwritten.
        updates.push(
          prisma.session.updateMany({
            where: { id: row.id, accessToken: row.accessToken, refreshToken: row.refreshToken },
            data: { accessToken, refreshToken },
          }),
        );
      } catch (error) {
        if (!(error instanceof DecryptionError)) throw error;
        undecryptable.push(row.id);
      }
    }
    const results = await prisma.$transaction(updates);
    rotated += results.reduce((sum, result) => sum + result.count, 0);
  }
  return { scanned, rotated, undecryptable, keyId: newestId };
}
