import {
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLNamedType,
  type GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isNonNullType,
  isObjectType,
  isUnionType,
  NoDeprecatedCustomRule,
  parse,
  specifiedRules,
  validate,
} from "graphql";

/**
 * The two checks that hold the app and the simulator to Shopify's schema:
 * every document the app sends is valid there and uses nothing deprecated,
 * and every type, field, argument and enum value the simulator declares
 * exists there alike.
 */

/** What is wrong with a document against the schema: unknown fields, wrong arguments or enum values, deprecated use. */
export function documentProblems(schema: GraphQLSchema, source: string): string[] {
  let document;
  try {
    document = parse(source);
  } catch (error) {
    return [(error as Error).message];
  }
  return validate(schema, document, [...specifiedRules, NoDeprecatedCustomRule]).map((error) => error.message);
}

function kindOf(type: GraphQLNamedType) {
  if (isObjectType(type)) return "object";
  if (isInterfaceType(type)) return "interface";
  if (isUnionType(type)) return "union";
  if (isEnumType(type)) return "enum";
  if (isInputObjectType(type)) return "input";
  return "scalar";
}

const printDefault = (value: unknown) => (value === undefined ? "none" : JSON.stringify(value));

function argumentDrift(where: string, declared: readonly GraphQLArgument[], real: readonly GraphQLArgument[]) {
  const problems: string[] = [];
  const byName = new Map(real.map((argument) => [argument.name, argument]));
  for (const argument of declared) {
    const other = byName.get(argument.name);
    if (!other) problems.push(`${where}(${argument.name}:) is not in Shopify's schema`);
    else if (String(argument.type) !== String(other.type))
      problems.push(`${where}(${argument.name}:) is ${argument.type}; Shopify has ${other.type}`);
    else if (printDefault(argument.defaultValue) !== printDefault(other.defaultValue))
      problems.push(
        `${where}(${argument.name}:) defaults to ${printDefault(argument.defaultValue)}; Shopify to ${printDefault(other.defaultValue)}`,
      );
  }
  for (const other of real) {
    const required = isNonNullType(other.type) && other.defaultValue === undefined;
    if (required && !declared.some((argument) => argument.name === other.name))
      problems.push(`${where} lacks Shopify's required argument ${other.name}: ${other.type}`);
  }
  return problems;
}

function fieldDrift(
  typeName: string,
  declared: GraphQLField<unknown, unknown> | GraphQLInputField,
  real: GraphQLField<unknown, unknown> | GraphQLInputField | undefined,
) {
  const where = `${typeName}.${declared.name}`;
  if (!real) return [`${where} is not in Shopify's schema`];
  const problems: string[] = [];
  if (String(declared.type) !== String(real.type))
    problems.push(`${where} is ${declared.type}; Shopify has ${real.type}`);
  if (Boolean(declared.deprecationReason) !== Boolean(real.deprecationReason))
    problems.push(
      real.deprecationReason
        ? `${where} is deprecated in Shopify ("${real.deprecationReason}") but not in the simulator`
        : `${where} is deprecated in the simulator but not in Shopify`,
    );
  if ("args" in declared && "args" in real) problems.push(...argumentDrift(where, declared.args, real.args));
  return problems;
}

/**
 * Everything `declared` (the simulator's schema) says that `real` (Shopify's)
 * does not say alike. Root types are matched by role (the simulator's Query
 * is Shopify's QueryRoot).
 */
export function schemaDrift(declared: GraphQLSchema, real: GraphQLSchema): string[] {
  const roots = new Map<string, string | undefined>([
    [declared.getQueryType()?.name ?? "", real.getQueryType()?.name],
    [declared.getMutationType()?.name ?? "", real.getMutationType()?.name],
  ]);
  const problems: string[] = [];
  for (const type of Object.values(declared.getTypeMap())) {
    if (type.name.startsWith("__")) continue;
    const other = real.getType(roots.get(type.name) ?? type.name);
    if (!other) {
      problems.push(`type ${type.name} is not in Shopify's schema`);
      continue;
    }
    if (kindOf(type) !== kindOf(other)) {
      problems.push(`${type.name} is ${kindOf(type)} in the simulator; Shopify has ${kindOf(other)}`);
      continue;
    }
    if (isEnumType(type) && isEnumType(other)) {
      for (const value of type.getValues()) {
        const real = other.getValue(value.name);
        if (!real) problems.push(`${type.name}.${value.name} is not a value of Shopify's enum`);
        else if (Boolean(real.deprecationReason) !== Boolean(value.deprecationReason))
          problems.push(
            `${type.name}.${value.name}: deprecated in ${real.deprecationReason ? "Shopify" : "the simulator"} only`,
          );
      }
    }
    if ((isObjectType(type) || isInterfaceType(type)) && (isObjectType(other) || isInterfaceType(other))) {
      const fields = other.getFields();
      for (const field of Object.values(type.getFields()))
        problems.push(...fieldDrift(type.name, field, fields[field.name]));
      const interfaces = new Set(other.getInterfaces().map((item) => item.name));
      for (const item of type.getInterfaces())
        if (!interfaces.has(item.name)) problems.push(`${type.name} implements ${item.name}; Shopify's does not`);
    }
    if (isInputObjectType(type) && isInputObjectType(other)) {
      const fields = other.getFields();
      for (const field of Object.values(type.getFields()))
        problems.push(...fieldDrift(type.name, field, fields[field.name]));
      for (const field of Object.values(fields))
        if (isNonNullType(field.type) && field.defaultValue === undefined && !type.getFields()[field.name])
          problems.push(`${type.name} lacks Shopify's required input field ${field.name}: ${field.type}`);
    }
    if (isUnionType(type) && isUnionType(other)) {
      const members = new Set(other.getTypes().map((member) => member.name));
      for (const member of type.getTypes())
        if (!members.has(member.name)) problems.push(`${member.name} is not a member of Shopify's ${type.name}`);
    }
  }
  return problems;
}
