import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signSessionToken } from "./session-token";
import { shopifyLibrary, startTestSimulator } from "./test-client";

let sim: Awaited<ReturnType<typeof startTestSimulator>>;
beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(() => sim.simulator.close());

async function tokenRequest(body: Record<string, string>) {
  const response = await fetch(`${sim.url}/admin/oauth/access_token`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-simulated-shop": sim.shop },
    body: JSON.stringify({ client_id: "sim-key", client_secret: "sim-secret", ...body }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

const exchange = (
  requested: "offline" | "online",
  subjectToken = signSessionToken({ shop: sim.shop, apiKey: "sim-key", apiSecret: "sim-secret" }),
) =>
  tokenRequest({
    grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
    subject_token: subjectToken,
    subject_token_type: "urn:ietf:params:oauth:token-type:id_token",
    requested_token_type: `urn:shopify:params:oauth:token-type:${requested}-access-token`,
    expiring: "1",
  });

describe("simulated OAuth", () => {
  it("exchanges a session token for an expiring offline token with a refresh token", async () => {
    const { status, body } = await exchange("offline");
    expect(status).toBe(200);
    expect(body.access_token).toMatch(/^shpat_[0-9a-f]{32}$/);
    expect(body.refresh_token).toMatch(/^shprt_/);
    expect(body.expires_in).toBe(3600);
    expect((await sim.graphql("{ shop { name } }", {}, body.access_token)).status).toBe(200);
  });

  it("issues online tokens with the associated user", async () => {
    const { body } = await exchange("online");
    expect(body.access_token).toMatch(/^shpua_/);
    expect(body.associated_user.id).toBe(1);
  });

  it("refuses a forged or foreign session token and a wrong client secret", async () => {
    expect(
      (await exchange("offline", signSessionToken({ shop: sim.shop, apiKey: "sim-key", apiSecret: "not-the-secret" })))
        .status,
    ).toBe(400);
    expect(
      (
        await exchange(
          "offline",
          signSessionToken({ shop: "other.myshopify.com", apiKey: "sim-key", apiSecret: "sim-secret" }),
        )
      ).status,
    ).toBe(400);
    expect(
      (await tokenRequest({ grant_type: "refresh_token", refresh_token: "x", client_secret: "wrong" })).status,
    ).toBe(401);
  });

  it("refreshes once per refresh token, and revocation makes the API answer 401", async () => {
    const first = await exchange("offline");
    const refreshed = await tokenRequest({ grant_type: "refresh_token", refresh_token: first.body.refresh_token });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.access_token).not.toBe(first.body.access_token);
    expect((await tokenRequest({ grant_type: "refresh_token", refresh_token: first.body.refresh_token })).status).toBe(
      400,
    );
    sim.simulator.store.revokeShopTokens(sim.shop);
    expect((await sim.graphql("{ shop { name } }", {}, refreshed.body.access_token)).status).toBe(401);
  });

  it("runs the authorization-code grant with a callback @shopify/shopify-api accepts", async () => {
    const api = shopifyLibrary();
    const authorize = await fetch(
      `${sim.url}/admin/oauth/authorize?client_id=sim-key&scope=read_customers&redirect_uri=${encodeURIComponent("https://app.example.test/auth/callback")}&state=nonce123&shop=${sim.shop}`,
      { redirect: "manual" },
    );
    expect(authorize.status).toBe(302);
    const callback = new URL(authorize.headers.get("location")!);
    const query = Object.fromEntries(callback.searchParams) as Record<string, string>;
    expect(await api.utils.validateHmac(query)).toBe(true);
    expect(query.state).toBe("nonce123");
    const token = await tokenRequest({ code: query.code! });
    expect(token.body.access_token).toMatch(/^shpat_/);
    expect((await tokenRequest({ code: query.code! })).status).toBe(400);
  });
});
