/**
 * Shopify's segment query language (the WHERE part of ShopifyQL that
 * segments and customerSegmentMembers take), the subset the simulator
 * evaluates: conditions joined by AND / OR (AND binds tighter), NOT and
 * parentheses, over
 *   customer_tags [NOT] CONTAINS 'tag'
 *   number_of_orders / amount_spent  =, !=, <, <=, >, >= a number, or BETWEEN a AND b
 *   email_subscription_status = / != 'SUBSCRIBED'
 *   metafields.<namespace>.<key>  with the operators of the definition's type:
 *     numbers  =, !=, <, <=, >, >=, BETWEEN;  text  =, != 'value';  true/false  =, != true|false;
 *     dates  =, <, <=, >, >=, BETWEEN with 2026-12-01, today, yesterday, -30d / +14d
 *     (and the deprecated 30_days_ago);  any type  IS NULL, IS NOT NULL.
 * A metafield can be filtered only when a customer definition of a
 * filterable type exists for it, as in Shopify's segment editor.
 */

export class SegmentQueryError extends Error {}

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

type Predicate = (customer: SegmentCustomer) => boolean;

interface Token {
  kind: "string" | "word" | "op" | "paren";
  text: string;
}

const TOKEN = /\s*(?:'((?:[^'\\]|\\.)*)'|(<=|>=|!=|=|<|>)|([()])|([A-Za-z0-9_.\-+:$]+))/y;

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  let position = 0;
  while (position < query.length) {
    if (/^\s*$/.test(query.slice(position))) break;
    TOKEN.lastIndex = position;
    const match = TOKEN.exec(query);
    if (!match)
      throw new SegmentQueryError(
        `Unexpected character at position ${position}: ${query.slice(position, position + 10)}`,
      );
    position = TOKEN.lastIndex;
    if (match[1] !== undefined) tokens.push({ kind: "string", text: match[1].replace(/\\(.)/g, "$1") });
    else if (match[2]) tokens.push({ kind: "op", text: match[2] });
    else if (match[3]) tokens.push({ kind: "paren", text: match[3] });
    else tokens.push({ kind: "word", text: match[4]! });
  }
  return tokens;
}

const COMPARISONS = ["=", "!=", "<", "<=", ">", ">="];
const FILTERABLE_CATEGORY: Record<string, "number" | "text" | "boolean" | "date"> = {
  number_decimal: "number",
  number_integer: "number",
  single_line_text_field: "text",
  boolean: "boolean",
  date: "date",
  date_time: "date",
};

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

class Parser {
  private index = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly context: SegmentQueryContext,
  ) {}

  private peek() {
    return this.tokens[this.index];
  }

  private next(): Token {
    const token = this.tokens[this.index++];
    if (!token) throw new SegmentQueryError("Query ended unexpectedly.");
    return token;
  }

  private keyword(word: string) {
    const token = this.peek();
    if (token?.kind === "word" && token.text.toUpperCase() === word) {
      this.index++;
      return true;
    }
    return false;
  }

  parse(): Predicate {
    if (this.tokens.length === 0) throw new SegmentQueryError("Query can't be blank.");
    const predicate = this.or();
    const rest = this.peek();
    if (rest) throw new SegmentQueryError(`Unexpected '${rest.text}'.`);
    return predicate;
  }

  private or(): Predicate {
    const parts = [this.and()];
    while (this.keyword("OR")) parts.push(this.and());
    return parts.length === 1 ? parts[0]! : (c) => parts.some((p) => p(c));
  }

  private and(): Predicate {
    const parts = [this.unary()];
    while (this.keyword("AND")) parts.push(this.unary());
    return parts.length === 1 ? parts[0]! : (c) => parts.every((p) => p(c));
  }

  private unary(): Predicate {
    if (this.keyword("NOT")) {
      const inner = this.unary();
      return (c) => !inner(c);
    }
    const token = this.peek();
    if (token?.kind === "paren" && token.text === "(") {
      this.index++;
      const inner = this.or();
      const close = this.next();
      if (close.text !== ")") throw new SegmentQueryError("Missing ')'.");
      return inner;
    }
    return this.condition();
  }

  private string(): string {
    const token = this.next();
    if (token.kind !== "string") throw new SegmentQueryError(`Expected a quoted value, got '${token.text}'.`);
    return token.text;
  }

  private number(): number {
    const token = this.next();
    const value = Number(token.text);
    if (token.kind !== "word" || !/^[-+]?\d+(\.\d+)?$/.test(token.text) || Number.isNaN(value))
      throw new SegmentQueryError(`Expected a number, got '${token.text}'.`);
    return value;
  }

  private comparison(allowed = COMPARISONS): string {
    const token = this.next();
    if (token.kind !== "op" || !allowed.includes(token.text))
      throw new SegmentQueryError(`Operator '${token.text}' is not valid here.`);
    return token.text;
  }

  private date(): string {
    const token = this.next();
    const text = token.text.toLowerCase();
    if (/^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(new Date(`${text}T00:00:00Z`).getTime())) return text;
    if (token.kind === "word") {
      if (text === "today") return this.context.today;
      if (text === "yesterday") return addDays(this.context.today, -1);
      if (text === "tomorrow") return addDays(this.context.today, 1);
      const offset = /^([-+])(\d+)([dwmy])$/.exec(text);
      if (offset) {
        const days = Number(offset[2]) * { d: 1, w: 7, m: 30, y: 365 }[offset[3] as "d" | "w" | "m" | "y"];
        return addDays(this.context.today, offset[1] === "-" ? -days : days);
      }
      const named = /^(\d+)_(day|week|month|year)s?_ago$/.exec(text);
      if (named) {
        const days = Number(named[1]) * { day: 1, week: 7, month: 30, year: 365 }[named[2] as "day"];
        return addDays(this.context.today, -days);
      }
    }
    throw new SegmentQueryError(`Expected a date, got '${token.text}'.`);
  }

  /** `op value` or `BETWEEN a AND b`, as a test of one value. */
  private range<T extends number | string>(read: () => T, operators = COMPARISONS): (value: T) => boolean {
    if (this.keyword("BETWEEN")) {
      const low = read();
      if (!this.keyword("AND")) throw new SegmentQueryError("BETWEEN needs AND.");
      const high = read();
      return (value) => value >= low && value <= high;
    }
    const op = this.comparison(operators);
    const target = read();
    return (value) => compare(value, op, target);
  }

  private condition(): Predicate {
    const token = this.next();
    if (token.kind !== "word") throw new SegmentQueryError(`Unexpected '${token.text}'.`);
    const attribute = token.text.toLowerCase();
    if (attribute === "customer_tags") {
      const negated = this.keyword("NOT");
      if (!this.keyword("CONTAINS")) throw new SegmentQueryError("customer_tags takes CONTAINS or NOT CONTAINS.");
      const tag = this.string().toLowerCase();
      return (c) => c.tags.some((t) => t.toLowerCase() === tag) !== negated;
    }
    if (attribute === "number_of_orders") {
      const test = this.range(() => this.number());
      return (c) => test(c.numberOfOrders);
    }
    if (attribute === "amount_spent") {
      const test = this.range(() => this.number());
      return (c) => test(c.amountSpent);
    }
    if (attribute === "email_subscription_status") {
      const op = this.comparison(["=", "!="]);
      const status = this.string().toUpperCase();
      return (c) => compare(c.emailSubscriptionStatus.toUpperCase(), op, status);
    }
    if (attribute.startsWith("metafields.")) return this.metafieldCondition(token.text);
    throw new SegmentQueryError(`'${token.text}' is not a valid attribute.`);
  }

  private metafieldCondition(path: string): Predicate {
    const parts = path.split(".");
    if (parts.length !== 3 || !parts[1] || !parts[2])
      throw new SegmentQueryError(`'${path}' must be metafields.<namespace>.<key>.`);
    const [, namespace, key] = parts as [string, string, string];
    const type = this.context.metafieldType(namespace, key);
    if (!type) throw new SegmentQueryError(`'${path}' is not a valid attribute: no customer metafield definition.`);
    const category = FILTERABLE_CATEGORY[type];
    if (!category) throw new SegmentQueryError(`Metafields of type ${type} cannot be used in segments.`);
    const read = (c: SegmentCustomer) => c.metafield(namespace, key);
    if (this.keyword("IS")) {
      const negated = this.keyword("NOT");
      if (!this.keyword("NULL")) throw new SegmentQueryError("IS takes NULL or NOT NULL.");
      return (c) => (read(c) === undefined) !== negated;
    }
    switch (category) {
      case "number": {
        const test = this.range(() => this.number());
        return (c) => {
          const stored = read(c);
          return stored !== undefined && test(Number(stored.value));
        };
      }
      case "text": {
        const op = this.comparison(["=", "!="]);
        const target = this.string();
        return (c) => {
          const stored = read(c);
          return stored !== undefined && compare(stored.value, op, target);
        };
      }
      case "boolean": {
        const op = this.comparison(["=", "!="]);
        const word = this.next().text.toLowerCase();
        if (word !== "true" && word !== "false") throw new SegmentQueryError("Expected true or false.");
        return (c) => {
          const stored = read(c);
          return stored !== undefined && compare(stored.value, op, word);
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
}

/** Parses a segment query; throws SegmentQueryError with Shopify-like words when it is invalid. */
export function compileSegmentQuery(query: string, context: SegmentQueryContext): Predicate {
  return new Parser(tokenize(query.trim()), context).parse();
}
