import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import { loadConfig } from "../config.server";
import { PermanentShopifyError, TransientShopifyError, type AdminResult } from "./admin-api.server";
import { BULK_STATUS, sendPaced, ThrottlePacer } from "./pull-runner.server";

/** A bulk call waits out a THROTTLED answer, as paced requests do, rather than failing the job that sent it. */
const paced = (signal?: AbortSignal, pacer = new ThrottlePacer()) => ({ pacer, onThrottled: () => {}, signal });

/**
 * Bulk mutations: the variables go to Shopify as a JSONL file (one JSON
 * object per line) through a staged upload, Shopify runs the mutation once
 * per line in the background, and its result file has one line per input
 * line: the mutation's response and the zero-based `__lineNumber`.
 */

export type BulkOperation = NonNullable<AdminResult<typeof BULK_STATUS>["bulkOperation"]>;

const VARIABLES_FILENAME = "bulk_op_vars.jsonl";
const FINISHED: BulkOperation["status"][] = ["COMPLETED", "CANCELED", "FAILED", "EXPIRED"];
/** How far back a restarted push looks for the operation it had started: its own are among the newest. */
const RECENT_MUTATIONS = 25;

const STAGE_VARIABLES = `#graphql
  mutation StageBulkVariables($input: [StagedUploadInput!]!) {
    stagedUploadsCreate(input: $input) {
      stagedTargets {
        url
        parameters {
          name
          value
        }
      }
      userErrors {
        field
        message
      }
    }
  }
`;

const RUN_BULK_MUTATION = `#graphql
  mutation RunBulkMutation($mutation: String!, $stagedUploadPath: String!) {
    bulkOperationRunMutation(mutation: $mutation, stagedUploadPath: $stagedUploadPath) {
      bulkOperation {
        id
        status
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`;
/** Shopify may answer these later with a different outcome. */
const RETRYABLE_RUN_ERRORS = ["OPERATION_IN_PROGRESS", "LIMIT_REACHED", "INTERNAL_FILE_SERVER_ERROR"];

/** Several bulk operations may run at once, so "the current one" may be another's: the app's recent mutations, newest first. */
const RECENT_BULK_MUTATIONS = `#graphql
  query RecentBulkMutations($first: Int!) {
    bulkOperations(first: $first, query: "operation_type:mutation", sortKey: CREATED_AT, reverse: true) {
      nodes {
        id
        status
        errorCode
        objectCount
        url
        partialDataUrl
        query
      }
    }
  }
`;

/** A bulk mutation's variables file: its JSONL, and the item behind each line, in order. */
export interface VariablesFile<Item> {
  jsonl: string;
  lines: Item[];
}

/**
 * Items as variables files of at most `maxBytes` (BULK_MUTATION_FILE_MAX_BYTES), one line each, as they are
 * read: one file is in memory at a time, whatever the number of items.
 */
export async function* variablesFiles<Item>(
  items: AsyncIterable<Item>,
  lineOf: (item: Item) => unknown,
  maxBytes: number,
): AsyncGenerator<VariablesFile<Item>> {
  let file: VariablesFile<Item> = { jsonl: "", lines: [] };
  let bytes = 0;
  for await (const item of items) {
    const line = JSON.stringify(lineOf(item));
    const lineBytes = Buffer.byteLength(line) + 1; // with the newline before it
    if (file.lines.length > 0 && bytes + lineBytes > maxBytes) {
      yield file;
      file = { jsonl: "", lines: [] };
      bytes = 0;
    }
    file.jsonl += file.lines.length > 0 ? `\n${line}` : line;
    bytes += lineBytes;
    file.lines.push(item);
  }
  if (file.lines.length > 0) yield file;
}

/** Uploads the variables file to the target Shopify stages and returns the path bulkOperationRunMutation takes. */
export async function stageBulkVariables(shop: string, jsonl: string, signal?: AbortSignal): Promise<string> {
  const { stagedUploadsCreate } = await sendPaced(
    shop,
    STAGE_VARIABLES,
    {
      input: [
        {
          resource: "BULK_MUTATION_VARIABLES",
          filename: VARIABLES_FILENAME,
          mimeType: "text/jsonl",
          httpMethod: "POST",
        },
      ],
    },
    paced(signal),
  );
  const target = stagedUploadsCreate?.stagedTargets?.[0];
  const key = target?.parameters.find((parameter) => parameter.name === "key")?.value;
  if (!target?.url || !key) {
    const problem = stagedUploadsCreate?.userErrors.map((error) => error.message).join("; ") || "no target with a key";
    throw new PermanentShopifyError(`stagedUploadsCreate refused: ${problem}`);
  }
  // The storage service checks the file against the signed parameters before it, so the file goes last.
  const form = new FormData();
  for (const { name, value } of target.parameters) form.append(name, value);
  form.append("file", new Blob([jsonl], { type: "text/jsonl" }), VARIABLES_FILENAME);
  let response: Response;
  try {
    response = await fetch(target.url, { method: "POST", body: form, signal });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new TransientShopifyError(`staged upload failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  const answer = await response.text();
  if (!response.ok) {
    const message = `staged upload answered ${response.status}: ${answer.slice(0, 300)}`;
    throw response.status === 429 || response.status >= 500
      ? new TransientShopifyError(message)
      : new PermanentShopifyError(message);
  }
  return key;
}

/** Starts the mutation on the staged variables; returns the bulk operation's id. */
export async function startBulkMutation(
  shop: string,
  mutation: string,
  stagedUploadPath: string,
  signal?: AbortSignal,
): Promise<string> {
  const { bulkOperationRunMutation } = await sendPaced(
    shop,
    RUN_BULK_MUTATION,
    { mutation, stagedUploadPath },
    paced(signal),
  );
  const bulkOperation = bulkOperationRunMutation?.bulkOperation;
  const userErrors = bulkOperationRunMutation?.userErrors ?? [{ message: "no answer", code: null }];
  if (bulkOperation) return bulkOperation.id;
  const message = userErrors.map((error) => error.message).join("; ");
  throw userErrors.some((error) => RETRYABLE_RUN_ERRORS.includes(error.code ?? ""))
    ? new TransientShopifyError(message)
    : new PermanentShopifyError(`bulk mutation rejected: ${message}`);
}

/**
 * Runs `mutation` over the variables files one after another: each is staged, its operation started and
 * handed to `finish`, which waits for it and records its results. Stops once `refused()` holds; an operation
 * that ended otherwise than COMPLETED is thrown as transient (`what` names it), for the job's retry to take up.
 */
export async function runBulkMutationFiles<Item>(
  shop: string,
  mutation: string,
  files: AsyncIterable<VariablesFile<Item>>,
  finish: (operationId: string, lines: Item[]) => Promise<BulkOperation>,
  refused: () => boolean,
  what: string,
  signal?: AbortSignal,
) {
  for await (const file of files) {
    const path = await stageBulkVariables(shop, file.jsonl, signal);
    const finished = await finish(await startBulkMutation(shop, mutation, path, signal), file.lines);
    if (refused()) return;
    if (finished.status !== "COMPLETED") {
      const reason = `${finished.status.toLowerCase()}${finished.errorCode ? ` (${finished.errorCode})` : ""}`;
      throw new TransientShopifyError(`${what} ${reason}`);
    }
  }
}

/** The newest of the shop's recent bulk mutations that runs exactly `mutation`, if any. */
export async function findBulkMutation(shop: string, mutation: string, signal?: AbortSignal) {
  const { bulkOperations } = await sendPaced(shop, RECENT_BULK_MUTATIONS, { first: RECENT_MUTATIONS }, paced(signal));
  return bulkOperations.nodes.find((operation) => operation.query === mutation);
}

/** Polls the operation until it has ended, every BULK_POLL_INTERVAL_MS. */
export async function waitForBulkOperation(shop: string, id: string, signal?: AbortSignal): Promise<BulkOperation> {
  const pacing = paced(signal);
  for (;;) {
    const { bulkOperation } = await sendPaced(shop, BULK_STATUS, { id }, pacing);
    if (!bulkOperation) throw new PermanentShopifyError(`bulk operation ${id} not found`);
    if (FINISHED.includes(bulkOperation.status)) return bulkOperation;
    await delay(loadConfig().BULK_POLL_INTERVAL_MS, undefined, { signal });
  }
}

/** The lines of a bulk operation's result file, parsed, as they download. */
export async function* bulkResultLines(url: string, signal?: AbortSignal): AsyncGenerator<unknown> {
  const response = await fetch(url, { signal });
  if (!response.ok || !response.body)
    throw new TransientShopifyError(`bulk result download answered ${response.status}`);
  const lines = createInterface({
    input: Readable.fromWeb(response.body as import("node:stream/web").ReadableStream),
    crlfDelay: Infinity,
  });
  for await (const line of lines) if (line) yield JSON.parse(line);
}
