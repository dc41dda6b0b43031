import { buildOperationContext } from '@apollo/gateway';
import { operationFromDocument, Supergraph, type Schema } from '@apollo/federation-internals';
import { QueryPlanner, type FetchNode, type PlanNode } from '@apollo/query-planner';
import {
  getNamedType,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  isObjectType,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValueNode,
} from 'graphql';

/** Response name under which the gateway asks the owning subgraph for each event's cursor. */
export const RESUME_CURSOR_ALIAS = 'itsmResumeCursor';
/** Variable through which the gateway sets the subscription's `after` when it (re)opens the primary fetch. */
export const RESUME_AFTER_VARIABLE = 'itsmResumeAfter';

type OperationContext = ReturnType<typeof buildOperationContext>;

/** A client's subscription, validated and planned: what every event of it runs. */
export interface PlannedSubscription {
  /** Identifies the operation (its text and name): equal keys plan and shape alike. */
  key: string;
  /** The variables that can change an event's response: all but the one bound to `after`. */
  variablesKey: string;
  document: DocumentNode;
  operationName: string | undefined;
  /** The client's operation, which shapes every event's response. */
  operationContext: OperationContext;
  /** Coerced variables of the client. */
  variables: Record<string, unknown>;
  /** The fetch opened on the owning subgraph over graphql-ws. */
  primary: FetchNode;
  /** What runs for each event to fetch fields of the other subgraphs. */
  rest: PlanNode | undefined;
  /** Response name of the root field in the primary fetch's data. */
  rootResponseName: string;
  /** The `after` the client asked for; the gateway replaces it by the last cursor it received when it reopens. */
  initialAfter: string | null;
  /** False when the field has no `after`/`cursor` pair: it is reopened from the start. */
  resumable: boolean;
}

/**
 * Validates and plans subscriptions against one supergraph with @apollo/query-planner
 * (`Subscription { primary, rest }`). Built again whenever the gateway loads a new supergraph.
 */
export class SubscriptionPlanner {
  readonly supergraphSdl: string;
  readonly apiSchema: Schema;
  /** The API schema as graphql-js sees it: what clients validate against. */
  readonly schema: GraphQLSchema;
  /** The supergraph schema, which executeQueryPlan needs for entity representations. */
  readonly supergraphSchema: GraphQLSchema;
  private readonly planner: QueryPlanner;
  private readonly plans = new Map<string, { primary: FetchNode; rest: PlanNode | undefined }>();

  constructor(supergraphSdl: string) {
    const supergraph = Supergraph.build(supergraphSdl);
    this.supergraphSdl = supergraphSdl;
    this.apiSchema = supergraph.apiSchema();
    this.schema = this.apiSchema.toGraphQLJSSchema();
    this.supergraphSchema = supergraph.schema.toGraphQLJSSchema();
    this.planner = new QueryPlanner(supergraph);
  }

  /** Parses and validates an operation; GraphQL errors for the client when it is not one. */
  parse(query: string, operationName: string | undefined): { document: DocumentNode; operation: OperationDefinitionNode } | readonly GraphQLError[] {
    let document: DocumentNode;
    try {
      document = parse(query);
    } catch (error) {
      return [coded(error instanceof GraphQLError ? error : new GraphQLError('the query does not parse'), 'GRAPHQL_PARSE_FAILED')];
    }
    const errors = validate(this.schema, document);
    if (errors.length) return errors.map((e) => coded(e, 'GRAPHQL_VALIDATION_FAILED'));
    const operation = getOperationAST(document, operationName);
    if (!operation) {
      return [coded(new GraphQLError(operationName ? `no operation named ${operationName}` : 'send exactly one operation or name one'), 'BAD_REQUEST')];
    }
    return { document, operation };
  }

  /** Plans a validated subscription operation for the given variables. */
  plan(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    rawVariables: Record<string, unknown> | undefined,
  ): PlannedSubscription | readonly GraphQLError[] {
    const coerced = getVariableValues(this.schema, operation.variableDefinitions ?? [], rawVariables ?? {});
    if (coerced.errors) return coerced.errors.map((e) => coded(e, 'BAD_USER_INPUT'));
    const variables = coerced.coerced as Record<string, unknown>;

    const root = operation.selectionSet.selections[0];
    if (operation.selectionSet.selections.length !== 1 || root?.kind !== Kind.FIELD) {
      return [coded(new GraphQLError('select the subscription field directly (no fragments at the root)'), 'GRAPHQL_VALIDATION_FAILED')];
    }
    const field = this.schema.getSubscriptionType()?.getFields()[root.name.value];
    const returned = field && getNamedType(field.type);
    const resumable = !!field?.args.some((a) => a.name === 'after') && isObjectType(returned) && 'cursor' in returned.getFields();
    const afterArgument = root.arguments?.find((a) => a.name.value === 'after');
    const initialAfter = afterArgument ? valueOf(afterArgument.value, variables) : null;
    const afterVariable = afterArgument?.value.kind === Kind.VARIABLE ? afterArgument.value.name.value : undefined;
    const variablesKey = JSON.stringify(Object.entries(variables).filter(([name]) => name !== afterVariable));

    const operationName = operation.name?.value;
    const key = `${operationName ?? ''}\n${printKey(document)}`;
    let planned = this.plans.get(key);
    if (!planned) {
      const planDocument = resumable ? withResumeCursor(document, operation, root) : document;
      const queryPlan = this.planner.buildQueryPlan(operationFromDocument(this.apiSchema, planDocument, { operationName }));
      if (queryPlan.node?.kind !== 'Subscription') return [coded(new GraphQLError('the operation did not plan as a subscription'), 'GRAPHQL_VALIDATION_FAILED')];
      planned = { primary: queryPlan.node.primary, rest: queryPlan.node.rest };
      if (this.plans.size >= 500) this.plans.delete(this.plans.keys().next().value!);
      this.plans.set(key, planned);
    }
    return {
      key,
      variablesKey,
      document,
      operationName,
      operationContext: buildOperationContext({ schema: this.schema, operationDocument: document, operationName }),
      variables,
      primary: planned.primary,
      rest: planned.rest,
      rootResponseName: root.alias?.value ?? root.name.value,
      initialAfter: typeof initialAfter === 'string' ? initialAfter : null,
      resumable,
    };
  }
}

/** The same error with an Apollo-style code, as the HTTP path reports parse, validation and variable errors. */
function coded(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, { nodes: error.nodes, extensions: { ...error.extensions, code } });
}

function printKey(document: DocumentNode): string {
  return document.loc?.source.body ?? JSON.stringify(document);
}

function valueOf(node: ValueNode, variables: Record<string, unknown>): unknown {
  if (node.kind === Kind.VARIABLE) return variables[node.name.value] ?? null;
  if (node.kind === Kind.STRING) return node.value;
  return null;
}

/**
 * The client's operation with the root field's `after` bound to the gateway's own variable and its
 * cursor selected under an alias: the gateway reopens the primary fetch after the last cursor it
 * received even when the client neither passed `after` nor selected `cursor`.
 */
function withResumeCursor(document: DocumentNode, operation: OperationDefinitionNode, root: FieldNode): DocumentNode {
  const after = {
    kind: Kind.ARGUMENT,
    name: { kind: Kind.NAME, value: 'after' },
    value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: RESUME_AFTER_VARIABLE } },
  } as const;
  const cursor: FieldNode = {
    kind: Kind.FIELD,
    alias: { kind: Kind.NAME, value: RESUME_CURSOR_ALIAS },
    name: { kind: Kind.NAME, value: 'cursor' },
  };
  const rewrittenRoot: FieldNode = {
    ...root,
    arguments: [...(root.arguments ?? []).filter((a) => a.name.value !== 'after'), after],
    selectionSet: { kind: Kind.SELECTION_SET, selections: [...(root.selectionSet?.selections ?? []), cursor] },
  };
  const rewritten: OperationDefinitionNode = {
    ...operation,
    variableDefinitions: [
      ...(operation.variableDefinitions ?? []),
      {
        kind: Kind.VARIABLE_DEFINITION,
        variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: RESUME_AFTER_VARIABLE } },
        type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: 'String' } },
      },
    ],
    selectionSet: { kind: Kind.SELECTION_SET, selections: [rewrittenRoot] },
  };
  return { ...document, definitions: document.definitions.map((d) => (d === operation ? rewritten : d)) };
}
