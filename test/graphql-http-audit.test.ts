import { serverAudits, type AuditResult } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGraph, type TestGraph } from './harness.js';

/**
 * GraphQL over HTTP conformance of the gateway, audited by the reference suite (`graphql-http`'s serverAudits).
 * Every MUST passes. The SHOULDs the gateway knowingly misses, and why:
 *
 * - 572B, FDE2, 7B9B "SHOULD use 200 status code on document parsing / validation / variable coercion failure when
 *   accepting application/json". Apollo Server answers 400 for a request it could not execute, whatever media type
 *   the client accepts. The 200 rule only protects legacy clients that drop the body of a non-2xx response; every
 *   client we support (Apollo Client, urql, graphql-request, GraphiQL's fetcher, the generated typed documents) reads
 *   the `errors` of a 400. Answering 400 keeps a broken query visible as a failure to proxies and HTTP metrics, and
 *   is exactly what application/graphql-response+json clients must get anyway.
 *
 * Every MAY audit (GET with URL-encoded variables, 400 on invalid parameters, ...) passes as well and is asserted.
 * The suite's "SHOULD use 401 or 403 when the request is not permitted" audit is commented out upstream, so the
 * authentication cases are checked below by hand.
 */
const KNOWN_SHOULD_MISSES = ['572B', 'FDE2', '7B9B'];

let graph: TestGraph;
let token = '';
beforeAll(async () => {
  graph = await startTestGraph();
  token = await graph.token({ roles: ['agent'] });
});
afterAll(async () => {
  await graph?.stop();
});

/** The audit's requests carry a valid token: the gateway refuses anonymous callers before GraphQL runs. */
const authenticatedFetch = (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

const audits = serverAudits({ url: () => graph.url, fetchFn: authenticatedFetch });

async function explain(result: AuditResult): Promise<string> {
  if (result.status === 'ok') return 'ok';
  const body = await result.response.text().catch(() => '');
  return `${result.reason} (status ${result.response.status}): ${body.slice(0, 300)}`;
}

describe('graphql-http server audit of the gateway', () => {
  for (const audit of audits.filter((a) => a.name.startsWith('MUST'))) {
    it(`${audit.id} ${audit.name}`, async () => {
      const result = await audit.fn();
      expect(await explain(result)).toBe('ok');
    });
  }

  for (const audit of audits.filter((a) => a.name.startsWith('MAY'))) {
    it(`${audit.id} ${audit.name}`, async () => {
      expect(await explain(await audit.fn())).toBe('ok');
    });
  }

  for (const audit of audits.filter((a) => a.name.startsWith('SHOULD'))) {
    const expected = KNOWN_SHOULD_MISSES.includes(audit.id) ? 'warn' : 'ok';
    it(`${audit.id} ${audit.name} (${expected === 'ok' ? 'passes' : 'known miss'})`, async () => {
      const result = await audit.fn();
      // A known miss that starts passing fails here too, so the list in the comment above stays true.
      expect(result.status === 'ok' ? 'ok' : result.status, await explain(result)).toBe(expected);
    });
  }

  it('runs the whole upstream suite (a new audit in a graphql-http upgrade shows up here)', () => {
    expect(audits.filter((a) => a.name.startsWith('MUST')).length).toBe(13);
    expect(audits.filter((a) => a.name.startsWith('SHOULD')).length).toBe(23);
    expect(audits.length).toBe(61);
  });
});

describe('HTTP details the audit does not cover', () => {
  const query = '{ __typename }';

  it('answers a GET query (the Authorization header stands in for the CSRF preflight header)', async () => {
    const response = await fetch(`${graph.url}?query=${encodeURIComponent(query)}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/graphql-response+json' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/graphql-response+json; charset=utf-8');
    expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('refuses a mutation over GET with 405 and Allow: POST', async () => {
    const mutation = 'mutation { createIncident(input: { title: "x", impact: 1, urgency: 1 }) { errors { code } } }';
    const response = await fetch(`${graph.url}?query=${encodeURIComponent(mutation)}`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });

  it('answers 401 with a GraphQL error body to a request without a token, in either media type', async () => {
    for (const accept of ['application/json', 'application/graphql-response+json']) {
      const response = await fetch(graph.url, { method: 'POST', headers: { 'content-type': 'application/json', accept }, body: JSON.stringify({ query }) });
      expect(response.status).toBe(401);
      const body = (await response.json()) as { data?: unknown; errors: { extensions: { code: string } }[] };
      expect(body.data).toBeUndefined();
      expect(body.errors.map((e) => e.extensions.code)).toEqual(['UNAUTHENTICATED']);
    }
  });

  it('answers 400 to a body that is not JSON', async () => {
    const response = await fetch(graph.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: '{"query": ',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe('BAD_REQUEST');
  });
});
