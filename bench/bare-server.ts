import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** The reference for bench:pixel: node:http reading the body and answering 204, nothing else. */
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(204, { "access-control-allow-origin": "*" });
    res.end();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ msg: "bare server listening", port })}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
