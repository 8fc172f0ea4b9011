import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  fitGammaGamma,
  fitPurchaseModel,
  PURCHASE_MODEL_NAMES,
  splitAtCalibrationEnd,
  summarizeTransactions,
  type PurchaseModelFit,
  type PurchaseModelName,
  type Transaction,
} from "../app/services/clv.server";
import { backtestModels } from "../app/services/predictions.server";

/**
 * `npm run clv:fit -- --transactions <csv> --calibration-end <YYYY-MM-DD> [--model bg-nbd|mbg-nbd|pareto-nbd|auto]
 * [--holdout-end <YYYY-MM-DD>] [--penalizer 0]`: fit a purchase model (BG/NBD unless told) and
 * Gamma-Gamma (time in weeks) to a `customer_id,date,amount` CSV over the calibration period and
 * print the parameters as the last line of stdout, one JSON object. With --holdout-end the fit
 * predicts the days after the calibration period up to that date: "holdout_actual" counts the
 * calibration customers' repeat purchases there (same-day purchases once) and
 * "holdout_predicted" sums each one's conditional expectation; `--model auto` picks the model
 * with the smallest |relative error| there.
 */

class InputError extends Error {}

const EXPECTED_HEADER = "customer_id,date,amount";

function parseDate(text: string): Date | undefined {
  const match = /^(\d{4})-?(\d{2})-?(\d{2})$/.exec(text);
  if (!match || (text.length !== 8 && text.length !== 10)) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  // Date.UTC rolls 1997-02-30 over to March; a round trip catches impossible dates.
  const valid = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  return valid ? date : undefined;
}

function parseRow(line: string, lineNumber: number, file: string): Transaction {
  const fail = (problem: string) => new InputError(`${file}:${lineNumber}: ${problem}`);
  const fields = line.split(",").map((field) => field.trim());
  if (fields.length !== 3) throw fail(`expected 3 comma-separated fields, found ${fields.length}`);
  const [customerId, dateText, amountText] = fields as [string, string, string];
  if (customerId === "") throw fail("empty customer_id");
  const date = parseDate(dateText);
  if (!date) throw fail(`invalid date "${dateText}" (expected YYYY-MM-DD or YYYYMMDD)`);
  const amount = amountText === "" ? NaN : Number(amountText);
  if (!Number.isFinite(amount)) throw fail(`invalid amount "${amountText}"`);
  return { customerId, date, amount };
}

function readTransactions(file: string): Transaction[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
    throw new InputError(`cannot read ${file}: ${reason}`);
  }
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const header = (lines[0] ?? "").trim();
  if (header !== EXPECTED_HEADER) {
    throw new InputError(`${file}:1: bad header "${header.slice(0, 80)}" (expected "${EXPECTED_HEADER}")`);
  }
  const transactions: Transaction[] = [];
  lines.forEach((line, index) => {
    if (index > 0 && line.trim() !== "") transactions.push(parseRow(line, index + 1, file));
  });
  if (transactions.length === 0) throw new InputError(`${file}: no transactions after the header`);
  return transactions;
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      transactions: { type: "string" },
      "calibration-end": { type: "string" },
      penalizer: { type: "string", default: "0" },
      model: { type: "string", default: "bg-nbd" },
      "holdout-end": { type: "string" },
    },
    strict: true,
    allowPositionals: false,
  });
  if (!values.transactions) throw new InputError("missing --transactions <csv>");
  const calibrationEndText = values["calibration-end"];
  if (!calibrationEndText) throw new InputError("missing --calibration-end <YYYY-MM-DD>");
  const calibrationEnd = parseDate(calibrationEndText);
  if (!calibrationEnd) throw new InputError(`invalid --calibration-end "${calibrationEndText}" (expected YYYY-MM-DD)`);
  const penalizer = Number(values.penalizer);
  if (!(penalizer >= 0) || !Number.isFinite(penalizer)) {
    throw new InputError(`invalid --penalizer "${values.penalizer}" (expected a non-negative number)`);
  }
  const modelChoices = [...PURCHASE_MODEL_NAMES, "auto"];
  if (!modelChoices.includes(values.model)) {
    throw new InputError(`invalid --model "${values.model}" (expected ${modelChoices.join(", ")})`);
  }
  const model = values.model as PurchaseModelName | "auto";
  const holdoutEndText = values["holdout-end"];
  const holdoutEnd = holdoutEndText === undefined ? undefined : parseDate(holdoutEndText);
  if (holdoutEndText !== undefined && !holdoutEnd) {
    throw new InputError(`invalid --holdout-end "${holdoutEndText}" (expected YYYY-MM-DD)`);
  }
  if (holdoutEnd && holdoutEnd <= calibrationEnd) {
    throw new InputError(`--holdout-end ${holdoutEndText} must be after --calibration-end ${calibrationEndText}`);
  }
  if (model === "auto" && !holdoutEnd) throw new InputError("--model auto needs --holdout-end to compare the models");
  return { file: values.transactions, calibrationEnd, holdoutEnd, penalizer, model };
}

function main(): void {
  const { file, calibrationEnd, holdoutEnd, penalizer, model } = parseOptions();
  const transactions = readTransactions(file);
  const summaries = summarizeTransactions(transactions, calibrationEnd, { timeUnitDays: 7 });
  if (summaries.length === 0) throw new InputError(`${file}: no transactions on or before the calibration end`);
  process.stderr.write(`clv-fit: ${transactions.length} transactions, ${summaries.length} customers\n`);

  const repeatCustomers = summaries.filter((s) => s.frequency > 0 && s.monetaryValue > 0).length;
  if (repeatCustomers === 0) throw new InputError(`${file}: no repeat purchases in the calibration period`);

  const started = Date.now();
  let purchases: PurchaseModelFit;
  let holdout: Record<string, number> = {};
  if (holdoutEnd) {
    const data = splitAtCalibrationEnd(transactions, calibrationEnd, holdoutEnd, { timeUnitDays: 7 });
    const names = model === "auto" ? PURCHASE_MODEL_NAMES : [model];
    const { backtests, failures } = backtestModels(data, names, penalizer);
    const best = backtests[0];
    if (!best) throw new Error(`no model could be checked on the holdout: ${failures.join("; ")}`);
    purchases = best.fit;
    holdout = {
      holdout_weeks: data.days / 7,
      holdout_actual: best.figures.actual,
      holdout_predicted: best.figures.predicted,
      holdout_error: best.figures.relativeError,
    };
  } else {
    purchases = fitPurchaseModel(model as PurchaseModelName, summaries, { penalizer });
  }
  const gammaGamma = fitGammaGamma(summaries, { penalizer });
  process.stderr.write(`clv-fit: fitted in ${Date.now() - started} ms (${repeatCustomers} repeat customers)\n`);

  const result = {
    model: purchases.model,
    customers: summaries.length,
    ...purchases.parameters,
    log_likelihood: purchases.logLikelihood,
    p: gammaGamma.p,
    q: gammaGamma.q,
    gamma: gammaGamma.gamma,
    ...holdout,
  };
  const numbers = Object.values(result).filter((value) => typeof value !== "string");
  if (!numbers.every(Number.isFinite)) throw new Error(`fit did not converge: ${JSON.stringify(result)}`);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

try {
  main();
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`clv-fit: ${message.split("\n")[0]}\n`);
  process.exitCode = 1;
}
