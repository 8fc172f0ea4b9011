import { execFileSync, spawn } from "node:child_process";
import { existsSync, lstatSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { ensureDatabase } from "../../scripts/database";
import { freePort } from "../helpers/processes";
import { BROWSER_HEADERS } from "../helpers/shopify-requests";
import { startDemo } from "../helpers/demo";

async function selectOne(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query("SELECT current_database() AS name, version() AS version");
    return rows[0] as { name: string; version: string };
  } finally {
    await client.end();
  }
}

const savedUrl = process.env.DATABASE_URL;
afterEach(() => {
  process.env.DATABASE_URL = savedUrl;
});

describe("zero-setup database", () => {
  it("uses DATABASE_URL when it is set and embeds nothing", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "ms-pg-unused-"));
    await rm(dataDir, { recursive: true });
    process.env.DATABASE_URL = savedUrl;
    const database = await ensureDatabase({ dataDir, port: await freePort(), log: () => {} });
    expect(database.embedded).toBe(false);
    expect(database.url).toBe(process.env.DATABASE_URL!);
    expect(existsSync(dataDir)).toBe(false);
    expect((await selectOne(database.url)).name).toBe(new URL(process.env.DATABASE_URL!).pathname.slice(1));
  });

  it("starts an embedded PostgreSQL with its data in the given folder when DATABASE_URL is unset", async () => {
    delete process.env.DATABASE_URL;
    // Under the project, not /tmp: as root, Postgres runs as its own user and must reach the folder.
    const dataDir = path.resolve(`.data/test-embedded-${process.pid}-${Date.now()}`);
    const port = await freePort();
    const database = await ensureDatabase({ dataDir, port, database: "zero_setup", log: () => {} });
    try {
      expect(database.embedded).toBe(true);
      expect(database.url).toContain(`:${port}/zero_setup`);
      expect(existsSync(path.join(dataDir, "PG_VERSION"))).toBe(true);
      const server = await selectOne(database.url);
      expect(server.name).toBe("zero_setup");
      expect(server.version).toMatch(/^PostgreSQL \d+/);
    } finally {
      await database.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

const isRoot = process.getuid?.() === 0;

/** The postgres process serving a data folder, from its pid file. */
function serverPidOf(dataDir: string) {
  return Number(readFileSync(path.join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
}

/** Alive, not a zombie waiting for a parent that does not reap it. */
function isRunning(pid: number) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

function parentOf(pid: number) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

describe("embedded PostgreSQL that an earlier run left behind", () => {
  it("refuses, in one line, a second start on a data folder another live run serves", async () => {
    delete process.env.DATABASE_URL;
    const dataDir = path.resolve(`.data/test-twice-${process.pid}-${Date.now()}`);
    const port = await freePort();
    const first = await ensureDatabase({ dataDir, port, log: () => {} });
    try {
      await expect(ensureDatabase({ dataDir, port: await freePort(), log: () => {} })).rejects.toThrow(
        /another run already serves .* \(postgres pid \d+ on port \d+, started by pid \d+\); stop it first/,
      );
      expect((await selectOne(first.url)).name).toBe("microsegment");
    } finally {
      await first.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("stops a server whose runner died (killed, or a setup that failed) and starts cleanly on the same port", async () => {
    delete process.env.DATABASE_URL;
    const dataDir = path.resolve(`.data/test-orphan-${process.pid}-${Date.now()}`);
    const port = await freePort();
    const first = await ensureDatabase({ dataDir, port, log: () => {} });
    const orphan = serverPidOf(dataDir);
    // The runner dies without stopping its server, as a killed or crashed setup leaves it.
    process.kill(parentOf(orphan), "SIGKILL");
    await first.stop();
    expect(isRunning(orphan)).toBe(true);
    const second = await ensureDatabase({ dataDir, port, log: () => {} });
    try {
      expect(isRunning(orphan)).toBe(false);
      expect(serverPidOf(dataDir)).not.toBe(orphan);
      expect((await selectOne(second.url)).name).toBe("microsegment");
    } finally {
      await second.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("stops with the process that started it, when that process dies without stopping it (a failed setup)", async () => {
    const dataDir = path.resolve(`.data/test-parent-dies-${process.pid}-${Date.now()}`);
    const port = await freePort();
    const script = `
      const { ensureDatabase } = await import(${JSON.stringify(path.resolve("scripts/database.ts"))});
      await ensureDatabase({ dataDir: ${JSON.stringify(dataDir)}, port: ${port}, log: () => {} });
      console.log("started");
      throw new Error("setup failed");`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "--eval", script], {
      env: { ...process.env, DATABASE_URL: undefined },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    await new Promise((resolve) => child.on("exit", resolve));
    expect(output).toContain("started");
    const server = serverPidOf(dataDir);
    for (let waited = 0; isRunning(server) && waited < 15_000; waited += 100) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(isRunning(server)).toBe(false);
    await rm(dataDir, { recursive: true, force: true });
  });
});

describe.skipIf(!isRoot)("as root, a clone in a folder only root can enter", () => {
  it("runs npm run demo: the embedded PostgreSQL starts as user postgres from a folder it can reach, and stops with Ctrl-C", async () => {
    const home = await mkdtemp(path.join(tmpdir(), "ms-root-only-"));
    await chmod(home, 0o700);
    const clone = path.join(home, "microsegment");
    const runtimeDir = path.join("/var/tmp", `microsegment-postgres-test-${process.pid}-${Date.now()}`);
    await mkdir(clone);
    // The working tree as a fresh clone has it, with the installed packages and build linked in (same disk).
    const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
      encoding: "utf8",
    })
      .split("\0")
      .filter((file) => file && existsSync(file));
    execFileSync("cp", ["--preserve=timestamps", "--parents", "-t", clone, ...files]);
    execFileSync("cp", ["-al", "node_modules", ...(existsSync("build") ? ["build"] : []), clone]);
    const postgresUid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());

    const demo = startDemo({
      cwd: clone,
      env: {
        DATABASE_URL: undefined,
        EMBEDDED_POSTGRES_PORT: String(await freePort()),
        EMBEDDED_POSTGRES_RUNTIME_DIR: runtimeDir,
        PORT: String(await freePort()),
        SIMULATOR_PORT: String(await freePort()),
        DEMO_STORE_SIZE: "tiny",
      },
    });
    let serverPid = 0;
    try {
      const url = await demo.adminUrl(170_000);
      expect(demo.output(), demo.output().slice(-2000)).not.toContain("EACCES");
      expect(url, demo.output().slice(-2000)).toBeDefined();
      const admin = await fetch(url!);
      expect(admin.status).toBe(200);
      const frame = /<iframe[^>]+src="([^"]+)"/.exec(await admin.text())![1]!.replaceAll("&amp;", "&");
      const app = await fetch(frame, { headers: BROWSER_HEADERS });
      expect(app.status).toBe(200);
      expect(await app.text()).toContain("Shopify connection");

      // The cluster lives where postgres can reach it; the clone's data folder links to it.
      const dataLink = path.join(clone, ".data/postgres");
      expect(lstatSync(dataLink).isSymbolicLink()).toBe(true);
      const cluster = readlinkSync(dataLink);
      expect(cluster.startsWith(`${runtimeDir}/`)).toBe(true);
      expect(statSync(cluster).uid).toBe(postgresUid);
      serverPid = serverPidOf(cluster);
      expect(readFileSync(`/proc/${serverPid}/status`, "utf8")).toMatch(new RegExp(`^Uid:\\s+${postgresUid}\\s`, "m"));
    } finally {
      expect([0, 130]).toContain(await demo.interrupt());
      await rm(home, { recursive: true, force: true });
      await rm(runtimeDir, { recursive: true, force: true });
    }
    expect(isRunning(serverPid)).toBe(false);
  }, 240_000);
});
