import {
  buildSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLSchema,
} from 'graphql';

/**
 * What the composed API schema offers, so each workload asks for the fields that exist today (SLA due time, risk,
 * known-error matches and the change calendar land while the benchmark is being written) and says what it left out.
 */
export class SchemaInfo {
  readonly schema: GraphQLSchema;

  constructor(readonly apiSdl: string) {
    this.schema = buildSchema(apiSdl);
  }

  field(type: string, name: string): GraphQLField<unknown, unknown> | undefined {
    const t = this.schema.getType(type);
    return isObjectType(t) ? t.getFields()[name] : undefined;
  }

  has(type: string, name: string): boolean {
    return this.field(type, name) !== undefined;
  }

  /** The first of `names` that `type` has. */
  pick(type: string, names: readonly string[]): string | undefined {
    return names.find((n) => this.has(type, n));
  }

  inputHas(type: string, name: string): boolean {
    const t = this.schema.getType(type);
    return isInputObjectType(t) && name in t.getFields();
  }

  /** Fields of `type` whose arguments are all optional. */
  private plainFields(type: string): GraphQLField<unknown, unknown>[] {
    const t = this.schema.getType(type);
    if (!isObjectType(t)) return [];
    return Object.values(t.getFields()).filter((f) => f.args.every((a) => !isNonNullType(a.type) || a.defaultValue !== undefined));
  }

  /** A selection of a field: its name, and for an object its scalar fields (and those of nested objects to `depth`). */
  select(type: string, name: string, depth = 1, skip: readonly string[] = []): string {
    const field = this.field(type, name);
    if (!field) throw new Error(`${type}.${name} does not exist`);
    const named = getNamedType(field.type);
    if (isScalarType(named) || isEnumType(named)) return name;
    return `${name} { ${this.leaves(named.name, depth, skip)} }`;
  }

  /** Scalar and enum fields of an object type, with nested objects down to `depth` more levels. */
  leaves(type: string, depth = 0, skip: readonly string[] = []): string {
    const parts: string[] = [];
    for (const f of this.plainFields(type)) {
      if (skip.includes(f.name)) continue;
      const named = getNamedType(f.type);
      if (isScalarType(named) || isEnumType(named)) parts.push(f.name);
      else if (depth > 0 && isObjectType(named) && !isEntity(named.name)) {
        const inner = this.leaves(named.name, depth - 1, skip);
        if (inner) parts.push(`${f.name} { ${inner} }`);
      }
    }
    return parts.join(' ');
  }

  /** Names of the arguments of a field. */
  args(type: string, name: string): string[] {
    return this.field(type, name)?.args.map((a) => a.name) ?? [];
  }
}

/** Entities owned elsewhere are never expanded by `leaves`: a workload names its cross-subgraph hops itself. */
function isEntity(type: string): boolean {
  return ['Incident', 'Problem', 'ChangeRequest'].includes(type);
}
