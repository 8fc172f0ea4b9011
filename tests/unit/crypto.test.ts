import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decrypt, DecryptionError, encrypt, isEncrypted, keyIdOf } from "../../app/services/crypto.server";

const oldKey = { id: "k1", key: randomBytes(32) };
const newKey = { id: "k2", key: randomBytes(32) };

describe("token encryption", () => {
  it("round-trips and records the key id of the newest key", () => {
    const sealed = encrypt("shpat_secret", [newKey, oldKey], "access:offline_a.myshopify.com");
    expect(isEncrypted(sealed)).toBe(true);
    expect(keyIdOf(sealed)).toBe("k2");
    expect(sealed).not.toContain("shpat_secret");
    expect(decrypt(sealed, [newKey, oldKey], "access:offline_a.myshopify.com")).toBe("shpat_secret");
  });

  it("uses a fresh IV each time", () => {
    expect(encrypt("same", [oldKey], "ad")).not.toBe(encrypt("same", [oldKey], "ad"));
  });

  it("decrypts with an older key still in the ring", () => {
    const sealedUnderOld = encrypt("token", [oldKey], "ad");
    expect(decrypt(sealedUnderOld, [newKey, oldKey], "ad")).toBe("token");
  });

  it("refuses a ciphertext moved to another row", () => {
    const sealed = encrypt("token", [oldKey], "access:offline_a.myshopify.com");
    expect(() => decrypt(sealed, [oldKey], "access:offline_b.myshopify.com")).toThrow(DecryptionError);
  });

  it("refuses a tampered ciphertext", () => {
    const sealed = encrypt("token", [oldKey], "ad");
    const parts = sealed.split(":");
    const body = Buffer.from(parts[5]!, "base64url");
    body[0] = body[0]! ^ 1;
    parts[5] = body.toString("base64url");
    expect(() => decrypt(parts.join(":"), [oldKey], "ad")).toThrow(DecryptionError);
  });

  it("names a missing key", () => {
    const sealed = encrypt("token", [oldKey], "ad");
    expect(() => decrypt(sealed, [newKey], "ad")).toThrow(/no key with id "k1"/);
  });
});
