/** What server.ts hands every loader and action. */
declare module "@remix-run/node" {
  interface AppLoadContext {
    requestId: string;
    draining: () => boolean;
  }
}

export type { AppLoadContext } from "@remix-run/node";
