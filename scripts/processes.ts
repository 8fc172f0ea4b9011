import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

/** Starts the project's processes as children and stops them together. */

const TSX = path.resolve("node_modules/tsx/dist/cli.mjs");

export interface Supervisor {
  start(name: string, entry: string, env: NodeJS.ProcessEnv): ChildProcess;
  stopAll(): Promise<void>;
  /** Resolves with the name of the first child that exits on its own. */
  firstExit: Promise<string>;
}

export function supervise(): Supervisor {
  const children = new Map<string, ChildProcess>();
  let stopping = false;
  let reportExit: (name: string) => void = () => {};
  const firstExit = new Promise<string>((resolve) => (reportExit = resolve));
  return {
    firstExit,
    start(name, entry, env) {
      const child = spawn(process.execPath, [TSX, entry], { env, stdio: "inherit" });
      children.set(name, child);
      child.on("exit", (code, signal) => {
        children.delete(name);
        if (!stopping) {
          process.stderr.write(`${name} exited (${signal ?? code})\n`);
          reportExit(name);
        }
      });
      return child;
    },
    async stopAll() {
      stopping = true;
      await Promise.all(
        [...children.values()].map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null) return resolve();
              child.once("exit", () => resolve());
              child.kill("SIGTERM");
              setTimeout(() => child.kill("SIGKILL"), 30_000).unref();
            }),
        ),
      );
    },
  };
}
