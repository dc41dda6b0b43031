import { buildSchema, parse, type GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { enforceOperationLimits, measureOperation, MAX_MEASURED_FIELDS, type OperationLimitSettings } from './operation-limits.js';

const schema = buildSchema(/* GraphQL */ `
  type Query {
    incidents(first: Int, after: String): IncidentConnection!
    incident(number: String): Incident
    matrix: [[Int!]!]!
  }
  type Mutation {
    createIncident(title: String!): Incident
  }
  type IncidentConnection {
    totalCount: Int!
    edges: [IncidentEdge!]!
    pageInfo: PageInfo!
  }
  type IncidentEdge {
    cursor: String!
    node: Incident!
  }
  type PageInfo {
    hasNextPage: Boolean!
  }
  type Incident {
    number: String!
    history: [Entry!]!
    problem: Problem
  }
  type Problem {
    number: String!
    incidents: [Incident!]!
  }
  type Entry {
    at: String!
  }
`);

const measure = (query: string, variables?: Record<string, unknown>, operationName?: string) =>
  measureOperation(schema, parse(query), { variables, operationName })!;

describe('measureOperation', () => {
  it("multiplies a connection's edges by first and a plain list by the assumed size 20; depth counts nested fields", () => {
    const m = measure(`{ incidents(first: 10) { totalCount edges { node { number history { at } } } } }`);
    // incidents 1 + totalCount 1 + edges (1 + 10 x (node 1 + number 1 + history (1 + 20 x at 1)))
    expect(m).toEqual({ depth: 5, aliases: 0, cost: 233, introspection: false, complete: true });
  });

  it('counts totalCount and pageInfo of a connection once, whatever its page size', () => {
    expect(measure(`{ incidents(first: 500) { totalCount pageInfo { hasNextPage } } }`).cost).toBe(4);
  });

  it('uses the default page size 20 without first, and first from variables or their defaults', () => {
    expect(measure(`{ incidents { edges { node { number } } } }`).cost).toBe(42);
    expect(measure(`query ($n: Int = 5) { incidents(first: $n) { edges { cursor } } }`).cost).toBe(7);
    expect(measure(`query ($n: Int = 5) { incidents(first: $n) { edges { cursor } } }`, { n: 50 }).cost).toBe(52);
    expect(measure(`query ($n: Int) { incidents(first: $n) { edges { cursor } } }`, { n: 'many' }).cost).toBe(22);
  });

  it('counts __typename for depth but not for cost; a scalar list is one field', () => {
    expect(measure(`{ incidents(first: 2) { __typename edges { __typename } } matrix }`)).toMatchObject({ cost: 3, depth: 3 });
  });

  it('counts aliases once per place a fragment is spread', () => {
    const m = measure(`{ a: incident(number: "1") { ...F } b: incident(number: "2") { ...F } } fragment F on Incident { x: number y: number }`);
    expect(m.aliases).toBe(6);
    expect(m.cost).toBe(6);
  });

  it('finds introspection inside fragments', () => {
    expect(measure(`{ ...Q } fragment Q on Query { __schema { types { name } } }`).introspection).toBe(true);
    expect(measure(`{ __type(name: "Incident") { name } }`).introspection).toBe(true);
    expect(measure(`{ __typename }`).introspection).toBe(false);
  });

  it('measures the named operation of a document with several', () => {
    const document = `query Small { matrix } query Big { incidents(first: 100) { edges { cursor } } }`;
    expect(measure(document, {}, 'Small').cost).toBe(1);
    expect(measure(document, {}, 'Big').cost).toBe(102);
    expect(measureOperation(schema, parse(document), {})).toBeUndefined();
  });

  it('does not follow fragment cycles', () => {
    const m = measure(`{ incident { ...A } } fragment A on Incident { problem { incidents { ...A } } }`);
    expect(m).toMatchObject({ depth: 3, complete: true });
  });

  it('stops measuring a fragment bomb at MAX_MEASURED_FIELDS', () => {
    const fragments = Array.from({ length: 30 }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join(' ');
    const m = measure(`{ ...F0 } ${fragments} fragment F30 on Query { matrix }`);
    expect(m.complete).toBe(false);
    expect(m.cost).toBe(MAX_MEASURED_FIELDS);
  });
});

describe('enforceOperationLimits', () => {
  const settings: OperationLimitSettings = { maxQueryDepth: 3, maxAliases: 1, maxQueryCost: 100, introspection: false };
  const refusal = (query: string, variables?: Record<string, unknown>) => {
    try {
      enforceOperationLimits(measure(query, variables), settings);
      return undefined;
    } catch (error) {
      const e = error as GraphQLError;
      const { http, ...extensions } = e.extensions as Record<string, unknown>;
      return { ...extensions, status: (http as { status: number }).status };
    }
  };

  it('passes an operation within every limit', () => {
    expect(refusal(`{ a: incidents(first: 10) { totalCount } }`)).toBeUndefined();
  });

  it('refuses each limit with its code, the numbers and its HTTP status', () => {
    expect(refusal(`{ __schema { queryType { name } } }`)).toEqual({ code: 'INTROSPECTION_DISABLED', status: 400 });
    expect(refusal(`{ incidents { edges { node { number } } } }`)).toEqual({ code: 'QUERY_TOO_DEEP', depth: 4, maxDepth: 3, status: 400 });
    expect(refusal(`{ a: matrix b: matrix }`)).toEqual({ code: 'TOO_MANY_ALIASES', aliases: 2, maxAliases: 1, status: 400 });
    expect(refusal(`query ($n: Int) { incidents(first: $n) { edges { cursor } } }`, { n: 99 })).toEqual({
      code: 'QUERY_TOO_COSTLY',
      cost: 101,
      maxCost: 100,
      status: 400,
    });
  });
});
