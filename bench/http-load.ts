import http from "node:http";

/**
 * A closed-loop HTTP load generator: `concurrency` virtual clients on
 * keep-alive connections, each sending its next request as soon as the
 * previous answer arrives, for `seconds` or until `next` has no more.
 */
export interface LoadOptions {
  url: string;
  concurrency: number;
  seconds: number;
  /**
   * The next request's body, a tag to remember it by (e.g. an event id) and headers of its own (e.g. a
   * signature); null when there is nothing more to send.
   */
  next: () => { body: string; tag: string; headers?: Record<string, string> } | null;
  headers?: Record<string, string>;
  /** Called with every answer, e.g. for figures per interval while the load runs. */
  onAnswer?: (latencyMs: number, status: number) => void;
  /** Ends the load before `seconds` are over. */
  signal?: AbortSignal;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  statuses: Record<number, number>;
  /** Latencies in ms, sorted. */
  latencies: number[];
  /** Tags of the requests answered 2xx. */
  acknowledged: string[];
  errors: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const target = new URL(options.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const latencies: number[] = [];
  const acknowledged: string[] = [];
  const statuses: Record<number, number> = {};
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;

  const send = (body: string, headers: Record<string, string> | undefined) =>
    new Promise<number>((resolve, reject) => {
      const request = http.request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: "POST",
          headers: { ...options.headers, ...headers, "content-length": Buffer.byteLength(body) },
        },
        (response) => {
          response.resume();
          response.on("end", () => resolve(response.statusCode ?? 0));
          response.on("error", reject);
        },
      );
      request.on("error", reject);
      request.end(body);
    });

  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < deadline && !options.signal?.aborted) {
        const request = options.next();
        if (!request) break;
        const { body, tag, headers } = request;
        const sentAt = performance.now();
        try {
          const status = await send(body, headers);
          const latency = performance.now() - sentAt;
          latencies.push(latency);
          options.onAnswer?.(latency, status);
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status >= 200 && status < 300) acknowledged.push(tag);
        } catch {
          errors++;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    statuses,
    latencies,
    acknowledged,
    errors,
  };
}
