// Local stand-in for Shopify's App Bridge (cdn.shopify.com/shopifycloud/app-bridge.js),
// served by the simulated store. It speaks to the local Admin page through
// postMessage the way the real script speaks to Shopify Admin: session tokens,
// the navigation menu (with client-side navigation through `shopify:navigate`),
// the title bar, toasts, the loading bar and modals (`ui-modal`, `shopify.modal`).
// Development and tests only.
(function () {
  "use strict";
  var script = document.currentScript;
  var apiKey = script && script.getAttribute("data-api-key");
  var params = new URLSearchParams(window.location.search);
  var embedded = window.parent !== window;
  var pending = new Map();
  var sequence = 0;

  function askAdmin(type, payload) {
    return new Promise(function (resolve, reject) {
      if (!embedded) return reject(new Error("not embedded in the local Admin"));
      var id = ++sequence;
      pending.set(id, { resolve: resolve, reject: reject });
      window.parent.postMessage({ source: "simulated-app-bridge", id: id, type: type, payload: payload }, "*");
      setTimeout(function () {
        if (pending.delete(id)) reject(new Error("the local Admin did not answer " + type));
      }, 5000);
    });
  }
  function tellAdmin(type, payload) {
    askAdmin(type, payload).catch(function () {});
  }

  window.addEventListener("message", function (event) {
    var message = event.data;
    if (!message || message.source !== "simulated-admin" || event.source !== window.parent) return;
    if (message.type === "navigate") return navigate(message.href);
    if (message.type === "titleBarAction") return titleBarAction(message.index);
    if (message.type === "hideModals")
      return openModals().forEach(function (modal) {
        modal.hide();
      });
    var waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error) waiter.reject(new Error(message.error));
    else waiter.resolve(message.result);
  });

  // Like App Bridge: the Admin asks the app to go somewhere and the app's router
  // does it (shopify-app-remix's AppProvider listens for `shopify:navigate` and
  // reads the href of the event's target), so the frame is never reloaded.
  function navigate(href) {
    var link = Array.prototype.find.call(document.querySelectorAll("ui-nav-menu a"), function (a) {
      return a.getAttribute("href") === href;
    });
    if (link) return link.dispatchEvent(new Event("shopify:navigate", { bubbles: true }));
    // The event must reach window, so the stand-in link has to be in the document for a moment.
    var temporary = document.createElement("a");
    temporary.setAttribute("href", href);
    temporary.hidden = true;
    document.body.appendChild(temporary);
    temporary.dispatchEvent(new Event("shopify:navigate", { bubbles: true }));
    temporary.remove();
  }

  // The Admin shows where the app is (its own address, the highlighted menu link).
  var reportedPath = null;
  function reportLocation() {
    var path = window.location.pathname;
    if (path === reportedPath) return;
    reportedPath = path;
    tellAdmin("location", { path: path });
  }
  ["pushState", "replaceState"].forEach(function (name) {
    var original = history[name];
    history[name] = function () {
      var result = original.apply(this, arguments);
      reportLocation();
      return result;
    };
  });
  window.addEventListener("popstate", reportLocation);

  // App Bridge hides its configuration elements; a constructed style sheet does it
  // without touching the server-rendered DOM (which React hydrates).
  var sheet = new CSSStyleSheet();
  sheet.replaceSync(
    [
      "ui-nav-menu, ui-title-bar, ui-modal, ui-save-bar { display: none !important; }",
      ".msab-modal { position: fixed; inset: 0; z-index: 2147483000; display: flex; align-items: center; justify-content: center; padding: 16px; box-sizing: border-box; }",
      ".msab-modal[hidden] { display: none; }",
      ".msab-backdrop { position: absolute; inset: 0; background: rgba(0, 0, 0, 0.5); }",
      ".msab-dialog { position: relative; background: #fff; border-radius: 12px; box-shadow: 0 20px 40px rgba(0,0,0,0.3); width: 620px; max-width: 100%; max-height: calc(100vh - 32px); display: flex; flex-direction: column; font-family: -apple-system, BlinkMacSystemFont, 'San Francisco', 'Segoe UI', Roboto, sans-serif; color: #303030; outline: none; }",
      ".msab-dialog.msab-small { width: 380px; } .msab-dialog.msab-large { width: 980px; } .msab-dialog.msab-max { width: 100%; height: 100%; max-height: none; }",
      ".msab-header { display: flex; align-items: center; justify-content: space-between; gap: 8px; padding: 12px 16px; background: #f3f3f3; border-bottom: 1px solid #e3e3e3; border-radius: 12px 12px 0 0; }",
      ".msab-header h2 { margin: 0; font-size: 14px; font-weight: 650; }",
      ".msab-close { border: 0; background: transparent; font-size: 20px; line-height: 1; cursor: pointer; padding: 4px 8px; border-radius: 8px; color: #4a4a4a; }",
      ".msab-close:hover { background: #e3e3e3; }",
      ".msab-content { overflow: auto; flex: 1; min-height: 0; }",
      ".msab-footer { display: flex; justify-content: flex-end; flex-wrap: wrap; gap: 8px; padding: 12px 16px; border-top: 1px solid #e3e3e3; }",
      ".msab-footer:empty { display: none; }",
      ".msab-button { font: inherit; font-size: 13px; font-weight: 550; padding: 6px 12px; border-radius: 8px; border: 1px solid #c9c9c9; background: #fff; color: #303030; cursor: pointer; }",
      ".msab-button.msab-primary { background: #303030; border-color: #303030; color: #fff; }",
      ".msab-button.msab-critical { color: #8e1f0b; } .msab-button.msab-primary.msab-critical { background: #c70a24; border-color: #c70a24; color: #fff; }",
      ".msab-button:disabled { opacity: 0.5; cursor: default; }",
    ].join("\n"),
  );
  document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);

  var toastSequence = 0;
  var shopify = {
    config: {
      apiKey: apiKey,
      shop: params.get("shop"),
      host: params.get("host"),
      locale: params.get("locale") || "en",
    },
    environment: { embedded: embedded, mobile: false, pos: false },
    idToken: function () {
      return askAdmin("idToken");
    },
    toast: {
      show: function (message, options) {
        var id = "toast-" + ++toastSequence;
        options = options || {};
        tellAdmin("toast", {
          id: id,
          message: String(message),
          duration: typeof options.duration === "number" ? options.duration : 5000,
          isError: Boolean(options.isError),
        });
        return id;
      },
      hide: function (id) {
        tellAdmin("toastHide", { id: id });
      },
    },
    loading: function (isLoading) {
      tellAdmin("loading", { loading: isLoading !== false });
    },
    modal: {
      show: function (id) {
        return modalById(id).show();
      },
      hide: function (id) {
        return modalById(id).hide();
      },
      toggle: function (id) {
        return modalById(id).toggle();
      },
    },
  };
  window.shopify = shopify;

  function modalById(id) {
    var element = document.getElementById(id);
    if (!element || element.localName !== "ui-modal") throw new Error("No ui-modal with id " + id);
    return element;
  }

  // Like App Bridge: same-origin fetches carry a fresh session token, and a
  // 401 asking for a retry is retried once with a new token.
  var realFetch = window.fetch.bind(window);
  window.fetch = function (input, init) {
    var request = new Request(input, init);
    if (new URL(request.url).origin !== window.location.origin || request.headers.has("Authorization")) {
      return realFetch(request);
    }
    var retry = request.clone();
    function withToken(req) {
      return shopify.idToken().then(function (token) {
        var headers = new Headers(req.headers);
        headers.set("Authorization", "Bearer " + token);
        return realFetch(new Request(req, { headers: headers }));
      });
    }
    return withToken(request).then(function (response) {
      if (response.status === 401 && response.headers.get("X-Shopify-Retry-Invalid-Session-Request")) {
        return withToken(retry);
      }
      return response;
    });
  };

  // The bounce page (/auth/session-token) waits for App Bridge to reload it with a fresh token.
  var reload = params.get("shopify-reload");
  if (reload) {
    shopify.idToken().then(function (token) {
      var url = new URL(reload, window.location.href);
      url.searchParams.set("id_token", token);
      window.location.replace(url.toString());
    });
  }

  /**
   * The parser connects an element before its children exist, and React changes
   * them later, so each element reports once the document is parsed and again
   * whenever its subtree changes (at most once a task).
   */
  function watched(element, report) {
    var scheduled = false;
    function schedule() {
      if (scheduled) return;
      scheduled = true;
      setTimeout(function () {
        scheduled = false;
        if (element.isConnected) report(element);
      }, 0);
    }
    var observer = new MutationObserver(schedule);
    observer.observe(element, { subtree: true, childList: true, attributes: true, characterData: true });
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", schedule, { once: true });
    else schedule();
    return observer;
  }

  function define(name, behaviour) {
    if (customElements.get(name)) return;
    customElements.define(name, behaviour);
  }

  var lastMenu = null;
  define(
    "ui-nav-menu",
    class extends HTMLElement {
      connectedCallback() {
        this._observer = watched(this, function (element) {
          var links = Array.prototype.map.call(element.querySelectorAll("a"), function (a) {
            return {
              label: a.textContent.trim(),
              href: a.getAttribute("href"),
              home: a.getAttribute("rel") === "home",
            };
          });
          var menu = JSON.stringify(links);
          if (menu === lastMenu) return;
          lastMenu = menu;
          tellAdmin("navMenu", { links: links });
          reportLocation();
        });
      }
      disconnectedCallback() {
        if (this._observer) this._observer.disconnect();
      }
    },
  );

  // The page's title bar: the last one connected outside a modal wins, as in Admin.
  var titleBars = [];
  var lastTitle = null;
  function titleBarControls(titleBar) {
    return titleBar ? Array.prototype.slice.call(titleBar.querySelectorAll("button, a")) : [];
  }
  // Its buttons and links (a breadcrumb link included) appear in the Admin's title bar; a click there
  // clicks the app's own element, or follows its link inside the frame.
  function reportTitle() {
    var current = titleBars[titleBars.length - 1];
    var title = current ? current.getAttribute("title") || "" : "";
    var actions = titleBarControls(current).map(function (control, index) {
      var loading = control.hasAttribute("loading") && control.getAttribute("loading") !== "false";
      return {
        index: index,
        label: control.textContent.trim(),
        variant: control.getAttribute("variant") || "",
        tone: control.getAttribute("tone") || "",
        disabled: Boolean(control.disabled) || loading,
        loading: loading,
      };
    });
    var report = JSON.stringify([title, actions]);
    if (report === lastTitle) return;
    lastTitle = report;
    tellAdmin("titleBar", { title: title, actions: actions });
  }
  function titleBarAction(index) {
    var control = titleBarControls(titleBars[titleBars.length - 1])[index];
    if (!control) return;
    if (control.localName === "a" && control.getAttribute("href")) return navigate(control.getAttribute("href"));
    control.click();
  }
  define(
    "ui-title-bar",
    class extends HTMLElement {
      connectedCallback() {
        if (this.closest("ui-modal")) return;
        titleBars.push(this);
        this._observer = watched(this, reportTitle);
      }
      disconnectedCallback() {
        var index = titleBars.indexOf(this);
        if (index === -1) return;
        titleBars.splice(index, 1);
        this._observer.disconnect();
        setTimeout(reportTitle, 0);
      }
    },
  );

  function openModals() {
    return Array.prototype.filter.call(document.querySelectorAll("ui-modal"), function (modal) {
      return modal.open;
    });
  }
  function reportModals() {
    tellAdmin("modal", { open: openModals().length > 0 });
  }

  var modalSequence = 0;
  /**
   * `ui-modal`: Admin shows it over the app; here it is an overlay in the app's
   * own document. @shopify/app-bridge-react's Modal portals its children into
   * `content`, takes the heading and buttons from its `ui-title-bar`, calls
   * show()/hide() and listens for the `show` and `hide` events.
   */
  define(
    "ui-modal",
    class extends HTMLElement {
      constructor() {
        super();
        this._open = false;
        this._overlay = null;
        this._observer = null;
      }
      get open() {
        return this._open;
      }
      get variant() {
        return this.getAttribute("variant") || "base";
      }
      set variant(value) {
        this.setAttribute("variant", value);
      }
      get src() {
        return this.getAttribute("src");
      }
      set src(value) {
        this.setAttribute("src", value);
      }
      get contentWindow() {
        return null;
      }
      // Built on first use, which comes after hydration: React owns the server-rendered DOM until then.
      get content() {
        return this._build().content;
      }
      _build() {
        if (this._overlay) {
          if (!this._overlay.root.isConnected) document.body.appendChild(this._overlay.root);
          return this._overlay;
        }
        var element = this;
        var root = document.createElement("div");
        root.className = "msab-modal";
        root.hidden = true;
        var backdrop = document.createElement("div");
        backdrop.className = "msab-backdrop";
        backdrop.addEventListener("click", function () {
          element.hide();
        });
        var dialog = document.createElement("div");
        dialog.className = "msab-dialog";
        dialog.setAttribute("role", "dialog");
        dialog.setAttribute("aria-modal", "true");
        dialog.tabIndex = -1;
        var headingId = "msab-modal-heading-" + ++modalSequence;
        dialog.setAttribute("aria-labelledby", headingId);
        var header = document.createElement("div");
        header.className = "msab-header";
        var heading = document.createElement("h2");
        heading.id = headingId;
        var close = document.createElement("button");
        close.type = "button";
        close.className = "msab-close";
        close.setAttribute("aria-label", "Close");
        close.textContent = "\u00d7";
        close.addEventListener("click", function () {
          element.hide();
        });
        header.append(heading, close);
        var content = document.createElement("div");
        content.className = "msab-content";
        var footer = document.createElement("div");
        footer.className = "msab-footer";
        dialog.append(header, content, footer);
        dialog.addEventListener("keydown", function (event) {
          if (event.key === "Escape") {
            event.stopPropagation();
            element.hide();
          }
        });
        root.append(backdrop, dialog);
        document.body.appendChild(root);
        this._overlay = { root: root, dialog: dialog, heading: heading, content: content, footer: footer };
        this._renderChrome();
        return this._overlay;
      }
      // The heading and buttons mirror the modal's ui-title-bar; a click goes to the app's own button.
      _renderChrome() {
        if (!this._overlay) return;
        var titleBar = this.querySelector("ui-title-bar");
        this._overlay.heading.textContent = (titleBar && titleBar.getAttribute("title")) || "";
        this._overlay.dialog.className = "msab-dialog msab-" + this.variant;
        var buttons = titleBar ? Array.prototype.slice.call(titleBar.querySelectorAll("button")) : [];
        // Admin puts the primary action last, at the right.
        buttons.sort(function (a, b) {
          return (a.getAttribute("variant") === "primary") - (b.getAttribute("variant") === "primary");
        });
        this._overlay.footer.replaceChildren.apply(
          this._overlay.footer,
          buttons.map(function (original) {
            var proxy = document.createElement("button");
            proxy.type = "button";
            proxy.className = "msab-button";
            if (original.getAttribute("variant") === "primary") proxy.classList.add("msab-primary");
            if (original.getAttribute("tone") === "critical") proxy.classList.add("msab-critical");
            var loading = original.hasAttribute("loading") && original.getAttribute("loading") !== "false";
            proxy.disabled = original.disabled || loading;
            proxy.textContent = loading ? "\u2026" : original.textContent.trim();
            if (loading) proxy.setAttribute("aria-busy", "true");
            proxy.addEventListener("click", function () {
              original.click();
            });
            return proxy;
          }),
        );
      }
      connectedCallback() {
        var element = this;
        if (this._overlay && !this._overlay.root.isConnected) document.body.appendChild(this._overlay.root);
        this._observer = new MutationObserver(function () {
          element._renderChrome();
        });
        this._observer.observe(this, { subtree: true, childList: true, attributes: true, characterData: true });
      }
      disconnectedCallback() {
        if (this._observer) this._observer.disconnect();
        var element = this;
        // React may move the element rather than remove it: only a removal takes the overlay away.
        queueMicrotask(function () {
          if (element.isConnected) return;
          if (element._open) element._setOpen(false);
          if (element._overlay) element._overlay.root.remove();
        });
      }
      _setOpen(open) {
        if (this._open === open) return;
        this._open = open;
        var overlay = this._build();
        overlay.root.hidden = !open;
        if (open) {
          this._returnFocus = document.activeElement;
          this._renderChrome();
          overlay.dialog.focus();
        } else if (this._returnFocus && this._returnFocus.isConnected) {
          this._returnFocus.focus();
        }
        this.dispatchEvent(new Event(open ? "show" : "hide"));
        reportModals();
      }
      show() {
        this._setOpen(true);
        return Promise.resolve();
      }
      hide() {
        this._setOpen(false);
        return Promise.resolve();
      }
      toggle() {
        this._setOpen(!this._open);
        return Promise.resolve();
      }
    },
  );

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", reportLocation, { once: true });
  else reportLocation();
})();
