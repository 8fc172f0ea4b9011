/**
 * For tests: the steps an app takes to run a bulk mutation, sent to the
 * simulator through any Admin API request function (HTTP, or a shop
 * runtime's executeAdmin).
 */

export type AdminRequest = (query: string, variables: Record<string, unknown>) => Promise<any>;

export const STAGE_VARIABLES = `mutation($input: [StagedUploadInput!]!) {
  stagedUploadsCreate(input: $input) { stagedTargets { url resourceUrl parameters { name value } } userErrors { field message } }
}`;

export const RUN_BULK_MUTATION = `mutation($mutation: String!, $path: String!) {
  bulkOperationRunMutation(mutation: $mutation, stagedUploadPath: $path) {
    bulkOperation { id status type } userErrors { field message code }
  }
}`;

export interface StagedTarget {
  url: string;
  parameters: { name: string; value: string }[];
}

/**
 * Stages a JSONL file of variables and uploads it as Shopify asks: the
 * target's parameters, then the file ("file first" breaks that rule).
 */
export async function stageVariables(
  request: AdminRequest,
  lines: object[],
  order: "file last" | "file first" = "file last",
) {
  const body = await request(STAGE_VARIABLES, {
    input: [
      { resource: "BULK_MUTATION_VARIABLES", filename: "vars.jsonl", mimeType: "text/jsonl", httpMethod: "POST" },
    ],
  });
  const { stagedTargets, userErrors } = body.data.stagedUploadsCreate;
  if (userErrors.length > 0) throw new Error(`stagedUploadsCreate refused: ${JSON.stringify(userErrors)}`);
  const staged = stagedTargets[0] as StagedTarget;
  const form = new FormData();
  const file = new Blob([lines.map((line) => JSON.stringify(line)).join("\n")], { type: "text/jsonl" });
  if (order === "file first") form.append("file", file, "vars.jsonl");
  for (const { name, value } of staged.parameters) form.append(name, value);
  if (order === "file last") form.append("file", file, "vars.jsonl");
  const upload = await fetch(staged.url, { method: "POST", body: form });
  const key = staged.parameters.find((parameter) => parameter.name === "key")!.value;
  return { staged, upload, key };
}
