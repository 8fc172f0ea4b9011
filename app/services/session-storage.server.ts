import { Session } from "@shopify/shopify-api";
import type { SessionStorage } from "@shopify/shopify-app-session-storage";
import { PrismaSessionStorage } from "@shopify/shopify-app-session-storage-prisma";
import type { PrismaClient } from "@prisma/client";
import { decrypt, encrypt, isEncrypted, type KeyRing } from "./crypto.server";

/**
 * PrismaSessionStorage with access and refresh tokens encrypted at rest.
 * The session id is the associated data of both ciphertexts.
 */
export class EncryptedSessionStorage implements SessionStorage {
  private readonly inner: PrismaSessionStorage<PrismaClient>;

  constructor(
    prisma: PrismaClient,
    private readonly keys: KeyRing,
  ) {
    this.inner = new PrismaSessionStorage(prisma, { connectionRetries: 5, connectionRetryIntervalMs: 1000 });
  }

  isReady() {
    return this.inner.isReady();
  }

  async storeSession(session: Session): Promise<boolean> {
    return this.inner.storeSession(this.seal(session));
  }

  async loadSession(id: string): Promise<Session | undefined> {
    const stored = await this.inner.loadSession(id);
    return stored && this.open(stored);
  }

  deleteSession(id: string): Promise<boolean> {
    return this.inner.deleteSession(id);
  }

  deleteSessions(ids: string[]): Promise<boolean> {
    return this.inner.deleteSessions(ids);
  }

  async findSessionsByShop(shop: string): Promise<Session[]> {
    const sessions = await this.inner.findSessionsByShop(shop);
    return sessions.map((session) => this.open(session));
  }

  private seal(session: Session): Session {
    const sealed = new Session(session.toObject());
    if (session.accessToken) sealed.accessToken = sealToken(session.accessToken, this.keys, session.id, "access");
    if (session.refreshToken) sealed.refreshToken = sealToken(session.refreshToken, this.keys, session.id, "refresh");
    return sealed;
  }

  private open(session: Session): Session {
    if (session.accessToken) session.accessToken = openToken(session.accessToken, this.keys, session.id, "access");
    if (session.refreshToken) session.refreshToken = openToken(session.refreshToken, this.keys, session.id, "refresh");
    return session;
  }
}

type TokenKind = "access" | "refresh";

export function sealToken(token: string, keys: KeyRing, sessionId: string, kind: TokenKind): string {
  return encrypt(token, keys, `${kind}:${sessionId}`);
}

/** Rows written before encryption existed hold plain tokens; they load, and rotate-keys seals them. */
export function openToken(value: string, keys: KeyRing, sessionId: string, kind: TokenKind): string {
  return isEncrypted(value) ? decrypt(value, keys, `${kind}:${sessionId}`) : value;
}
