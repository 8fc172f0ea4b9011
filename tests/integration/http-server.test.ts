import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEST_APP } from "../helpers/app-env";
import { startAppServer, type RunningProcess } from "../helpers/processes";

/**
 * What the HTTP server lets a client hold, tried with raw sockets against the real app process: slow
 * headers and slow bodies are cut, bodies past their route's limit are refused before they are read, and
 * connections beyond the cap are closed.
 */

type App = RunningProcess & { url: string };
let strict: App;
let capped: App;

const CONNECTION_CAP = 20;

function env(extra: Record<string, string>) {
  return { ...TEST_APP.env, DATABASE_URL: process.env.DATABASE_URL!, NODE_ENV: "production", ...extra };
}

beforeAll(async () => {
  // One after the other: two app processes starting at once on a busy two-core machine can take over 30 s.
  strict = await startAppServer(env({ HTTP_HEADERS_TIMEOUT_MS: "1000", HTTP_REQUEST_TIMEOUT_MS: "2000" }));
  capped = await startAppServer(
    env({ HTTP_MAX_CONNECTIONS: String(CONNECTION_CAP), WEBHOOK_MAX_BODY_BYTES: "4096", MAX_BODY_BYTES: "2048" }),
  );
});

afterAll(async () => {
  await Promise.all([strict?.stop(), capped?.stop()]);
});

interface RawConnection {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Settles when the server closes the connection (or it errors), with what it sent. */
  closed: Promise<string>;
}

async function rawConnection(appUrl: string): Promise<RawConnection> {
  const { hostname, port } = new URL(appUrl);
  const socket = connect({ host: hostname, port: Number(port) });
  let text = "";
  socket.on("data", (chunk) => (text += chunk.toString("latin1")));
  const closed = new Promise<string>((resolve) => {
    socket.on("close", () => resolve(text));
    socket.on("error", () => resolve(text));
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return { socket, received: () => text, closed };
}

/** Writes one piece every `everyMs` until told to stop or the socket closes; answers a stop function. */
function dribble(socket: Socket, pieces: () => string, everyMs: number) {
  const timer = setInterval(() => {
    if (socket.destroyed || !socket.writable) return clearInterval(timer);
    socket.write(pieces());
  }, everyMs);
  return () => clearInterval(timer);
}

/** Which of the two settles first: the server closing the connection, or the client giving up. */
function closedWithin(connection: RawConnection, ms: number) {
  return Promise.race([
    connection.closed.then((text) => ({ cut: true, text })),
    new Promise<{ cut: false; text: string }>((resolve) =>
      setTimeout(() => resolve({ cut: false, text: connection.received() }), ms),
    ),
  ]);
}

const statusOf = (text: string) => /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];

describe("timeouts", () => {
  it("cuts a client that sends its headers a line at a time", async () => {
    const connection = await rawConnection(strict.url);
    connection.socket.write("POST /webhooks/orders/create HTTP/1.1\r\nHost: app.test\r\n");
    let line = 0;
    // A header every 300 ms, for 15 s if allowed: far past the 1 s headers timeout.
    const stop = dribble(connection.socket, () => `X-Slow-${line++}: ${"a".repeat(10)}\r\n`, 300);
    const outcome = await closedWithin(connection, 15_000);
    stop();
    connection.socket.destroy();
    expect(outcome.cut).toBe(true);
    expect(statusOf(outcome.text)).toBe("408");
  });

  it("cuts a client that sends its body a byte at a time", async () => {
    const connection = await rawConnection(strict.url);
    connection.socket.write(
      "POST /api/segments HTTP/1.1\r\nHost: app.test\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n",
    );
    // A byte every 150 ms would take 30 s: far past the 2 s request timeout.
    const stop = dribble(connection.socket, () => " ", 150);
    const outcome = await closedWithin(connection, 15_000);
    stop();
    connection.socket.destroy();
    expect(outcome.cut).toBe(true);
    expect(statusOf(outcome.text)).toBe("408");
  });

  it("still serves a prompt request on the same server", async () => {
    const response = await fetch(`${strict.url}/healthz`);
    expect(response.status).toBe(200);
  });
});

describe("body limits", () => {
  /** Sends only the request's head, declaring a body it never sends; answers what the server says meanwhile. */
  async function declareOnly(path: string, contentLength: number) {
    const connection = await rawConnection(capped.url);
    connection.socket.write(
      `POST ${path} HTTP/1.1\r\nHost: app.test\r\nContent-Type: application/json\r\nContent-Length: ${contentLength}\r\n\r\n`,
    );
    const outcome = await closedWithin(connection, 10_000);
    connection.socket.destroy();
    return outcome;
  }

  it("refuses a webhook past its limit from Content-Length, before reading or checking anything", async () => {
    const outcome = await declareOnly("/webhooks/orders/create", 4097);
    expect(statusOf(outcome.text)).toBe("413");
    expect(outcome.cut).toBe(true);
  });

  it("refuses bodies past the page and API limit, and any body on a path that reads none", async () => {
    expect(statusOf((await declareOnly("/api/segments/run", 2049)).text)).toBe("413");
    expect(statusOf((await declareOnly("/no/such/path", 1)).text)).toBe("413");
    expect(statusOf((await declareOnly("/webhooks/no/such_topic", 1)).text)).toBe("413");
  });

  it("cuts a chunked webhook body when it runs past the limit", async () => {
    const connection = await rawConnection(capped.url);
    connection.socket.write(
      "POST /webhooks/orders/create HTTP/1.1\r\nHost: app.test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    const chunk = "x".repeat(1024);
    for (let i = 0; i < 5; i++) connection.socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    const outcome = await closedWithin(connection, 10_000);
    connection.socket.destroy();
    expect(statusOf(outcome.text)).toBe("413");
  });

  it("reads a webhook body past the page limit but within its own (unsigned, it is then refused with 401)", async () => {
    const body = JSON.stringify({ id: 1, admin_graphql_api_id: "gid://shopify/Order/1", note: "n".repeat(3000) });
    expect(body.length).toBeGreaterThan(2048);
    const response = await fetch(`${capped.url}/webhooks/orders/create`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", "x-shopify-topic": "orders/create" },
    });
    expect(response.status).toBe(401);
  });
});

describe("connection cap", () => {
  it("closes connections beyond the cap at once and accepts new ones when others have closed", async () => {
    const open = await Promise.all(Array.from({ length: CONNECTION_CAP }, () => rawConnection(capped.url)));
    const extra = await rawConnection(capped.url);
    extra.socket.write("GET /healthz HTTP/1.1\r\nHost: app.test\r\n\r\n");
    const outcome = await closedWithin(extra, 5_000);
    expect(outcome).toEqual({ cut: true, text: "" });
    // The connections within the cap are served.
    open[0]!.socket.write("GET /healthz HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n");
    expect(statusOf(await open[0]!.closed)).toBe("200");
    for (const connection of open) connection.socket.destroy();
    await Promise.all(open.map((connection) => connection.closed));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await fetch(`${capped.url}/healthz`)).status).toBe(200);
    expect(capped.logs().some((line) => line.msg === "connections refused: too many open")).toBe(true);
  });
});
