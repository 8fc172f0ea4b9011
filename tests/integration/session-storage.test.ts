import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { Session } from "@shopify/shopify-api";
import { afterAll, describe, expect, it } from "vitest";
import prisma from "../../app/db.server";
import type { KeyRing } from "../../app/services/crypto.server";
import { EncryptedSessionStorage } from "../../app/services/session-storage.server";
import { createScratchDatabase } from "../helpers/scratch-database";

/**
 * The checks of Shopify's session-storage test battery
 * (shopify-app-session-storage-test-utils, which is not published on npm),
 * written again for the encrypted storage on real Postgres, plus encryption
 * at rest and key rotation.
 */

const keys: KeyRing = [{ id: "k1", key: randomBytes(32) }];
const scopes = ["test_scope"];
const run = randomBytes(4).toString("hex");
const id = (name: string) => `${run}_${name}`;
const shop = (name: string) => `${run}-${name}.myshopify.io`;

const storage = () => new EncryptedSessionStorage(prisma, keys);

afterAll(async () => {
  await prisma.session.deleteMany({ where: { id: { startsWith: run } } });
});

function expiresInAnHour() {
  const date = new Date();
  date.setMilliseconds(0);
  date.setMinutes(date.getMinutes() + 60);
  return date;
}

describe("Shopify session-storage battery on EncryptedSessionStorage", () => {
  it("can store and delete all kinds of sessions", async () => {
    const sessionId = id("kinds");
    const variants = [
      {},
      { expires: expiresInAnHour() },
      { expires: null as unknown as undefined },
      { expires: undefined },
    ];
    const store = storage();
    for (const variant of variants) {
      const session = new Session({
        id: sessionId,
        shop: "shop",
        state: "state",
        isOnline: false,
        scope: scopes.toString(),
        accessToken: "123",
        ...variant,
      });
      await expect(store.storeSession(session)).resolves.toBe(true);
      const loaded = await store.loadSession(sessionId);
      expect(session.equals(loaded)).toBe(true);
      expect(loaded?.isActive(scopes)).toBe(true);
      await expect(store.deleteSession(sessionId)).resolves.toBe(true);
      await expect(store.loadSession(sessionId)).resolves.toBeUndefined();
      await expect(store.deleteSession(sessionId)).resolves.toBe(true);
    }
  });

  it("can store sessions with unexpected fields", async () => {
    const session = new Session({ id: id("extra"), shop: "shop", state: "state", isOnline: false });
    (session as unknown as Record<string, unknown>).someField = "lol";
    await expect(storage().storeSession(session)).resolves.toBe(true);
    expect(session.equals(await storage().loadSession(session.id))).toBe(true);
  });

  it("can store and delete online sessions with user info", async () => {
    const session = new Session({
      id: id("online"),
      shop: "shop",
      state: "state",
      isOnline: true,
      scope: scopes.toString(),
      accessToken: "123",
      expires: expiresInAnHour(),
      onlineAccessInfo: {
        expires_in: 3600,
        associated_user_scope: scopes.toString(),
        associated_user: {
          id: 123,
          first_name: "first",
          last_name: "last",
          email: "email@email.com",
          account_owner: true,
          locale: "en",
          collaborator: false,
          email_verified: true,
        },
      },
    });
    const store = storage();
    await expect(store.storeSession(session)).resolves.toBe(true);
    const loaded = await store.loadSession(session.id);
    expect(session.equals(loaded)).toBe(true);
    expect(loaded?.onlineAccessInfo?.associated_user.email).toBe("email@email.com");
    expect(loaded?.isActive(scopes)).toBe(true);
    await expect(store.deleteSession(session.id)).resolves.toBe(true);
    await expect(store.loadSession(session.id)).resolves.toBeUndefined();
  });

  it("returns undefined for an unknown id", async () => {
    await expect(storage().loadSession(id("not_a_session_id"))).resolves.toBeUndefined();
  });

  it("finds all the sessions of a shop", async () => {
    const sessions = [shop("find1"), shop("other2"), shop("find1"), shop("other3")].map(
      (domain, index) => new Session({ id: id(`find_${index}`), shop: domain, state: "state", isOnline: false }),
    );
    const store = storage();
    for (const session of sessions) await expect(store.storeSession(session)).resolves.toBe(true);
    const found = await store.findSessionsByShop(shop("find1"));
    expect(found.map((s) => s.id).sort()).toEqual([sessions[0]!.id, sessions[2]!.id].sort());
    for (const session of found) {
      expect(session.equals(sessions.find((s) => s.id === session.id))).toBe(true);
    }
  });

  it("deletes the sessions of a list of ids", async () => {
    const sessions = [shop("del1"), shop("keep2"), shop("del1"), shop("keep3")].map(
      (domain, index) => new Session({ id: id(`delete_${index}`), shop: domain, state: "state", isOnline: false }),
    );
    const store = storage();
    for (const session of sessions) await store.storeSession(session);
    const doomed = await store.findSessionsByShop(shop("del1"));
    expect(doomed).toHaveLength(2);
    await expect(store.deleteSessions(doomed.map((s) => s.id))).resolves.toBe(true);
    expect(await store.findSessionsByShop(shop("del1"))).toEqual([]);
    expect(await store.findSessionsByShop(shop("keep2"))).toHaveLength(1);
  });

  it("stores a scope longer than 255 characters", async () => {
    const longScope = Array.from({ length: 30 }, (_, i) => `unauthenticated_read_scope_number_${i}`).join(",");
    const session = new Session({ id: id("long"), shop: "shop", state: "state", isOnline: false, scope: longScope });
    await storage().storeSession(session);
    expect(session.equals(await storage().loadSession(session.id))).toBe(true);
  });

  it("round-trips refresh tokens and their expiry", async () => {
    const refreshTokenExpires = new Date(Date.now() + 90 * 24 * 3600 * 1000);
    refreshTokenExpires.setMilliseconds(0);
    const session = new Session({
      id: id("refresh"),
      shop: "shop",
      state: "state",
      isOnline: false,
      scope: scopes.toString(),
      accessToken: "shpat_access",
      expires: expiresInAnHour(),
      refreshToken: "shprt_refresh",
      refreshTokenExpires,
    });
    await storage().storeSession(session);
    const loaded = await storage().loadSession(session.id);
    expect(session.equals(loaded)).toBe(true);
    expect(loaded?.refreshToken).toBe("shprt_refresh");
    expect(loaded?.refreshTokenExpires?.getTime()).toBe(refreshTokenExpires.getTime());
  });
});

describe("encryption at rest", () => {
  it("leaves no plain token in the raw rows", async () => {
    const accessToken = `shpat_${randomBytes(16).toString("hex")}`;
    const refreshToken = `shprt_${randomBytes(16).toString("hex")}`;
    const session = new Session({
      id: id("raw"),
      shop: shop("raw"),
      state: "state",
      isOnline: false,
      accessToken,
      refreshToken,
      refreshTokenExpires: new Date(Date.now() + 3600_000),
    });
    await storage().storeSession(session);
    const raw = await prisma.$queryRaw<Record<string, unknown>[]>`SELECT * FROM "Session" WHERE id = ${session.id}`;
    const rowText = JSON.stringify(raw, (_key, value) => (typeof value === "bigint" ? String(value) : value));
    expect(raw).toHaveLength(1);
    expect(rowText).not.toContain(accessToken);
    expect(rowText).not.toContain(refreshToken);
    expect(raw[0]!.accessToken).toMatch(/^enc:v1:k1:/);
    expect(raw[0]!.refreshToken).toMatch(/^enc:v1:k1:/);
  });

  it("refuses a token copied into another shop's row", async () => {
    const victim = new Session({
      id: id("victim"),
      shop: shop("victim"),
      state: "s",
      isOnline: false,
      accessToken: "shpat_victim",
    });
    const thief = new Session({
      id: id("thief"),
      shop: shop("thief"),
      state: "s",
      isOnline: false,
      accessToken: "shpat_thief",
    });
    await storage().storeSession(victim);
    await storage().storeSession(thief);
    const stolen = await prisma.session.findUniqueOrThrow({ where: { id: victim.id } });
    await prisma.session.update({ where: { id: thief.id }, data: { accessToken: stolen.accessToken } });
    await expect(storage().loadSession(thief.id)).rejects.toThrow(/failed authentication/);
  });
});

describe("key rotation", () => {
  it("loads rows under an old key, and rotate-keys re-encrypts them under the newest", async () => {
    // Rotation rewrites every row, so it gets a database of its own.
    const scratch = await createScratchDatabase();
    const prisma = scratch.prisma;
    try {
      const oldKey = "old1:" + randomBytes(32).toString("base64");
      const newKey = "new2:" + randomBytes(32).toString("base64");
      const ringOld: KeyRing = [{ id: "old1", key: Buffer.from(oldKey.slice(5), "base64") }];
      const ringNew: KeyRing = [
        { id: "new2", key: Buffer.from(newKey.slice(5), "base64") },
        { id: "old1", key: Buffer.from(oldKey.slice(5), "base64") },
      ];
      const session = new Session({
        id: id("rotate"),
        shop: shop("rotate"),
        state: "s",
        isOnline: false,
        accessToken: "shpat_rotating",
        refreshToken: "shprt_rotating",
        refreshTokenExpires: new Date(Date.now() + 3600_000),
      });
      await new EncryptedSessionStorage(prisma, ringOld).storeSession(session);

      const underNewRing = await new EncryptedSessionStorage(prisma, ringNew).loadSession(session.id);
      expect(underNewRing?.accessToken).toBe("shpat_rotating");

      const result = spawnSync(
        process.execPath,
        [path.resolve("node_modules/tsx/dist/cli.mjs"), "scripts/rotate-keys.ts"],
        {
          env: { ...process.env, DATABASE_URL: scratch.url, TOKEN_ENCRYPTION_KEYS: `${newKey},${oldKey}` },
          encoding: "utf8",
          timeout: 60_000,
        },
      );
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      const summary = JSON.parse(result.stdout.trim().split("\n").pop()!);
      expect(summary.keyId).toBe("new2");
      expect(summary.rotated).toBe(1);

      const raw = await prisma.session.findUniqueOrThrow({ where: { id: session.id } });
      expect(raw.accessToken).toMatch(/^enc:v1:new2:/);
      expect(raw.refreshToken).toMatch(/^enc:v1:new2:/);
      const onlyNewKey = await new EncryptedSessionStorage(prisma, [ringNew[0]!]).loadSession(session.id);
      expect(onlyNewKey?.accessToken).toBe("shpat_rotating");
      expect(onlyNewKey?.refreshToken).toBe("shprt_rotating");

      const rerun = spawnSync(
        process.execPath,
        [path.resolve("node_modules/tsx/dist/cli.mjs"), "scripts/rotate-keys.ts"],
        {
          env: { ...process.env, DATABASE_URL: scratch.url, TOKEN_ENCRYPTION_KEYS: `${newKey},${oldKey}` },
          encoding: "utf8",
        },
      );
      expect(JSON.parse(rerun.stdout.trim()).rotated).toBe(0);
    } finally {
      await scratch.drop();
    }
  });
});
