import {
  getNamedType,
  getNullableType,
  getOperationAST,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  valueFromASTUntyped,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { DEFAULT_PAGE_SIZE, graphqlError } from '@itsm/kit';

/** List fields without a `first` argument are assumed to hold this many items. */
export const ASSUMED_LIST_SIZE = DEFAULT_PAGE_SIZE;

/** Past this many selected fields (fragments expanded) measuring stops: the operation is too costly whatever it is. */
export const MAX_MEASURED_FIELDS = 50_000;

/** What an operation asks for, measured statically before anything runs. */
export interface OperationMeasures {
  /** Longest chain of nested fields; `{ incidents { totalCount } }` is 2. */
  depth: number;
  /** Aliased fields, counted once per place a fragment is spread. */
  aliases: number;
  /** Estimated cost, see README.md: each field 1 (`__typename` free), times the sizes of the lists it is in. */
  cost: number;
  /** Whether `__schema` or `__type` is selected. */
  introspection: boolean;
  /** False when measuring stopped at MAX_MEASURED_FIELDS. */
  complete: boolean;
}

/**
 * Measures the operation named `operationName` (or the only one) of a document against the API schema; undefined
 * when the document has no such operation (validation refuses it anyway). Fragment cycles are not followed.
 */
export function measureOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  options: { operationName?: string | null; variables?: Record<string, unknown> | null } = {},
): OperationMeasures | undefined {
  const operation = getOperationAST(document, options.operationName ?? undefined);
  if (!operation) return undefined;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const variables: Record<string, unknown> = {};
  for (const definition of operation.variableDefinitions ?? []) {
    if (definition.defaultValue) variables[definition.variable.name.value] = valueFromASTUntyped(definition.defaultValue);
  }
  Object.assign(variables, options.variables ?? {});

  /** The deepest an introspection selection may nest, root field included. */
  const MAX_INTROSPECTION_DEPTH = 20;
  const measures: OperationMeasures = { depth: 0, aliases: 0, cost: 0, introspection: false, complete: true };
  let fields = 0;

  /** The page size a field asks for: its `first` (the default page size when omitted), undefined without the argument. */
  const pageSizeOf = (field: FieldNode, definition: GraphQLField<unknown, unknown>): number | undefined => {
    if (!definition.args.some((a) => a.name === 'first')) return undefined;
    const argument = field.arguments?.find((a) => a.name.value === 'first');
    const value = argument ? valueFromASTUntyped(argument.value, variables) : undefined;
    return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : DEFAULT_PAGE_SIZE;
  };

  /** How many field levels a selection set nests, fragments followed once. */
  const nesting = (selectionSet: SelectionSetNode, spread: Set<string>): number => {
    let deepest = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) deepest = Math.max(deepest, 1 + (selection.selectionSet ? nesting(selection.selectionSet, spread) : 0));
      else if (selection.kind === Kind.INLINE_FRAGMENT) deepest = Math.max(deepest, nesting(selection.selectionSet, spread));
      else {
        const fragment = fragments.get(selection.name.value);
        if (!fragment || spread.has(selection.name.value)) continue;
        spread.add(selection.name.value);
        deepest = Math.max(deepest, nesting(fragment.selectionSet, spread));
        spread.delete(selection.name.value);
      }
    }
    return deepest;
  };

  /**
   * `multiplier`: how many times this selection runs. `pageSize`: set inside a paginated object (a connection), the
   * size of the lists directly in it (its edges), which its `totalCount` and `pageInfo` do not get.
   */
  const visit = (
    selectionSet: SelectionSetNode,
    parent: GraphQLNamedType | undefined,
    depth: number,
    multiplier: number,
    pageSize: number | undefined,
    spread: Set<string>,
  ): void => {
    for (const selection of selectionSet.selections) {
      if (!measures.complete) return;
      if (selection.kind === Kind.FIELD) {
        if (++fields > MAX_MEASURED_FIELDS) {
          measures.complete = false;
          return;
        }
        const name = selection.name.value;
        if (selection.alias) measures.aliases++;
        measures.depth = Math.max(measures.depth, depth);
        if (name === '__schema' || name === '__type') {
          // Tools' introspection query nests type references ~15 deep; it is bounded by the schema, so it has its own cap.
          measures.introspection = true;
          if (selection.selectionSet && depth + nesting(selection.selectionSet, new Set()) > MAX_INTROSPECTION_DEPTH) {
            measures.depth = Math.max(measures.depth, MAX_INTROSPECTION_DEPTH + 1);
          }
          measures.cost += multiplier;
          continue;
        }
        if (name === '__typename') continue;
        measures.cost += multiplier;
        if (!selection.selectionSet) continue;
        const definition = parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[name] : undefined;
        const type = definition ? getNamedType(definition.type) : undefined;
        const first = definition ? pageSizeOf(selection, definition) : undefined;
        if (definition && isListType(getNullableType(definition.type))) {
          visit(selection.selectionSet, type, depth + 1, multiplier * (first ?? pageSize ?? ASSUMED_LIST_SIZE), undefined, spread);
        } else {
          visit(selection.selectionSet, type, depth + 1, multiplier, first, spread);
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        visit(selection.selectionSet, type ?? undefined, depth, multiplier, pageSize, spread);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment || spread.has(name)) continue;
        spread.add(name);
        visit(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value) ?? undefined, depth, multiplier, pageSize, spread);
        spread.delete(name);
      }
    }
  };
  visit(operation.selectionSet, schema.getRootType(operation.operation) ?? undefined, 1, 1, undefined, new Set());
  return measures;
}

/** The static limits an operation must stay within. */
export interface OperationLimitSettings {
  maxQueryDepth: number;
  maxAliases: number;
  maxQueryCost: number;
  introspection: boolean;
}

/** Throws the GraphQL error (with its code and HTTP status) of the first limit the operation breaks. */
export function enforceOperationLimits(measures: OperationMeasures, settings: OperationLimitSettings): void {
  if (measures.introspection && !settings.introspection) {
    throw graphqlError('INTROSPECTION_DISABLED', 'introspection (__schema, __type) is disabled in production; use the published schema');
  }
  if (measures.depth > settings.maxQueryDepth) {
    throw graphqlError('QUERY_TOO_DEEP', `the query nests ${measures.depth} fields deep; the maximum is ${settings.maxQueryDepth}`, {
      depth: measures.depth,
      maxDepth: settings.maxQueryDepth,
    });
  }
  if (measures.aliases > settings.maxAliases) {
    throw graphqlError('TOO_MANY_ALIASES', `the query uses ${measures.aliases} aliases; the maximum is ${settings.maxAliases}`, {
      aliases: measures.aliases,
      maxAliases: settings.maxAliases,
    });
  }
  if (!measures.complete) {
    throw graphqlError('QUERY_TOO_COSTLY', `the query selects more than ${MAX_MEASURED_FIELDS} fields once its fragments are expanded`, {
      maxCost: settings.maxQueryCost,
    });
  }
  if (measures.cost > settings.maxQueryCost) {
    throw graphqlError(
      'QUERY_TOO_COSTLY',
      `the query's estimated cost is ${measures.cost}; the maximum is ${settings.maxQueryCost} (ask for smaller pages with first:, or fewer nested lists)`,
      { cost: measures.cost, maxCost: settings.maxQueryCost },
    );
  }
}
