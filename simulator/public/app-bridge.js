// Local stand-in for Shopify's App Bridge (cdn.shopify.com/shopifycloud/app-bridge.js),
// served by the simulated store. It speaks to the local Admin page through
// postMessage the way the real script speaks to Shopify Admin: session tokens,
// navigation menu, title bar and toasts. Development and tests only.
(function () {
  "use strict";
  var script = document.currentScript;
  var apiKey = script && script.getAttribute("data-api-key");
  var params = new URLSearchParams(window.location.search);
  var pending = new Map();
  var sequence = 0;

  function askAdmin(type, payload) {
    return new Promise(function (resolve, reject) {
      if (window.parent === window) return reject(new Error("not embedded in the local Admin"));
      var id = ++sequence;
      pending.set(id, { resolve: resolve, reject: reject });
      window.parent.postMessage({ source: "simulated-app-bridge", id: id, type: type, payload: payload }, "*");
      setTimeout(function () {
        if (pending.delete(id)) reject(new Error("the local Admin did not answer " + type));
      }, 5000);
    });
  }

  window.addEventListener("message", function (event) {
    var message = event.data;
    if (!message || message.source !== "simulated-admin") return;
    if (message.type === "navigate") return navigate(message.href);
    var waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error) waiter.reject(new Error(message.error));
    else waiter.resolve(message.result);
  });

  function navigate(href) {
    var link = document.querySelector('ui-nav-menu a[href="' + CSS.escape(href) + '"]');
    var target = link || Object.assign(document.createElement("a"), { href: href });
    if (!link) target.setAttribute("href", href);
    target.dispatchEvent(new Event("shopify:navigate", { bubbles: true }));
  }

  var shopify = {
    config: {
      apiKey: apiKey,
      shop: params.get("shop"),
      host: params.get("host"),
      locale: params.get("locale") || "en",
    },
    environment: { embedded: window.parent !== window, mobile: false, pos: false },
    idToken: function () {
      return askAdmin("idToken");
    },
    toast: {
      show: function (message) {
        askAdmin("toast", { message: String(message) }).catch(function () {});
        return "toast";
      },
      hide: function () {},
    },
    loading: function () {},
  };
  window.shopify = shopify;

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

  function define(name, onConnect) {
    if (customElements.get(name)) return;
    customElements.define(
      name,
      class extends HTMLElement {
        connectedCallback() {
          this.style.display = "none";
          var element = this;
          queueMicrotask(function () {
            onConnect(element);
          });
        }
      },
    );
  }
  define("ui-nav-menu", function (element) {
    var links = Array.prototype.map.call(element.querySelectorAll("a"), function (a) {
      return { label: a.textContent, href: a.getAttribute("href"), home: a.getAttribute("rel") === "home" };
    });
    askAdmin("navMenu", { links: links }).catch(function () {});
  });
  define("ui-title-bar", function (element) {
    askAdmin("titleBar", { title: element.getAttribute("title") }).catch(function () {});
  });
})();
