import { describe, expect, it } from "vitest";
import { appPath, localAdminPage } from "./local-admin";
import type { SimulatedShop } from "./store";

const options = { appUrl: "http://127.0.0.1:3999", apiKey: "key", apiSecret: "secret" };
const shop = { domain: "frame-test.myshopify.com", name: "Frame <Test>" } as SimulatedShop;
const frameSrc = (html: string) => new URL(/<iframe[^>]+src="([^"]+)"/.exec(html)![1]!.replaceAll("&amp;", "&"));

describe("local Admin", () => {
  it("frames the page that ?path= names, on the app only", () => {
    expect(appPath("/app/pixel")).toBe("/app/pixel");
    expect(appPath("/app/segments/12?tab=members")).toBe("/app/segments/12?tab=members");
    for (const outside of [
      "//evil.example/app",
      "https://evil.example/",
      "/\\evil.example",
      "app",
      "",
      null,
      undefined,
    ]) {
      expect(appPath(outside)).toBe("/app");
    }
    const src = frameSrc(localAdminPage(options, shop, "//evil.example/x"));
    expect(src.origin).toBe("http://127.0.0.1:3999");
    expect(src.pathname).toBe("/app");
  });

  it("frames the app as Admin does and escapes the shop's name", () => {
    const html = localAdminPage(options, shop, "/app/data");
    const src = frameSrc(html);
    expect(src.pathname).toBe("/app/data");
    expect(src.searchParams.get("embedded")).toBe("1");
    expect(src.searchParams.get("shop")).toBe("frame-test.myshopify.com");
    expect(src.searchParams.get("id_token")).toBeTruthy();
    expect(html).toContain("Frame &lt;Test&gt;");
    expect(html).not.toContain("Frame <Test>");
  });
});
