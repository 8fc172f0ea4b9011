import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

/**
 * AES-256-GCM envelope for secrets at rest. A ciphertext names the key it was
 * written with, so keys can rotate: the newest key encrypts, any key in the
 * ring decrypts. The associated data binds a ciphertext to its row, so a
 * token copied into another shop's row fails to decrypt.
 *
 * Format: enc:v1:<keyId>:<iv b64url>:<tag b64url>:<ciphertext b64url>
 */

export type KeyRing = readonly { id: string; key: Buffer }[];

const PREFIX = "enc:v1:";

export class DecryptionError extends Error {}

export function isEncrypted(value: string): boolean {
  return value.startsWith(PREFIX);
}

export function keyIdOf(value: string): string | undefined {
  return isEncrypted(value) ? value.slice(PREFIX.length).split(":")[0] : undefined;
}

export function encrypt(plaintext: string, keys: KeyRing, associatedData: string): string {
  const current = keys[0];
  if (!current) throw new Error("encryption key ring is empty");
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", current.key, iv);
  cipher.setAAD(Buffer.from(associatedData, "utf8"));
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  const tag = cipher.getAuthTag();
  return `${PREFIX}${current.id}:${iv.toString("base64url")}:${tag.toString("base64url")}:${ciphertext.toString("base64url")}`;
}

export function decrypt(value: string, keys: KeyRing, associatedData: string): string {
  if (!isEncrypted(value)) throw new DecryptionError("value is not an encrypted envelope");
  const [keyId, iv, tag, ciphertext] = value.slice(PREFIX.length).split(":");
  const entry = keys.find((candidate) => candidate.id === keyId);
  if (!entry) throw new DecryptionError(`no key with id "${keyId}" in the key ring`);
  if (!iv || !tag || ciphertext === undefined) throw new DecryptionError("malformed envelope");
  try {
    const decipher = createDecipheriv("aes-256-gcm", entry.key, Buffer.from(iv, "base64url"));
    decipher.setAAD(Buffer.from(associatedData, "utf8"));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
  } catch {
    throw new DecryptionError(`ciphertext failed authentication under key "${keyId}"`);
  }
}

export function generateKey(): string {
  return randomBytes(32).toString("base64");
}
