import { replaceSessionTokens, sessionTokensAfter, type TokenReplacement } from "../models/session-keys.server";
import { DecryptionError, keyIdOf, type KeyRing } from "./crypto.server";
import { openToken, sealToken } from "./session-storage.server";

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
    const rows = await sessionTokensAfter(cursor, batchSize);
    if (rows.length === 0) break;
    cursor = rows[rows.length - 1]!.id;
    scanned += rows.length;
    const stale = rows.filter(
      (row) =>
        (row.accessToken !== "" && keyIdOf(row.accessToken) !== newestId) ||
        (row.refreshToken !== null && keyIdOf(row.refreshToken) !== newestId),
    );
    const replacements: TokenReplacement[] = [];
    for (const row of stale) {
      try {
        const accessToken =
          row.accessToken && sealToken(openToken(row.accessToken, keys, row.id, "access"), keys, row.id, "access");
        const refreshToken =
          row.refreshToken && sealToken(openToken(row.refreshToken, keys, row.id, "refresh"), keys, row.id, "refresh");
        replacements.push({
          id: row.id,
          old: { accessToken: row.accessToken, refreshToken: row.refreshToken },
          new: { accessToken, refreshToken },
        });
      } catch (error) {
        if (!(error instanceof DecryptionError)) throw error;
        undecryptable.push(row.id);
      }
    }
    rotated += await replaceSessionTokens(replacements);
  }
  return { scanned, rotated, undecryptable, keyId: newestId };
}
