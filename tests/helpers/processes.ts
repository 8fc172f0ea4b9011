import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";

/** Runs the app's real entry points as child processes and keeps their logs. */

export interface RunningProcess {
  child: ChildProcess;
  /** Everything the process wrote, stdout and stderr. */
  output(): string;
  /** Parsed JSON log lines. */
  logs(): Record<string, unknown>[];
  waitForLog(
    predicate: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

// Node with tsx's loader, not the tsx CLI: the CLI runs the program in a
// child process, so a signal sent to the CLI (SIGKILL above all) would not
// reach the program.
const NODE_WITH_TSX = ["--import", "tsx"];

export function startProcess(entry: string, env: Record<string, string | undefined>): RunningProcess {
  // The helpers wait for info-level lines such as "worker started".
  const logLevel = env.LOG_LEVEL === "debug" || env.LOG_LEVEL === "trace" ? env.LOG_LEVEL : "info";
  const child = spawn(process.execPath, [...NODE_WITH_TSX, entry], {
    env: { ...process.env, ...env, LOG_LEVEL: logLevel },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  const parsed: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let pending = "";
  const onData = (chunk: Buffer) => {
    text += chunk.toString("utf8");
    pending += chunk.toString("utf8");
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      try {
        parsed.push(JSON.parse(line));
      } catch {
        // not a log line
      }
    }
    waiters.forEach((wake) => wake());
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  // Never leave a process behind when the test runner goes away.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  child.once("exit", () => process.off("exit", killOnExit));

  return {
    child,
    output: () => text,
    logs: () => parsed,
    waitForLog(predicate, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = parsed.find(predicate);
          if (found) {
            cleanup();
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for a log line from ${entry}; output so far:\n${text.slice(-3000)}`));
        }, timeoutMs);
        const onExit = () => {
          cleanup();
          reject(new Error(`${entry} exited early; output:\n${text.slice(-3000)}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
          child.off("exit", onExit);
        };
        waiters.add(check);
        child.once("exit", onExit);
        check();
      });
    },
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export async function startAppServer(env: Record<string, string | undefined>) {
  const app = startProcess("server.ts", { PORT: "0", ...env });
  const listening = await app.waitForLog((line) => line.msg === "app server listening");
  return { ...app, url: `http://127.0.0.1:${listening.port}` };
}

export async function startWorker(env: Record<string, string | undefined>) {
  const worker = startProcess("worker/index.ts", env);
  await worker.waitForLog((line) => line.msg === "worker started");
  return worker;
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
  what = "condition",
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
