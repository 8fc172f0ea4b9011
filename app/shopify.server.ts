import "@shopify/shopify-app-remix/adapters/node";
import { ApiVersion, AppDistribution, LogSeverity, shopifyApp } from "@shopify/shopify-app-remix/server";
import { API_VERSION } from "./api-version";
import { loadConfig } from "./config.server";
import prisma from "./db.server";
import { logger } from "./logger.server";
import { createPull, hasActivePull, hasSucceededFullPull } from "./models/pulls.server";
import { recordInstall } from "./models/shop.server";
import { EncryptedSessionStorage } from "./services/session-storage.server";
import { shopifyLibrary } from "./services/shopify-api.server";

const config = loadConfig();

// Development only: route *.myshopify.com traffic to the simulated store and
// let its local Admin frame the app. Loaded on demand so production never
// carries the redirection code.
const simulator = config.SHOPIFY_SIMULATOR_URL
  ? await import("./services/simulator-transport.server").then((module) =>
      module.useSimulatorTransport(config.SHOPIFY_SIMULATOR_URL!),
    )
  : undefined;

export { API_VERSION };

const severityToLevel = {
  [LogSeverity.Error]: "error",
  [LogSeverity.Warning]: "warn",
  [LogSeverity.Info]: "info",
  [LogSeverity.Debug]: "debug",
} as const;

export const sessionStorage = new EncryptedSessionStorage(prisma, config.TOKEN_ENCRYPTION_KEYS);

const shopifyLogger = {
  level: LogSeverity.Info,
  httpRequests: false,
  log: (severity: LogSeverity, message: string) => logger[severityToLevel[severity]]({ source: "shopify" }, message),
};

const shopify = shopifyApp({
  apiKey: config.SHOPIFY_API_KEY,
  apiSecretKey: config.SHOPIFY_API_SECRET,
  apiVersion: API_VERSION as ApiVersion,
  scopes: config.SCOPES.split(","),
  appUrl: config.SHOPIFY_APP_URL,
  authPathPrefix: "/auth",
  sessionStorage,
  distribution: AppDistribution.AppStore,
  isEmbeddedApp: true,
  future: {
    unstable_newEmbeddedAuthStrategy: true,
    expiringOfflineAccessTokens: true,
  },
  logger: shopifyLogger,
  hooks: {
    afterAuth: async ({ session }) => {
      const { firstInstall } = await recordInstall(session.shop, session.scope ?? "");
      logger.info({ shop: session.shop, firstInstall }, "app installed or token renewed");
      // A new (or returning) merchant sees data without asking: a full pull starts by itself.
      const needsData = firstInstall || !(await hasSucceededFullPull(session.shop));
      if (needsData && !(await hasActivePull(session.shop))) {
        await createPull({ shop: session.shop, kind: "full", trigger: "install" });
      }
    },
  },
});

export default shopify;
export const addDocumentResponseHeaders: typeof shopify.addDocumentResponseHeaders = (request, headers) => {
  shopify.addDocumentResponseHeaders(request, headers);
  simulator?.adaptDocumentHeaders(headers);
};
export const authenticate = shopify.authenticate;
export const unauthenticated = shopify.unauthenticated;
export const login = shopify.login;

/** The library's own session-token check (signature, aud, exp, nbf) and offline session ids, for the JSON API. */
export const sessionTokens = shopifyLibrary.session;
