import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier, startGateway } from '@itsm/gateway';
import { createLogger, loadConfig, type Role } from '@itsm/kit';
import { DEFAULT_PERSISTED_QUERIES_FILE, persistedQueryId } from '../gateway/src/limits/index.js';
import { SUPERGRAPH_FILE } from '../schema/compose.js';
import { startTestGraph, type TestGraph } from './harness.js';

/** Small limits, so that each can be crossed by a readable query. */
const LIMITS_ENV = {
  MAX_QUERY_DEPTH: '6',
  MAX_ALIASES: '4',
  MAX_QUERY_COST: '600',
  RATE_LIMIT_PER_MINUTE: '3',
  MAX_BODY_BYTES: '20000',
  PERSISTED_QUERIES_ONLY_FOR_PARTNERS: 'true',
};

let graph: TestGraph;
beforeAll(async () => {
  graph = await startTestGraph({ env: LIMITS_ENV });
});
afterAll(async () => {
  await graph?.stop();
});

type Body = { data?: any; errors?: { message: string; extensions?: Record<string, any> }[] };

/** A token with its own subject, so that each gets its own rate-limit bucket (3 requests a minute here). */
const token = (options: { tenant?: string; roles?: Role[] } = {}) => graph.token({ ...options, sub: `user-${randomUUID()}` });

async function post(body: unknown, bearer?: string, url = graph.url): Promise<{ status: number; headers: Headers; body: Body }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Body };
}

/** GraphQL requests the three subgraphs have served: unchanged means the gateway executed nothing. */
async function subgraphRequests(): Promise<number> {
  let total = 0;
  for (const subgraph of Object.values(graph.subgraphs)) {
    const metric = await subgraph.metrics.registry.getSingleMetric('subgraph_requests_total')!.get();
    total += metric.values.reduce((sum, v) => sum + v.value, 0);
  }
  return total;
}

async function incidentCount(tenant: string): Promise<number> {
  const { body } = await post({ query: '{ incidents { totalCount } }' }, await token({ tenant }));
  return body.data.incidents.totalCount;
}

/** Sends a request that must be refused: returns the refusal after checking that no subgraph was called. */
async function refused(body: unknown, bearer: string) {
  const before = await subgraphRequests();
  const response = await post(body, bearer);
  expect(await subgraphRequests()).toBe(before);
  expect(response.body.data).toBeUndefined();
  expect(response.body.errors).toHaveLength(1);
  return { status: response.status, headers: response.headers, error: response.body.errors![0]! };
}

const CREATE = `createIncident(input: { title: "Printer on fire", impact: 2, urgency: 2 })`;

describe('requests within the limits', () => {
  it('a mutation and a query within every limit run', async () => {
    const tenant = randomUUID();
    const writer = await token({ tenant });
    const created = await post({ query: `mutation { ${CREATE} { incident { number } errors { code } } }` }, writer);
    expect(created.status).toBe(200);
    expect(created.body).toEqual({ data: { createIncident: { incident: { number: 'INC0000001' }, errors: [] } } });
    // cost incidents 1 + totalCount 1 + edges (1 + 10 x (node, number, priority)) = 33, depth 4, no alias
    const listed = await post({ query: '{ incidents(first: 10) { totalCount edges { node { number priority } } } }' }, writer);
    expect(listed.body).toEqual({ data: { incidents: { totalCount: 1, edges: [{ node: { number: 'INC0000001', priority: 2 } }] } } });
  });
});

describe('query depth, aliases and cost', () => {
  it('refuses a mutation nested 7 deep with QUERY_TOO_DEEP (400) and writes nothing', async () => {
    const tenant = randomUUID();
    const query = `mutation { ${CREATE} { incident { problem { incidents { problem { incidents { number } } } } } } }`;
    const { status, error } = await refused({ query }, await token({ tenant }));
    expect(status).toBe(400);
    expect(error.extensions).toEqual({ code: 'QUERY_TOO_DEEP', depth: 7, maxDepth: 6 });
    expect(await incidentCount(tenant)).toBe(0);
  });

  it('refuses 5 aliases with TOO_MANY_ALIASES (400) and writes nothing', async () => {
    const tenant = randomUUID();
    const query = `mutation { ${['a', 'b', 'c', 'd', 'e'].map((alias) => `${alias}: ${CREATE} { errors { code } }`).join(' ')} }`;
    const { status, error } = await refused({ query }, await token({ tenant }));
    expect(status).toBe(400);
    expect(error.extensions).toEqual({ code: 'TOO_MANY_ALIASES', aliases: 5, maxAliases: 4 });
    expect(await incidentCount(tenant)).toBe(0);
  });

  it('refuses a mutation whose nested lists cost 844 with QUERY_TOO_COSTLY (400) and writes nothing', async () => {
    const tenant = randomUUID();
    // createIncident 1 + incident (1 + relatedChanges (1 + 20 x incidents (1 + 20 x 2))) + errors (1 + 20 x 1) = 844
    const query = `mutation { ${CREATE} { incident { relatedChanges { incidents { number title } } } errors { code } } }`;
    const { status, error } = await refused({ query }, await token({ tenant }));
    expect(status).toBe(400);
    expect(error.extensions).toEqual({ code: 'QUERY_TOO_COSTLY', cost: 844, maxCost: 600 });
    expect(await incidentCount(tenant)).toBe(0);
  });

  it('counts the page size from variables: first 199 costs 599 and runs, first 200 costs 602 and is refused', async () => {
    const query = 'query Page($first: Int) { incidents(first: $first) { edges { node { number title } } } }';
    // incidents 1 + edges (1 + first x (node, number, title))
    const within = await post({ query, variables: { first: 199 } }, await token());
    expect(within.body).toEqual({ data: { incidents: { edges: [] } } });
    const { error } = await refused({ query, variables: { first: 200 } }, await token());
    expect(error.extensions).toEqual({ code: 'QUERY_TOO_COSTLY', cost: 602, maxCost: 600 });
  });
});

describe('request body size', () => {
  it('refuses a body over MAX_BODY_BYTES with PAYLOAD_TOO_LARGE (413) and writes nothing', async () => {
    const tenant = randomUUID();
    const query = `mutation ($d: String) { createIncident(input: { title: "Huge", description: $d, impact: 3, urgency: 3 }) { errors { code } } }`;
    const body = JSON.stringify({ query, variables: { d: 'x'.repeat(25_000) } });
    const { status, error } = await refused(body, await token({ tenant }));
    expect(status).toBe(413);
    expect(error.extensions).toEqual({ code: 'PAYLOAD_TOO_LARGE' });
    expect(await incidentCount(tenant)).toBe(0);
  });

  it('accepts a body just under the limit', async () => {
    const body = JSON.stringify({ query: `{ incidents { totalCount } } # ${'x'.repeat(19_000)}` });
    expect(body.length).toBeLessThan(20_000);
    const response = await post(body, await token());
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ data: { incidents: { totalCount: 0 } } });
  });
});

describe('rate limit per token', () => {
  it('admits 3 requests a minute per token, refuses the 4th with RATE_LIMITED (429, Retry-After) before any subgraph runs', async () => {
    const tenant = randomUUID();
    const limited = await token({ tenant });
    for (let i = 0; i < 3; i++) expect((await post({ query: '{ incidents { totalCount } }' }, limited)).status).toBe(200);
    const { status, headers, error } = await refused({ query: '{ incidents { totalCount } }' }, limited);
    expect(status).toBe(429);
    expect(error.extensions?.code).toBe('RATE_LIMITED');
    const retryAfter = Number(headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(20);
    expect(error.extensions?.retryAfterSeconds).toBe(retryAfter);
    // Another user of the same tenant has a bucket of their own.
    expect((await post({ query: '{ incidents { totalCount } }' }, await token({ tenant }))).status).toBe(200);
  });
});

describe('introspection', () => {
  it('answers the full introspection query tools send (GraphiQL, codegen), deeper than the query depth limit', async () => {
    const { status, body } = await post({ query: getIntrospectionQuery() }, await token());
    expect(status).toBe(200);
    expect((body.data as any).__schema.queryType.name).toBe('Query');
  });

  it('still caps how deep an introspection query nests (QUERY_TOO_DEEP)', async () => {
    const nested = 'ofType { '.repeat(25) + 'name' + ' }'.repeat(25);
    const { status, body } = await post({ query: `{ __type(name: "Incident") { ${nested} } }` }, await token());
    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_DEEP');
  });

  it('is answered in development', async () => {
    const { status, body } = await post({ query: '{ __schema { queryType { name } } }' }, await token());
    expect(status).toBe(200);
    expect(body).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
  });

  it('is refused with INTROSPECTION_DISABLED (400) when NODE_ENV=production, even inside a fragment; __typename still works', async () => {
    const production = loadConfig({
      NODE_ENV: 'production',
      JWT_SECRET: graph.config.jwt.secret,
      INTERNAL_SECRET: graph.config.internalSecret,
      RATE_LIMIT_PER_MINUTE: '0',
    });
    expect(production.limits.introspection).toBe(false);
    const gateway = await startGateway({
      supergraphSdl: readFileSync(SUPERGRAPH_FILE, 'utf8'),
      subgraphUrls: Object.fromEntries(Object.entries(graph.subgraphs).map(([name, s]) => [name, s.url])),
      internalSecret: production.internalSecret,
      verifyToken: createTokenVerifier(production.jwt),
      logger: createLogger('silent', 'gateway'),
      host: '127.0.0.1',
      port: 0,
      limits: production.limits,
    });
    try {
      const bearer = await token();
      for (const query of ['{ __schema { queryType { name } } }', '{ ...Probe } fragment Probe on Query { __type(name: "Incident") { fields { name } } }']) {
        const response = await post({ query }, bearer, gateway.url);
        expect(response.status).toBe(400);
        expect(response.body.data).toBeUndefined();
        expect(response.body.errors?.map((e) => e.extensions?.code)).toEqual(['INTROSPECTION_DISABLED']);
      }
      const plain = await post({ query: '{ __typename incidents { totalCount } }' }, bearer, gateway.url);
      expect(plain.body).toEqual({ data: { __typename: 'Query', incidents: { totalCount: 0 } } });
    } finally {
      await gateway.close();
    }
  });
});

describe('persisted queries', () => {
  const manifest = JSON.parse(readFileSync(DEFAULT_PERSISTED_QUERIES_FILE, 'utf8')) as { operations: { id: string; name: string; body: string }[] };
  const operation = (name: string) => manifest.operations.find((o) => o.name === name)!;
  const byId = (id: string, variables: Record<string, unknown> = {}) => ({ variables, extensions: { persistedQuery: { version: 1, sha256Hash: id } } });

  it('runs a listed operation by its sha256 id for a partner', async () => {
    const tenant = randomUUID();
    await post({ query: `mutation { ${CREATE} { errors { code } } }` }, await token({ tenant }));
    const { id } = operation('PartnerIncidents');
    const { status, body } = await post(byId(id, { first: 5 }), await token({ tenant, roles: ['partner'] }));
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data.incidents).toMatchObject({ totalCount: 1, edges: [{ node: { number: 'INC0000001', title: 'Printer on fire', state: 'NEW', priority: 2 } }] });
  });

  it('runs a listed operation by id over GET (cacheable), and for other roles too', async () => {
    const { id } = operation('PartnerIncidents');
    const search = new URLSearchParams({ variables: JSON.stringify({ first: 1 }), extensions: JSON.stringify({ persistedQuery: { version: 1, sha256Hash: id } }) });
    for (const roles of [['partner'], ['agent']] as Role[][]) {
      const response = await fetch(`${graph.url}?${search}`, { headers: { authorization: `Bearer ${await token({ roles })}` } });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ data: { incidents: { totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] } } });
    }
  });

  it('every listed operation is valid against the current graph', async () => {
    expect(manifest.operations.length).toBeGreaterThanOrEqual(3);
    for (const { id, body, name } of manifest.operations) {
      expect(persistedQueryId(body)).toBe(id);
      const response = await post(byId(id, { number: 'INC0000001', first: 1 }), await token({ roles: ['partner'] }));
      expect({ name, errors: response.body.errors }).toEqual({ name, errors: undefined });
    }
  });

  it('refuses an unknown id with PERSISTED_QUERY_NOT_FOUND (Apollo protocol: status 200, so clients retry with the text)', async () => {
    const { status, error } = await refused(byId(persistedQueryId('{ incidents { totalCount } }')), await token({ roles: ['partner'] }));
    expect(status).toBe(200);
    expect(error.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('refuses a partner\'s ad-hoc query with PERSISTED_QUERY_REQUIRED (403) when PERSISTED_QUERIES_ONLY_FOR_PARTNERS is on', async () => {
    const { status, error } = await refused({ query: '{ incidents { totalCount } }' }, await token({ roles: ['partner'] }));
    expect(status).toBe(403);
    expect(error.extensions).toEqual({ code: 'PERSISTED_QUERY_REQUIRED' });
    // Registering a new text under its own hash (automatic persisted queries) does not get around it either.
    const text = '{ incidents { totalCount } }';
    const registering = await refused({ query: text, extensions: { persistedQuery: { version: 1, sha256Hash: persistedQueryId(text) } } }, await token({ roles: ['partner'] }));
    expect(registering.error.extensions?.code).toBe('PERSISTED_QUERY_REQUIRED');
  });

  it('lets a partner send the exact text of a listed operation, and other roles any query', async () => {
    const { body } = operation('PartnerIncidents');
    const partner = await post({ query: body, variables: { first: 1 } }, await token({ roles: ['partner'] }));
    expect(partner.body.errors).toBeUndefined();
    const agent = await post({ query: '{ incidents { totalCount } }' }, await token({ roles: ['agent'] }));
    expect(agent.body).toEqual({ data: { incidents: { totalCount: 0 } } });
  });
});
