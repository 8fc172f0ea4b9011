import { createHash } from "node:crypto";
import { gid } from "./shop-data";

/**
 * Metafield definitions and values of one simulated shop, with Shopify's
 * rules: namespaces default to (and `$app` / `$app:<suffix>` resolve to) the
 * calling app's reserved namespace `app--<api client id>[--<suffix>]`;
 * values are strings checked against their type (and the definition's
 * validations); `metafieldsSet` takes at most 25 and is atomic; a
 * `compareDigest` must match the stored value's digest (null: must not exist).
 */

export const MAX_METAFIELDS_PER_SET = 25;

type ValueCheck = (value: string) => string | null;

const DECIMAL = /^[-+]?\d{1,13}(\.\d{1,9})?$/;
const INTEGER = /^[-+]?\d+$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/;

function isCalendarDate(value: string) {
  const match = DATE.exec(value);
  if (!match) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

/** The types this simulator stores, with the check Shopify makes of a value and its category. */
export const METAFIELD_TYPES: Record<string, { category: string; check: ValueCheck; validations: string[] }> = {
  number_decimal: {
    category: "NUMBER",
    check: (v) => (DECIMAL.test(v) ? null : "Value must be a decimal number."),
    validations: ["min", "max", "max_precision"],
  },
  number_integer: {
    category: "NUMBER",
    check: (v) => (INTEGER.test(v) && Number.isSafeInteger(Number(v)) ? null : "Value must be an integer."),
    validations: ["min", "max"],
  },
  single_line_text_field: {
    category: "TEXT",
    check: (v) => (/[\r\n]/.test(v) ? "Value must be a single line text string." : null),
    validations: ["min", "max", "regex", "choices"],
  },
  date: {
    category: "DATE_TIME",
    check: (v) => (isCalendarDate(v) ? null : "Value must be in YYYY-MM-DD format."),
    validations: ["min", "max"],
  },
  date_time: {
    category: "DATE_TIME",
    check: (v) =>
      DATE_TIME.test(v) && !Number.isNaN(new Date(v).getTime())
        ? null
        : "Value must be in ISO 8601 date and time format: YYYY-MM-DDTHH:MM:SS.",
    validations: ["min", "max"],
  },
  boolean: {
    category: "TRUE_FALSE",
    check: (v) => (v === "true" || v === "false" ? null : "Value must be true or false."),
    validations: [],
  },
};

export interface StoredDefinition {
  id: string;
  namespace: string;
  key: string;
  name: string;
  description: string | null;
  ownerType: string;
  type: string;
  validations: { name: string; value: string }[];
  access: { admin: string | null; customerAccount: string; storefront: string | null };
}

export interface StoredMetafield {
  id: number;
  ownerId: string;
  namespace: string;
  key: string;
  type: string;
  value: string;
  createdAt: string;
  updatedAt: string;
}

export interface DefinitionInput {
  namespace?: string | null;
  key: string;
  name: string;
  description?: string | null;
  ownerType: string;
  type: string;
  validations?: { name: string; value: string }[] | null;
  access?: { admin?: string | null; customerAccount?: string | null; storefront?: string | null } | null;
}

export interface SetInput {
  ownerId: string;
  namespace?: string | null;
  key: string;
  value: string;
  type?: string | null;
  compareDigest?: string | null;
}

interface UserError {
  field: string[] | null;
  message: string;
  code: string | null;
  elementIndex?: number | null;
}

export function digestOf(value: string) {
  return createHash("sha256").update(value).digest("hex");
}

let definitionCounter = 0;
let metafieldCounter = 0;

export class MetafieldStore {
  private readonly definitions = new Map<string, StoredDefinition>();
  private readonly values = new Map<string, Map<string, StoredMetafield>>();

  /** `appNamespace` is the calling app's reserved namespace, `app--<api client id>`. */
  constructor(readonly appNamespace: string) {}

  resolveNamespace(namespace: string | null | undefined): string {
    if (namespace === null || namespace === undefined || namespace === "$app") return this.appNamespace;
    if (namespace.startsWith("$app:")) return `${this.appNamespace}--${namespace.slice("$app:".length)}`;
    return namespace;
  }

  private isOwnNamespace(namespace: string) {
    return namespace === this.appNamespace || namespace.startsWith(`${this.appNamespace}--`);
  }

  definition(ownerType: string, namespace: string, key: string): StoredDefinition | undefined {
    return this.definitions.get(`${ownerType}/${namespace}/${key}`);
  }

  definitionsOf(ownerType: string, namespace?: string | null, key?: string | null): StoredDefinition[] {
    const resolved = namespace === undefined || namespace === null ? undefined : this.resolveNamespace(namespace);
    return [...this.definitions.values()].filter(
      (d) =>
        d.ownerType === ownerType &&
        (resolved === undefined || d.namespace === resolved) &&
        (key === undefined || key === null || d.key === key),
    );
  }

  createDefinition(input: DefinitionInput): { created?: StoredDefinition; userErrors: UserError[] } {
    const refuse = (field: string, message: string, code: string) => ({
      userErrors: [{ field: ["definition", field], message, code }],
    });
    const namespace = this.resolveNamespace(input.namespace);
    if (namespace.startsWith("app--") && !this.isOwnNamespace(namespace))
      return refuse("namespace", "Namespace is reserved for another app.", "RESERVED_NAMESPACE_KEY");
    const keyProblem = checkIdentifier(input.key, 2, 64);
    if (keyProblem) return refuse("key", `Key ${keyProblem.message}`, keyProblem.code);
    const namespaceProblem = checkIdentifier(namespace, 3, 255);
    if (namespaceProblem) return refuse("namespace", `Namespace ${namespaceProblem.message}`, namespaceProblem.code);
    if (!input.name.trim()) return refuse("name", "Name can't be blank.", "BLANK");
    const type = METAFIELD_TYPES[input.type];
    if (!type) return refuse("type", `Type name ${input.type} is not a valid type.`, "INCLUSION");
    if (input.access?.admin && !this.isOwnNamespace(namespace))
      return refuse(
        "access",
        "Setting admin access is only permitted for metafield definitions in an app-reserved namespace.",
        "ADMIN_ACCESS_INPUT_NOT_ALLOWED",
      );
    const validations = input.validations ?? [];
    for (const [i, validation] of validations.entries()) {
      if (!type.validations.includes(validation.name))
        return {
          userErrors: [
            {
              field: ["definition", "validations", String(i), "name"],
              message: `Validation ${validation.name} is not supported for ${input.type}.`,
              code: "INVALID_OPTION",
            },
          ],
        };
      if (validation.name === "choices" && !isStringArray(validation.value))
        return {
          userErrors: [
            {
              field: ["definition", "validations", String(i), "value"],
              message: "Validation choices must be a JSON array of strings.",
              code: "INVALID_OPTION",
            },
          ],
        };
    }
    if (this.definition(input.ownerType, namespace, input.key))
      return refuse(
        "key",
        `Key is in use for ${titleCase(input.ownerType)} metafields on the '${namespace}' namespace.`,
        "TAKEN",
      );
    const own = this.isOwnNamespace(namespace);
    const created: StoredDefinition = {
      id: gid("MetafieldDefinition", 7_300_000 + ++definitionCounter),
      namespace,
      key: input.key,
      name: input.name,
      description: input.description ?? null,
      ownerType: input.ownerType,
      type: input.type,
      validations: validations.map(({ name, value }) => ({ name, value })),
      access: {
        admin: input.access?.admin ?? (own ? "MERCHANT_READ" : "PUBLIC_READ_WRITE"),
        customerAccount: input.access?.customerAccount ?? "NONE",
        storefront: input.access?.storefront ?? "NONE",
      },
    };
    this.definitions.set(`${created.ownerType}/${namespace}/${created.key}`, created);
    return { created, userErrors: [] };
  }

  /** metafieldsSet: every input is checked first; any error sets nothing. */
  set(
    inputs: SetInput[],
    ownerTypeOf: (ownerId: string) => string | undefined,
  ): { metafields: StoredMetafield[] | null; userErrors: UserError[] } {
    if (inputs.length > MAX_METAFIELDS_PER_SET) {
      return {
        metafields: null,
        userErrors: [
          {
            field: ["metafields"],
            message: `Exceeded the maximum metafields input limit of ${MAX_METAFIELDS_PER_SET}.`,
            code: "LESS_THAN_OR_EQUAL_TO",
            elementIndex: null,
          },
        ],
      };
    }
    const userErrors: UserError[] = [];
    const planned: { input: SetInput; namespace: string; type: string }[] = [];
    inputs.forEach((input, index) => {
      const error = (field: string, message: string, code: string) =>
        userErrors.push({ field: ["metafields", String(index), field], message, code, elementIndex: index });
      const namespace = this.resolveNamespace(input.namespace);
      const ownerType = ownerTypeOf(input.ownerId);
      if (!ownerType) return error("ownerId", "Owner does not exist.", "INVALID");
      // metafieldsSet has no INVALID_CHARACTER code; Shopify reports those as INVALID.
      const setCode = (code: string) => (code === "INVALID_CHARACTER" ? "INVALID" : code);
      const keyProblem = checkIdentifier(input.key, 2, 64);
      if (keyProblem) return error("key", `Key ${keyProblem.message}`, setCode(keyProblem.code));
      const namespaceProblem = checkIdentifier(namespace, 3, 255);
      if (namespaceProblem)
        return error("namespace", `Namespace ${namespaceProblem.message}`, setCode(namespaceProblem.code));
      if (namespace.startsWith("app--") && !this.isOwnNamespace(namespace))
        return error(
          "namespace",
          "Access to this namespace and key on Metafields for this resource type is not allowed.",
          "APP_NOT_AUTHORIZED",
        );
      const definition = this.definition(ownerType, namespace, input.key);
      const type = input.type ?? definition?.type;
      if (!type) return error("type", "Type can't be blank.", "BLANK");
      if (definition && definition.type !== type)
        return error(
          "type",
          `Type '${type}' must be consistent with the definition's type: '${definition.type}'.`,
          "INVALID_TYPE",
        );
      const typeRules = METAFIELD_TYPES[type];
      if (!typeRules) return error("type", `Type ${type} is not a valid type.`, "INVALID_TYPE");
      const problem = typeRules.check(input.value);
      if (problem) return error("value", problem, "INVALID_VALUE");
      const choices = definition?.validations.find((v) => v.name === "choices");
      if (choices && !(JSON.parse(choices.value) as string[]).includes(input.value))
        return error("value", `Value does not exist in provided choices: ${choices.value}.`, "INCLUSION");
      if ("compareDigest" in input && input.compareDigest !== undefined) {
        const stored = this.get(input.ownerId, namespace, input.key);
        const current = stored ? digestOf(stored.value) : null;
        if (current !== input.compareDigest)
          return error(
            "compareDigest",
            "The resource has been updated since it was loaded. Try again with an updated `compareDigest` value.",
            "STALE_OBJECT",
          );
      }
      planned.push({ input, namespace, type });
    });
    if (userErrors.length > 0) return { metafields: null, userErrors };
    const now = new Date().toISOString();
    const written = planned.map(({ input, namespace, type }) => {
      const owned = this.values.get(input.ownerId) ?? new Map<string, StoredMetafield>();
      this.values.set(input.ownerId, owned);
      const existing = owned.get(`${namespace}.${input.key}`);
      const stored: StoredMetafield = existing
        ? { ...existing, type, value: input.value, updatedAt: now }
        : {
            id: 31_000_000 + ++metafieldCounter,
            ownerId: input.ownerId,
            namespace,
            key: input.key,
            type,
            value: input.value,
            createdAt: now,
            updatedAt: now,
          };
      owned.set(`${namespace}.${input.key}`, stored);
      return stored;
    });
    return { metafields: written, userErrors: [] };
  }

  /** metafieldsDelete: a metafield that does not exist is reported as not deleted (null). */
  delete(identifiers: { ownerId: string; namespace: string; key: string }[]) {
    const deletedMetafields = identifiers.map((identifier) => {
      const namespace = this.resolveNamespace(identifier.namespace);
      const owned = this.values.get(identifier.ownerId);
      const removed = owned?.delete(`${namespace}.${identifier.key}`) ?? false;
      return removed ? { ownerId: identifier.ownerId, namespace, key: identifier.key } : null;
    });
    return { deletedMetafields, userErrors: [] };
  }

  get(ownerId: string, namespace: string | null | undefined, key: string): StoredMetafield | undefined {
    return this.values.get(ownerId)?.get(`${this.resolveNamespace(namespace)}.${key}`);
  }

  /** An owner's metafields, filtered by namespace or by `namespace.key` keys as Shopify does. */
  list(ownerId: string, namespace?: string | null, keys?: string[] | null): StoredMetafield[] {
    const all = [...(this.values.get(ownerId)?.values() ?? [])];
    const resolved = namespace === undefined || namespace === null ? undefined : this.resolveNamespace(namespace);
    return all.filter(
      (m) =>
        (resolved === undefined || m.namespace === resolved) &&
        (!keys || keys.some((k) => k === `${m.namespace}.${m.key}` || (resolved && k === m.key))),
    );
  }

  countOf(definition: StoredDefinition) {
    let count = 0;
    for (const owned of this.values.values()) if (owned.has(`${definition.namespace}.${definition.key}`)) count++;
    return count;
  }

  /** The owner's metafield on a customer definition, for segment queries. */
  valueOf(ownerId: string, namespace: string, key: string) {
    return this.values.get(ownerId)?.get(`${namespace}.${key}`);
  }
}

function checkIdentifier(value: string, min: number, max: number): { message: string; code: string } | undefined {
  if (value.length < min) return { message: `is too short (minimum is ${min} characters).`, code: "TOO_SHORT" };
  if (value.length > max) return { message: `is too long (maximum is ${max} characters).`, code: "TOO_LONG" };
  if (!/^[A-Za-z0-9_-]+$/.test(value))
    return { message: "contains one or more invalid characters.", code: "INVALID_CHARACTER" };
  return undefined;
}

function isStringArray(text: string) {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) && parsed.length > 0 && parsed.every((item) => typeof item === "string");
  } catch {
    return false;
  }
}

function titleCase(ownerType: string) {
  return ownerType.charAt(0) + ownerType.slice(1).toLowerCase();
}

/** jsonValue as Shopify gives it: numbers for integers, booleans, strings otherwise (decimals keep their digits). */
export function jsonValueOf(metafield: StoredMetafield): unknown {
  if (metafield.type === "number_integer") return Number(metafield.value);
  if (metafield.type === "boolean") return metafield.value === "true";
  return metafield.value;
}
