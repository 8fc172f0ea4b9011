/**
 * Shopify's segment query language as API 2026-10 defines it (the WHERE part
 * of ShopifyQL that segments and customerSegmentMembers take): clauses
 * `attribute operator value` joined by AND / OR (AND binds tighter) and
 * grouped in parentheses; functions written
 * `products_purchased MATCHES (id = 123, date > -30d)` or `NOT MATCHES`
 * (2026-10 replaced `products_purchased(id: 123) = true`); dates as
 * YYYY-MM-DD, offsets such as -90d, -4w, -12m (+14d ahead), or today /
 * yesterday / tomorrow (the named dates 7_days_ago, 30_days_ago, 90_days_ago
 * and 12_months_ago are deprecated and refused here, so the app never writes
 * them).
 *
 * Every query is validated. The simulator evaluates the part it holds data
 * for:
 *   customer_tags [NOT] CONTAINS 'tag'
 *   number_of_orders / amount_spent  =, !=, <, <=, >, >= a number, or BETWEEN a AND b
 *   email_subscription_status = / != 'SUBSCRIBED'
 *   metafields.<namespace>.<key>  with the operators of the definition's type:
 *     numbers  =, !=, <, <=, >, >=, BETWEEN;  text  =, != 'value';
 *     true/false  = / != true|false, IS TRUE, IS FALSE;
 *     dates  =, <, <=, >, >=, BETWEEN;  any type  IS NULL, IS NOT NULL.
 * A metafield can be filtered only when a customer definition of a
 * filterable type exists for it, as in Shopify's segment editor. Other
 * attributes and functions are accepted in segments but not evaluated:
 * compiling them for members throws UnevaluatedSegmentQueryError.
 */

export class SegmentQueryError extends Error {}
/** A valid query the simulator holds no data to evaluate. */
export class UnevaluatedSegmentQueryError extends Error {}

export interface SegmentCustomer {
  tags: string[];
  numberOfOrders: number;
  amountSpent: number;
  emailSubscriptionStatus: string;
  metafield(namespace: string, key: string): { type: string; value: string } | undefined;
}

export interface SegmentQueryContext {
  /** The type of the customer metafield definition, if there is one. */
  metafieldType(namespace: string, key: string): string | undefined;
  /** Today in the time zone relative dates are read in, YYYY-MM-DD. */
  today: string;
  timezone: string;
}

export type SegmentPredicate = (customer: SegmentCustomer) => boolean;

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

const FILTERABLE_CATEGORY: Record<string, "number" | "text" | "boolean" | "date"> = {
  number_decimal: "number",
  number_integer: "number",
  single_line_text_field: "text",
  boolean: "boolean",
  date: "date",
  date_time: "date",
};

/** Metafield namespaces carry dashes (`app--<id>--predictions`), so words may too after their first character. */
const TOKEN =
  /\s*('(?:[^'\\]|\\.)*'|<=|>=|!=|[=<>(),:]|\d{4}-\d{2}-\d{2}|\d+_[a-z_]+|[A-Za-z_][\w.-]*|[-+]?\d+(?:\.\d+)?[dwmy]?)/y;

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

const COMPARISONS = ["=", "!=", "<", "<=", ">", ">="];
const EQUALITY = ["=", "!="];
const isText = (token: string | undefined): token is string => Boolean(token && /^'.*'$/s.test(token));
const isNumber = (token: string | undefined): token is string => Boolean(token && /^[-+]?\d+(\.\d+)?$/.test(token));
const unquote = (token: string) => token.slice(1, -1).replace(/\\(.)/g, "$1");

function compare(a: number | string, op: string, b: number | string): boolean {
  switch (op) {
    case "=":
      return a === b;
    case "!=":
      return a !== b;
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    default:
      return a >= b;
  }
}

function addDays(day: string, days: number) {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

/** A date-time's calendar day in the time zone. */
export function dayIn(timezone: string, instant: Date) {
  return new Intl.DateTimeFormat("en-CA", {
    timeZone: timezone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).format(instant);
}

/** The calendar day a date token names, relative ones read from `today`. */
function resolveDate(token: string | undefined, today: string): string {
  if (!token) throw new SegmentQueryError("a date is missing");
  const text = token.toLowerCase();
  const named = DEPRECATED_NAMED_DATES[text];
  if (named) throw new SegmentQueryError(`the named date ${token} is deprecated in 2026-10; use the offset ${named}`);
  if (/^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(new Date(`${text}T00:00:00Z`).getTime())) return text;
  if (text === "today") return today;
  if (text === "yesterday") return addDays(today, -1);
  if (text === "tomorrow") return addDays(today, 1);
  const offset = /^([-+])(\d+)([dwmy])$/.exec(text);
  if (offset) {
    const days = Number(offset[2]) * { d: 1, w: 7, m: 30, y: 365 }[offset[3] as "d" | "w" | "m" | "y"];
    return addDays(today, offset[1] === "-" ? -days : days);
  }
  throw new SegmentQueryError(`${token} is not a date (YYYY-MM-DD, an offset such as -30d, today or yesterday)`);
}

const NO_METAFIELDS: Omit<SegmentQueryContext, "today"> = { metafieldType: () => undefined, timezone: "UTC" };

class Parser {
  private at = 0;
  /** Attributes and functions the query uses that the simulator cannot evaluate. */
  readonly unevaluated = new Set<string>();

  constructor(
    private readonly tokens: string[],
    private readonly context: SegmentQueryContext,
  ) {}

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
  private notEvaluated(name: string): SegmentPredicate {
    this.unevaluated.add(name);
    return () => false;
  }

  parse(): SegmentPredicate {
    if (this.tokens.length === 0) throw new SegmentQueryError("the query is empty");
    const predicate = this.or();
    if (this.at < this.tokens.length) throw new SegmentQueryError(`unexpected ${this.peek()}`);
    return predicate;
  }

  private or(): SegmentPredicate {
    const parts = [this.and()];
    while (this.keyword("OR")) parts.push(this.and());
    return parts.length === 1 ? parts[0]! : (c) => parts.some((p) => p(c));
  }

  private and(): SegmentPredicate {
    const parts = [this.term()];
    while (this.keyword("AND")) parts.push(this.term());
    return parts.length === 1 ? parts[0]! : (c) => parts.every((p) => p(c));
  }

  private term(): SegmentPredicate {
    if (this.peek() === "(") {
      this.next();
      const inner = this.or();
      this.expect(")");
      return inner;
    }
    const name = this.next();
    if (!name || !/^[a-z_][\w.-]*$/i.test(name))
      throw new SegmentQueryError(`expected an attribute, found ${name ?? "the end"}`);
    if (FUNCTIONS.has(name)) {
      this.functionCall(name);
      return this.notEvaluated(name);
    }
    if (name.toLowerCase().startsWith("metafields.")) return this.metafieldCondition(name);
    const kind = ATTRIBUTES[name];
    if (!kind) throw new SegmentQueryError(`unknown attribute ${name}`);
    if (this.keyword("IS")) {
      this.keyword("NOT");
      if (!this.keyword("NULL")) throw new SegmentQueryError(`expected NULL after IS`);
      return this.notEvaluated(`${name} IS NULL`);
    }
    if (kind === "tags") {
      const negated = this.keyword("NOT");
      if (!this.keyword("CONTAINS")) throw new SegmentQueryError(`${name} takes CONTAINS or NOT CONTAINS`);
      const token = this.next();
      if (!isText(token)) throw new SegmentQueryError(`${name} CONTAINS takes a quoted tag`);
      const tag = unquote(token).toLowerCase();
      return (c) => c.tags.some((t) => t.toLowerCase() === tag) !== negated;
    }
    if (kind === "date") {
      this.range(() => this.date(), COMPARISONS);
      return this.notEvaluated(name);
    }
    if (kind === "number") {
      const test = this.range(() => this.number(name), COMPARISONS);
      if (name === "number_of_orders") return (c) => test(c.numberOfOrders);
      if (name === "amount_spent") return (c) => test(c.amountSpent);
      return this.notEvaluated(name);
    }
    const test = this.range(() => this.text(name), COMPARISONS);
    if (name === "email_subscription_status") return (c) => test(c.emailSubscriptionStatus.toUpperCase());
    return this.notEvaluated(name);
  }

  private number(name: string): number {
    const token = this.next();
    if (!isNumber(token)) throw new SegmentQueryError(`${name} compares with a number`);
    return Number(token);
  }

  private text(name: string): string {
    const token = this.next();
    if (!isText(token)) throw new SegmentQueryError(`${name} compares with a quoted value`);
    return name === "email_subscription_status" ? unquote(token).toUpperCase() : unquote(token);
  }

  private date(): string {
    return resolveDate(this.next(), this.context.today);
  }

  /** `op value` or `BETWEEN a AND b`, as a test of one value. */
  private range<T extends number | string>(read: () => T, operators: string[]): (value: T) => boolean {
    if (this.keyword("BETWEEN")) {
      const low = read();
      if (!this.keyword("AND")) throw new SegmentQueryError("BETWEEN takes two values joined by AND");
      const high = read();
      return (value) => value >= low && value <= high;
    }
    const op = this.next();
    if (!op || !operators.includes(op)) throw new SegmentQueryError(`operator ${op ?? "missing"} is not valid here`);
    const target = read();
    return (value) => compare(value, op, target);
  }

  private metafieldCondition(path: string): SegmentPredicate {
    const parts = path.split(".");
    if (parts.length !== 3 || !parts[1] || !parts[2])
      throw new SegmentQueryError(`${path} must be metafields.<namespace>.<key>`);
    const [, namespace, key] = parts as [string, string, string];
    const type = this.context.metafieldType(namespace, key);
    if (!type) throw new SegmentQueryError(`${path} is not a valid attribute: no customer metafield definition`);
    const category = FILTERABLE_CATEGORY[type];
    if (!category) throw new SegmentQueryError(`metafields of type ${type} cannot be used in segments`);
    const read = (c: SegmentCustomer) => c.metafield(namespace, key);
    if (this.keyword("IS")) {
      const negated = this.keyword("NOT");
      if (
        category === "boolean" &&
        !negated &&
        (this.peek()?.toUpperCase() === "TRUE" || this.peek()?.toUpperCase() === "FALSE")
      ) {
        const word = this.next()!.toLowerCase();
        return (c) => read(c)?.value === word;
      }
      if (!this.keyword("NULL")) throw new SegmentQueryError("IS takes NULL or NOT NULL");
      return (c) => (read(c) === undefined) !== negated;
    }
    switch (category) {
      case "number": {
        const test = this.range(() => this.number(path), COMPARISONS);
        return (c) => {
          const stored = read(c);
          return stored !== undefined && test(Number(stored.value));
        };
      }
      case "text": {
        const test = this.range(() => this.text(path), EQUALITY);
        return (c) => {
          const stored = read(c);
          return stored !== undefined && test(stored.value);
        };
      }
      case "boolean": {
        const test = this.range<string>(() => {
          const word = this.next()?.toLowerCase();
          if (word !== "true" && word !== "false") throw new SegmentQueryError(`${path} compares with true or false`);
          return word;
        }, EQUALITY);
        return (c) => {
          const stored = read(c);
          return stored !== undefined && test(stored.value);
        };
      }
      default: {
        const test = this.range(() => this.date(), ["=", "<", "<=", ">", ">="]);
        const timezone = this.context.timezone;
        return (c) => {
          const stored = read(c);
          if (stored === undefined) return false;
          const day = stored.type === "date" ? stored.value : dayIn(timezone, new Date(stored.value));
          return test(day);
        };
      }
    }
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
      if (!operator || !COMPARISONS.includes(operator))
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
    if (/date$/.test(parameter)) return void resolveDate(token, this.context.today);
    if (!isText(token) && !isNumber(token))
      throw new SegmentQueryError(`${parameter} takes a number or a quoted value`);
  }
}

function parse(query: string, context?: SegmentQueryContext) {
  const parser = new Parser(tokenize(query), context ?? { ...NO_METAFIELDS, today: dayIn("UTC", new Date()) });
  return { predicate: parser.parse(), unevaluated: parser.unevaluated };
}

/**
 * Undefined when the query is valid in 2026-10; otherwise why not. Without a
 * context no metafield has a definition, so metafield filters are refused.
 */
export function segmentQueryProblem(query: string, context?: SegmentQueryContext): string | undefined {
  try {
    parse(query, context);
    return undefined;
  } catch (error) {
    if (error instanceof SegmentQueryError) return error.message;
    throw error;
  }
}

/**
 * The query as a test of one customer. Throws SegmentQueryError when it is
 * invalid, UnevaluatedSegmentQueryError when it is valid but uses attributes
 * or functions the simulator has no data for.
 */
export function compileSegmentQuery(query: string, context: SegmentQueryContext): SegmentPredicate {
  const { predicate, unevaluated } = parse(query, context);
  if (unevaluated.size > 0)
    throw new UnevaluatedSegmentQueryError(`the simulator does not evaluate ${[...unevaluated].join(", ")}`);
  return predicate;
}
