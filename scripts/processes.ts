import { spawn, type ChildProcess } from "node:child_process";

/** Starts the project's processes as children and stops them together. */

// Node with tsx's loader rather than the tsx CLI, so signals reach the program itself.
const NODE_WITH_TSX = ["--import", "tsx"];

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
      const child = spawn(process.execPath, [...NODE_WITH_TSX, entry], { env, stdio: "inherit" });
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
