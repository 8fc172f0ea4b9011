import { describe, expect, it } from "vitest";
import { errorKind, isShopifyResponse } from "../../app/components/error-page";

/** What a route's ErrorBoundary receives for a thrown Response (Remix's ErrorResponse shape). */
const thrown = (status: number, data: unknown = "") => ({ status, statusText: "", internal: false, data });

describe("error pages", () => {
  it("explains thrown 404 and 400 responses, and everything else as unexpected", () => {
    expect(errorKind(thrown(404, "Segment not found"))).toBe("not-found");
    expect(errorKind(thrown(400))).toBe("invalid");
    expect(errorKind(thrown(500))).toBe("unexpected");
    expect(errorKind(new TypeError("Cannot read properties of null (reading 'useContext')"))).toBe("unexpected");
    expect(errorKind(undefined)).toBe("unexpected");
  });

  it("leaves the responses shopify-app-remix throws for the browser to boundary.error", () => {
    // The App Bridge pages (bounce, leaving the iframe) are 200 HTML; 401 asks for a new token; 410 answers bots.
    expect(isShopifyResponse(thrown(200, '<script src="https://cdn.shopify.com/app-bridge.js"></script>'))).toBe(true);
    expect(isShopifyResponse(thrown(401))).toBe(true);
    expect(isShopifyResponse(thrown(410))).toBe(true);
    expect(isShopifyResponse(thrown(404))).toBe(false);
    expect(isShopifyResponse(thrown(500))).toBe(false);
    expect(isShopifyResponse(new Error("boom"))).toBe(false);
  });
});
