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

/** Only a path on the app itself: `?path=//elsewhere.example` must not frame another site. */
export function appPath(path: string | null | undefined) {
  return path && path.startsWith("/") && !path.startsWith("//") && !path.includes("\\") ? path : "/app";
}

export function localAdminPage(
  options: LocalAdminOptions,
  shop: SimulatedShop,
  path = "/app",
  appName = "MicroSegment",
) {
  const frameUrl = embeddedAppUrl(options, shop.domain, appPath(path));
  const appOrigin = new URL(options.appUrl).origin;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(shop.name)} · Local Admin</title>
<style>
  * { box-sizing: border-box; }
  body { margin: 0; font-family: -apple-system, BlinkMacSystemFont, "San Francisco", "Segoe UI", Roboto, sans-serif; background: #f1f1f1; display: grid; grid-template-columns: 240px minmax(0, 1fr); grid-template-rows: 56px minmax(0, 1fr); height: 100vh; overflow: hidden; }
  header { grid-column: 1 / 3; background: #1a1a1a; color: #fff; display: flex; align-items: center; padding: 0 16px; gap: 12px; min-width: 0; }
  header strong { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  header .badge { background: #ffd79d; color: #4f2f00; border-radius: 8px; padding: 2px 8px; font-size: 12px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  #menu-button { display: none; background: transparent; color: #fff; border: 1px solid #555; border-radius: 8px; font-size: 16px; padding: 4px 10px; cursor: pointer; }
  nav { padding: 12px; border-right: 1px solid #ddd; background: #ebebeb; overflow-y: auto; }
  nav a { display: block; padding: 6px 8px; border-radius: 8px; color: #303030; text-decoration: none; font-size: 14px; }
  nav a:hover, nav a[aria-current="page"] { background: #fff; }
  nav a[aria-current="page"] { font-weight: 600; }
  nav .admin-link { color: #616161; }
  nav #app-home { font-weight: 600; margin-top: 12px; }
  #app-nav a { padding-left: 20px; }
  main { display: flex; flex-direction: column; min-width: 0; min-height: 0; position: relative; }
  #title-bar { display: flex; align-items: center; gap: 8px; padding: 8px 16px; min-height: 48px; }
  #title { flex: 1; min-width: 0; font-weight: 600; font-size: 18px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  #title-actions { display: flex; gap: 8px; flex-wrap: wrap; justify-content: flex-end; }
  #title-bar button { font: inherit; font-size: 13px; font-weight: 550; padding: 6px 12px; border-radius: 8px; border: 1px solid #c9c9c9; background: #fff; color: #303030; cursor: pointer; }
  #title-bar button.primary { background: #303030; border-color: #303030; color: #fff; }
  #title-bar button.critical { color: #8e1f0b; }
  #title-bar button.primary.critical { background: #c70a24; border-color: #c70a24; color: #fff; }
  #title-bar button.breadcrumb { border: 0; background: transparent; padding: 6px 4px; color: #616161; }
  #title-bar button:disabled { opacity: 0.5; cursor: default; }
  #loading { position: absolute; top: 0; left: 0; height: 3px; width: 0; background: #2c6ecb; transition: width 0.4s; }
  #loading.active { width: 70%; }
  iframe { flex: 1; border: 0; width: 100%; background: #f1f1f1; }
  #toasts { position: fixed; bottom: 24px; left: 50%; transform: translateX(-50%); display: flex; flex-direction: column; gap: 8px; align-items: center; z-index: 20; max-width: calc(100vw - 32px); }
  .toast { background: #1a1a1a; color: #fff; padding: 10px 16px; border-radius: 8px; font-size: 14px; display: flex; gap: 12px; align-items: center; box-shadow: 0 4px 12px rgba(0,0,0,.2); }
  .toast.error { background: #c70a24; }
  .toast button { background: transparent; border: 0; color: inherit; font-size: 16px; cursor: pointer; padding: 0 2px; }
  /* While the app shows a modal, Admin dims its own chrome too. */
  .chrome-dim { position: fixed; background: rgba(0,0,0,.5); z-index: 10; display: none; }
  body.modal-open .chrome-dim { display: block; }
  #dim-top { top: 0; left: 0; right: 0; height: 56px; }
  #dim-side { top: 56px; left: 0; bottom: 0; width: 240px; }
  @media (max-width: 768px) {
    body { grid-template-columns: minmax(0, 1fr); }
    header { grid-column: 1; }
    #menu-button { display: block; }
    nav { position: fixed; top: 56px; left: 0; bottom: 0; width: 260px; z-index: 5; transform: translateX(-100%); visibility: hidden; transition: transform 0.2s, visibility 0.2s; }
    body.nav-open nav { transform: none; visibility: visible; box-shadow: 4px 0 12px rgba(0,0,0,.15); }
    #dim-side { display: none !important; }
  }
</style>
</head>
<body>
<header><button id="menu-button" type="button" aria-label="Menu" aria-controls="admin-nav" aria-expanded="false">&#9776;</button><strong>${escapeHtml(shop.name)}</strong><span class="badge">Simulated store · ${escapeHtml(shop.domain)}</span></header>
<nav id="admin-nav" aria-label="Admin"><a class="admin-link" href="#">Home</a><a class="admin-link" href="#">Orders</a><a class="admin-link" href="#">Customers</a><a id="app-home" href="#">${escapeHtml(appName)}</a><div id="app-nav"></div></nav>
<main><div id="loading"></div><div id="title-bar"><span id="title-breadcrumbs"></span><div id="title" role="heading" aria-level="1"><span id="title-text">${escapeHtml(appName)}</span></div><span id="title-actions"></span></div><iframe id="app-frame" title="${escapeHtml(appName)}" src="${escapeHtml(frameUrl)}"></iframe></main>
<div id="toasts" role="status" aria-live="polite"></div>
<div class="chrome-dim" id="dim-top"></div><div class="chrome-dim" id="dim-side"></div>
<script>
  const shop = ${JSON.stringify(shop.domain)};
  const appName = ${JSON.stringify(appName)};
  const appOrigin = ${JSON.stringify(appOrigin)};
  const frame = document.getElementById("app-frame");
  const appHome = document.getElementById("app-home");
  const appNav = document.getElementById("app-nav");
  let homeHref = "/app";
  let currentPath = ${JSON.stringify(appPath(path))};

  function tellApp(message) {
    frame.contentWindow.postMessage({ source: "simulated-admin", ...message }, appOrigin);
  }
  function reply(event, id, result, error) {
    event.source.postMessage({ source: "simulated-admin", id, result, error }, event.origin);
  }
  function setNavOpen(open) {
    document.body.classList.toggle("nav-open", open);
    document.getElementById("menu-button").setAttribute("aria-expanded", String(open));
  }
  document.getElementById("menu-button").addEventListener("click", () => setNavOpen(!document.body.classList.contains("nav-open")));
  function navigateApp(href) {
    setNavOpen(false);
    tellApp({ type: "navigate", href });
  }
  appHome.addEventListener("click", (click) => {
    click.preventDefault();
    navigateApp(homeHref);
  });
  for (const dim of document.querySelectorAll(".chrome-dim")) dim.addEventListener("click", () => tellApp({ type: "hideModals" }));

  // Like Admin: the link of the page the app is on is highlighted, the deepest match winning
  // (a segment's page highlights Segments), and the address bar follows the app.
  function highlight() {
    const links = [...appNav.querySelectorAll("a")];
    const matches = links.filter((a) => currentPath === a.dataset.href || currentPath.startsWith(a.dataset.href + "/"));
    const best = matches.sort((a, b) => b.dataset.href.length - a.dataset.href.length)[0];
    for (const a of links) a.toggleAttribute("aria-current", a === best);
    if (best) best.setAttribute("aria-current", "page");
    appHome.toggleAttribute("aria-current", !best && (currentPath === homeHref || currentPath === homeHref + "/"));
    if (appHome.hasAttribute("aria-current")) appHome.setAttribute("aria-current", "page");
  }

  const toasts = new Map();
  function hideToast(id) {
    const toast = toasts.get(id);
    if (!toast) return;
    clearTimeout(toast.timer);
    toast.element.remove();
    toasts.delete(id);
  }

  window.addEventListener("message", async (event) => {
    const message = event.data;
    if (event.origin !== appOrigin || event.source !== frame.contentWindow || !message || message.source !== "simulated-app-bridge") return;
    const payload = message.payload || {};
    switch (message.type) {
      case "idToken": {
        const response = await fetch("/admin/local/session-token?shop=" + encodeURIComponent(shop));
        const body = await response.json();
        return reply(event, message.id, body.token, response.ok ? undefined : body.error);
      }
      case "navMenu": {
        const home = payload.links.find((link) => link.home);
        if (home) homeHref = home.href;
        appNav.replaceChildren(...payload.links.filter((link) => !link.home).map((link) => {
          const a = document.createElement("a");
          a.textContent = link.label;
          a.href = "?shop=" + encodeURIComponent(shop) + "&path=" + encodeURIComponent(link.href);
          a.dataset.href = link.href;
          a.addEventListener("click", (click) => {
            if (click.metaKey || click.ctrlKey || click.shiftKey) return;
            click.preventDefault();
            navigateApp(link.href);
          });
          return a;
        }));
        highlight();
        return reply(event, message.id, true);
      }
      case "location": {
        currentPath = payload.path;
        highlight();
        const url = new URL(window.location.href);
        if (url.searchParams.get("path") !== currentPath) {
          url.searchParams.set("path", currentPath);
          history.replaceState(null, "", url);
        }
        return reply(event, message.id, true);
      }
      case "titleBar": {
        const actions = payload.actions || [];
        const breadcrumbs = actions.filter((action) => action.variant === "breadcrumb");
        const buttons = actions.filter((action) => action.variant !== "breadcrumb");
        // Admin puts the primary action last, at the right.
        buttons.sort((a, b) => (a.variant === "primary") - (b.variant === "primary"));
        const control = (action, breadcrumb) => {
          const button = document.createElement("button");
          button.type = "button";
          button.className = breadcrumb ? "breadcrumb" : "action" + (action.variant === "primary" ? " primary" : "") + (action.tone === "critical" ? " critical" : "");
          button.textContent = breadcrumb ? "\u2039 " + action.label : action.label;
          button.disabled = action.disabled;
          if (action.loading) button.setAttribute("aria-busy", "true");
          button.addEventListener("click", () => tellApp({ type: "titleBarAction", index: action.index }));
          return button;
        };
        document.getElementById("title-text").textContent = payload.title || appName;
        document.getElementById("title-breadcrumbs").replaceChildren(...breadcrumbs.map((action) => control(action, true)));
        document.getElementById("title-actions").replaceChildren(...buttons.map((action) => control(action, false)));
        return reply(event, message.id, true);
      }
      case "toast": {
        hideToast(payload.id);
        const element = document.createElement("div");
        element.className = "toast" + (payload.isError ? " error" : "");
        element.dataset.toastId = payload.id;
        const text = document.createElement("span");
        text.textContent = payload.message;
        const dismiss = document.createElement("button");
        dismiss.type = "button";
        dismiss.setAttribute("aria-label", "Dismiss");
        dismiss.textContent = "\\u00d7";
        dismiss.addEventListener("click", () => hideToast(payload.id));
        element.append(text, dismiss);
        document.getElementById("toasts").append(element);
        toasts.set(payload.id, { element, timer: setTimeout(() => hideToast(payload.id), payload.duration || 5000) });
        return reply(event, message.id, payload.id);
      }
      case "toastHide":
        hideToast(payload.id);
        return reply(event, message.id, true);
      case "loading":
        document.getElementById("loading").classList.toggle("active", Boolean(payload.loading));
        return reply(event, message.id, true);
      case "modal":
        document.body.classList.toggle("modal-open", Boolean(payload.open));
        return reply(event, message.id, true);
      default:
        return reply(event, message.id, undefined, "unsupported: " + message.type);
    }
  });
</script>
</body>
</html>`;
}
