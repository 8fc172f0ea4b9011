import { signSessionToken } from "./session-token";
import type { SimulatedShop } from "./store";

/**
 * The local Admin: plays Shopify Admin's part for a person or Playwright. It
 * frames the app the way Admin does (shop, host, embedded, a fresh id_token
 * on every load) and answers the App Bridge stand-in's messages.
 */

export interface LocalAdminOptions {
  appUrl: string;
  apiKey: string;
  apiSecret: string;
}

const escapeHtml = (value: string) =>
  value.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

export function hostParam(shop: string) {
  return Buffer.from(`admin.shopify.com/store/${shop.replace(".myshopify.com", "")}`).toString("base64url");
}

export function embeddedAppUrl(options: LocalAdminOptions, shop: string, path = "/app") {
  const url = new URL(path, options.appUrl);
  url.searchParams.set("embedded", "1");
  url.searchParams.set("shop", shop);
  url.searchParams.set("host", hostParam(shop));
  url.searchParams.set("locale", "en");
  url.searchParams.set("id_token", signSessionToken({ shop, apiKey: options.apiKey, apiSecret: options.apiSecret }));
  return url.toString();
}

export function localAdminPage(options: LocalAdminOptions, shop: SimulatedShop, path = "/app") {
  const frameUrl = embeddedAppUrl(options, shop.domain, path);
  const appOrigin = new URL(options.appUrl).origin;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(shop.name)} · Local Admin</title>
<style>
  body { margin: 0; font-family: -apple-system, system-ui, sans-serif; background: #f1f1f1; display: grid; grid-template-columns: 240px 1fr; grid-template-rows: 56px 1fr; height: 100vh; }
  header { grid-column: 1 / 3; background: #1a1a1a; color: #fff; display: flex; align-items: center; padding: 0 16px; gap: 12px; }
  header .badge { background: #ffd79d; color: #4f2f00; border-radius: 8px; padding: 2px 8px; font-size: 12px; }
  nav { padding: 12px; border-right: 1px solid #ddd; background: #ebebeb; }
  nav a { display: block; padding: 6px 8px; border-radius: 8px; color: #303030; text-decoration: none; font-size: 14px; }
  nav a:hover, nav a[aria-current] { background: #fff; }
  nav .app { font-weight: 600; margin-top: 12px; }
  main { display: flex; flex-direction: column; min-width: 0; }
  #title { padding: 12px 16px; font-weight: 600; font-size: 18px; min-height: 24px; }
  iframe { flex: 1; border: 0; width: 100%; background: #f1f1f1; }
  #toast { position: fixed; bottom: 24px; left: 50%; transform: translateX(-50%); background: #1a1a1a; color: #fff; padding: 10px 16px; border-radius: 8px; display: none; }
</style>
</head>
<body>
<header><strong>${escapeHtml(shop.name)}</strong><span class="badge">Simulated store · ${escapeHtml(shop.domain)}</span></header>
<nav><a href="#">Home</a><a href="#">Orders</a><a href="#">Customers</a><div class="app">MicroSegment</div><div id="app-nav"></div></nav>
<main><div id="title"></div><iframe id="app-frame" title="MicroSegment" src="${escapeHtml(frameUrl)}"></iframe></main>
<div id="toast" role="status"></div>
<script>
  const shop = ${JSON.stringify(shop.domain)};
  const appOrigin = ${JSON.stringify(appOrigin)};
  const frame = document.getElementById("app-frame");
  function reply(event, id, result, error) {
    event.source.postMessage({ source: "simulated-admin", id, result, error }, event.origin);
  }
  window.addEventListener("message", async (event) => {
    const message = event.data;
    if (event.origin !== appOrigin || !message || message.source !== "simulated-app-bridge") return;
    if (message.type === "idToken") {
      const response = await fetch("/admin/local/session-token?shop=" + encodeURIComponent(shop));
      const body = await response.json();
      return reply(event, message.id, body.token, response.ok ? undefined : body.error);
    }
    if (message.type === "navMenu") {
      const nav = document.getElementById("app-nav");
      nav.replaceChildren(...message.payload.links.filter((link) => !link.home).map((link) => {
        const a = document.createElement("a");
        a.textContent = link.label;
        a.href = "#";
        a.addEventListener("click", (click) => {
          click.preventDefault();
          frame.contentWindow.postMessage({ source: "simulated-admin", type: "navigate", href: link.href }, appOrigin);
        });
        return a;
      }));
      return reply(event, message.id, true);
    }
    if (message.type === "titleBar") {
      document.getElementById("title").textContent = message.payload.title || "";
      return reply(event, message.id, true);
    }
    if (message.type === "toast") {
      const toast = document.getElementById("toast");
      toast.textContent = message.payload.message;
      toast.style.display = "block";
      setTimeout(() => (toast.style.display = "none"), 3000);
      return reply(event, message.id, true);
    }
    reply(event, message.id, undefined, "unsupported: " + message.type);
  });
</script>
</body>
</html>`;
}
