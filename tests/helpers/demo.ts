import { spawn } from "node:child_process";
import path from "node:path";

/**
 * `npm run demo` as a child process of its own process group, so that Ctrl-C reaches all of it, with the
 * public demo credentials (none of the test environment's) unless `env` names others.
 */
export function startDemo(options: { cwd?: string; env: Record<string, string | undefined> }) {
  const cwd = options.cwd ?? process.cwd();
  const child = spawn(process.execPath, [path.join(cwd, "node_modules/tsx/dist/cli.mjs"), "scripts/demo.ts"], {
    cwd,
    env: {
      ...process.env,
      TOKEN_ENCRYPTION_KEYS: undefined,
      SHOPIFY_API_KEY: undefined,
      SHOPIFY_API_SECRET: undefined,
      SHOPIFY_APP_URL: undefined,
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    output: () => output,
    /** The local Admin URL the demo prints once it is up; undefined when it exited or took too long. */
    async adminUrl(timeoutMs: number) {
      const deadline = Date.now() + timeoutMs;
      while (!output.includes("Press Ctrl-C") && Date.now() < deadline && child.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return /(http:\/\/127\.0\.0\.1:\d+\/admin\/local\?shop=[^\s]+)/.exec(output)?.[1];
    },
    /** Ctrl-C to the whole group; answers the exit status. */
    interrupt() {
      process.kill(-child.pid!, "SIGINT");
      return exited;
    },
  };
}
