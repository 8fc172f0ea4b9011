/**
 * Shopify's segment query language as API 2026-10 defines it, the part a
 * segment is built from here: clauses `attribute operator value` joined by
 * AND / OR and grouped in parentheses; functions written
 * `products_purchased MATCHES (id = 123, date > -30d)` or `NOT MATCHES`
 * (2026-10 replaced `products_purchased(id: 123) = true`); dates as
 * YYYY-MM-DD, offsets such as -90d, -4w, -12m, or today / yesterday (the
 * named dates 7_days_ago, 30_days_ago, 90_days_ago and 12_months_ago are
 * deprecated and refused here). Segments are validated, not evaluated.
 */

type Kind = "tags" | "number" | "text" | "date";

const ATTRIBUTES: Record<string, Kind> = {
  customer_tags: "tags",
  number_of_orders: "number",
  amount_spent: "number",
  predicted_spend_tier: "text",
  email_subscription_status: "text",
  sms_subscription_status: "text",
  customer_email_domain: "text",
  customer_countries: "text",
  customer_cities: "text",
  last_order_date: "date",
  first_order_date: "date",
  customer_added_date: "date",
  abandoned_checkout_date: "date",
};

const FUNCTIONS = new Set([
  "products_purchased",
  "orders_placed",
  "shopify_email.opened",
  "shopify_email.clicked",
  "shopify_email.delivered",
  "shopify_email.bounced",
  "shopify_email.marked_as_spam",
  "shopify_email.unsubscribed",
  "storefront.product_viewed",
  "storefront.collection_viewed",
]);

const DEPRECATED_NAMED_DATES: Record<string, string> = {
  "7_days_ago": "-7d",
  "30_days_ago": "-30d",
  "90_days_ago": "-90d",
  "12_months_ago": "-12m",
};

const TOKEN =
  /\s*('(?:[^'\\]|\\.)*'|<=|>=|!=|[=<>(),:]|\d{4}-\d{2}-\d{2}|\d+_[a-z_]+|[A-Za-z_][\w.]*|-?\d+(?:\.\d+)?[dwmy]?)/y;

function tokenize(query: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < query.length) {
    if (/^\s*$/.test(query.slice(TOKEN.lastIndex))) break;
    const start = TOKEN.lastIndex;
    const match = TOKEN.exec(query);
    if (!match) throw new SegmentQueryError(`unexpected text at ${start}: ${query.slice(start, start + 20)}`);
    tokens.push(match[1]!);
  }
  return tokens;
}

export class SegmentQueryError extends Error {}

const COMPARISONS = new Set(["=", "!=", "<", "<=", ">", ">="]);
const isText = (token: string | undefined) => Boolean(token && /^'.*'$/.test(token));
const isNumber = (token: string | undefined) => Boolean(token && /^-?\d+(\.\d+)?$/.test(token));

function checkDate(token: string | undefined) {
  if (!token) throw new SegmentQueryError("a date is missing");
  const named = DEPRECATED_NAMED_DATES[token];
  if (named) throw new SegmentQueryError(`the named date ${token} is deprecated in 2026-10; use the offset ${named}`);
  if (/^\d{4}-\d{2}-\d{2}$/.test(token) || /^-\d+[dwmy]$/.test(token) || token === "today" || token === "yesterday")
    return;
  throw new SegmentQueryError(`${token} is not a date (YYYY-MM-DD, an offset such as -30d, today or yesterday)`);
}

class Parser {
  private at = 0;
  constructor(private readonly tokens: string[]) {}

  private peek(offset = 0) {
    return this.tokens[this.at + offset];
  }
  private next() {
    return this.tokens[this.at++];
  }
  private keyword(word: string) {
    if (this.peek()?.toUpperCase() !== word) return false;
    this.at++;
    return true;
  }
  private expect(token: string) {
    const found = this.next();
    if (found !== token) throw new SegmentQueryError(`expected ${token}, found ${found ?? "the end"}`);
  }

  parse() {
    this.expression();
    if (this.at < this.tokens.length) throw new SegmentQueryError(`unexpected ${this.peek()}`);
  }

  private expression() {
    this.term();
    while (this.keyword("AND") || this.keyword("OR")) this.term();
  }

  private term() {
    if (this.peek() === "(") {
      this.next();
      this.expression();
      this.expect(")");
      return;
    }
    const name = this.next();
    if (!name || !/^[a-z_][\w.]*$/i.test(name))
      throw new SegmentQueryError(`expected an attribute, found ${name ?? "the end"}`);
    if (FUNCTIONS.has(name)) return this.functionCall(name);
    const kind = ATTRIBUTES[name];
    if (!kind) throw new SegmentQueryError(`unknown attribute ${name}`);
    if (this.keyword("IS")) {
      this.keyword("NOT");
      if (!this.keyword("NULL")) throw new SegmentQueryError(`expected NULL after IS`);
      return;
    }
    if (kind === "tags") {
      this.keyword("NOT");
      if (!this.keyword("CONTAINS")) throw new SegmentQueryError(`${name} takes CONTAINS or NOT CONTAINS`);
      if (!isText(this.next())) throw new SegmentQueryError(`${name} CONTAINS takes a quoted tag`);
      return;
    }
    this.comparison(name, kind);
  }

  private value(name: string, kind: Kind) {
    const token = this.next();
    if (kind === "date") return checkDate(token);
    if (kind === "number" && !isNumber(token)) throw new SegmentQueryError(`${name} compares with a number`);
    if (kind === "text" && !isText(token)) throw new SegmentQueryError(`${name} compares with a quoted value`);
  }

  private comparison(name: string, kind: Kind) {
    if (this.keyword("BETWEEN")) {
      this.value(name, kind);
      if (!this.keyword("AND")) throw new SegmentQueryError("BETWEEN takes two values joined by AND");
      this.value(name, kind);
      return;
    }
    const operator = this.next();
    if (!operator || !COMPARISONS.has(operator)) throw new SegmentQueryError(`expected a comparison after ${name}`);
    this.value(name, kind);
  }

  private functionCall(name: string) {
    if (this.peek() === "(")
      throw new SegmentQueryError(
        `functions take MATCHES in 2026-10: write ${name} MATCHES (...) instead of ${name}(...) = true`,
      );
    this.keyword("NOT");
    if (!this.keyword("MATCHES")) throw new SegmentQueryError(`${name} takes MATCHES (...) or NOT MATCHES (...)`);
    this.expect("(");
    if (this.peek() === ")") return void this.next();
    for (;;) {
      const parameter = this.next();
      if (!parameter || !/^[a-z_]+$/i.test(parameter)) throw new SegmentQueryError(`expected a parameter of ${name}`);
      const operator = this.next();
      if (!operator || !COMPARISONS.has(operator))
        throw new SegmentQueryError(`expected a comparison after ${parameter}`);
      this.parameterValue(parameter);
      if (this.peek() === ",") this.next();
      else break;
    }
    this.expect(")");
  }

  private parameterValue(parameter: string) {
    if (this.peek() === "(") {
      this.next();
      do this.parameterValue(parameter);
      while (this.peek() === "," && this.next());
      this.expect(")");
      return;
    }
    const token = this.next();
    if (/date$/.test(parameter)) return checkDate(token);
    if (!isText(token) && !isNumber(token))
      throw new SegmentQueryError(`${parameter} takes a number or a quoted value`);
  }
}

/** Undefined when the query is valid in 2026-10; otherwise why not. */
export function segmentQueryProblem(query: string): string | undefined {
  try {
    const tokens = tokenize(query);
    if (tokens.length === 0) return "the query is empty";
    new Parser(tokens).parse();
    return undefined;
  } catch (error) {
    if (error instanceof SegmentQueryError) return error.message;
    throw error;
  }
}
