import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeService } from '@itsm/change';
import { issueToken } from '@itsm/gateway';
import { incidentService } from '@itsm/incident';
import { signIdentity, type Identity } from '@itsm/kit';
import { problemService } from '@itsm/problem';
import { composeSupergraph, SUPERGRAPH_FILE } from '../schema/compose.js';
import { startTestGraph, type TestGraph } from './harness.js';

let graph: TestGraph;
beforeAll(async () => {
  graph = await startTestGraph();
});
afterAll(async () => {
  await graph?.stop();
});

const LIST = /* GraphQL */ `
  query ($first: Int) {
    incidents(first: $first) {
      edges { node { number priority problem { number } relatedChanges { number } } }
    }
  }
`;

describe('composition', () => {
  it('the committed supergraph is what the subgraph SDLs compose to', () => {
    expect(readFileSync(SUPERGRAPH_FILE, 'utf8')).toBe(composeSupergraph());
  });
});

describe('identity', () => {
  it('refuses a request without a token with UNAUTHENTICATED and no data', async () => {
    const { status, body } = await graph.request(LIST, { first: 1 });
    expect(status).toBe(401);
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a token signed with another secret as INVALID_TOKEN', async () => {
    const forged = await issueToken('x'.repeat(48), { sub: 'mallory', tenant: randomUUID(), roles: ['admin'] });
    const { status, body } = await graph.request(LIST, { first: 1 }, forged);
    expect(status).toBe(401);
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]?.extensions?.code).toBe('INVALID_TOKEN');
  });

  it('refuses an expired token as TOKEN_EXPIRED and writes nothing', async () => {
    const tenant = randomUUID();
    const expired = await graph.token({ tenant, expiresIn: Math.floor(Date.now() / 1000) - 60 });
    const { body } = await graph.request(`mutation { createIncident(input: { title: "x", impact: 1, urgency: 1 }) { errors { code } } }`, {}, expired);
    expect(body.data).toBeUndefined();
    expect(body.errors?.[0]?.extensions?.code).toBe('TOKEN_EXPIRED');
    const fresh = await graph.token({ tenant });
    const count = await graph.request<any>(`{ incidents { totalCount } }`, {}, fresh);
    expect(count.body.data.incidents.totalCount).toBe(0);
  });

  it('a token of another tenant sees none of the first tenant\'s incidents', async () => {
    const owner = await graph.token();
    await graph.request(`mutation { createIncident(input: { title: "Printer jam", impact: 3, urgency: 3 }) { errors { code } } }`, {}, owner);
    const ownerView = await graph.request<any>(`{ incidents { totalCount } }`, {}, owner);
    expect(ownerView.body.data.incidents.totalCount).toBe(1);
    const other = await graph.token();
    const otherView = await graph.request<any>(`{ incidents { totalCount edges { node { number } } } }`, {}, other);
    expect(otherView.body.data.incidents).toEqual({ totalCount: 0, edges: [] });
  });

  it('a subgraph refuses requests that bypass the gateway', async () => {
    const url = graph.subgraphs.incident.url;
    const post = (headers: Record<string, string>) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: '{ incidents { totalCount } }' }) });

    const unsigned = await post({});
    expect(unsigned.status).toBe(401);
    const unsignedBody = (await unsigned.json()) as any;
    expect(unsignedBody.data).toBeUndefined();
    expect(unsignedBody.errors[0].extensions.code).toBe('UNSIGNED_REQUEST');

    const identity: Identity = { userId: 'mallory', tenantId: randomUUID(), roles: ['admin'] };
    const wrongSecret = await post(signIdentity(identity, 'not-the-internal-secret-but-long-enough-000'));
    expect(wrongSecret.status).toBe(401);

    const tampered = { ...signIdentity(identity, graph.config.internalSecret), 'x-itsm-tenant': randomUUID() };
    expect((await post(tampered)).status).toBe(401);

    const stale = await post(signIdentity(identity, graph.config.internalSecret, Date.now() - 10 * 60_000));
    expect(stale.status).toBe(401);

    const signed = await post(signIdentity(identity, graph.config.internalSecret));
    expect(signed.status).toBe(200);
  });
});

describe('batching', () => {
  it('10 and 100 incidents with problem and related changes cost the same SQL statements per subgraph', async () => {
    const tenantId = randomUUID();
    const identity: Identity = { userId: 'seeder', tenantId, roles: ['agent'] };
    const { incident, problem, change } = graph.databases;
    const base = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 120; i++) {
      const created = await incidentService.createIncident(incident.db, identity, { title: `Incident ${i}`, impact: (i % 5) + 1, urgency: 3 }, new Date(base + i * 60_000));
      const incidentId = created.incident!.id;
      if (i % 2 === 0) {
        const p = await problemService.createProblem(problem.db, identity, { title: `Problem ${i}` });
        await problemService.linkIncident(problem.db, identity, { problemId: p.problem!.id, incidentId, relation: 'CAUSED_BY' });
      }
      if (i % 3 === 0) {
        const c = await changeService.createChangeRequest(change.db, identity, { title: `Change ${i}`, type: 'NORMAL' });
        await changeService.linkChange(change.db, identity, { changeRequestId: c.changeRequest!.id, incidentId });
      }
    }
    const token = await graph.token({ tenant: tenantId });
    const measure = async (first: number) => {
      const before = { incident: incident.statementCount(), problem: problem.statementCount(), change: change.statementCount() };
      const { body } = await graph.request<any>(LIST, { first }, token);
      expect(body.errors).toBeUndefined();
      expect(body.data.incidents.edges).toHaveLength(first);
      return {
        incident: incident.statementCount() - before.incident,
        problem: problem.statementCount() - before.problem,
        change: change.statementCount() - before.change,
        withProblem: body.data.incidents.edges.filter((e: any) => e.node.problem).length,
      };
    };
    const ten = await measure(10);
    const hundred = await measure(100);
    expect({ ...ten, withProblem: 0 }).toEqual({ ...hundred, withProblem: 0 });
    expect(ten).toMatchObject({ incident: 1, problem: 1, change: 1, withProblem: 5 });
    expect(hundred.withProblem).toBe(50);
  });
});

describe('embedded database', () => {
  it('starts the graph on PGlite without a database URL and answers a federated query', async () => {
    const embedded = await startTestGraph({ embedded: true });
    try {
      const token = await embedded.token({ roles: ['agent'] });
      const created = await embedded.request<any>(
        `mutation { createIncident(input: { title: "Laptop will not boot", impact: 2, urgency: 2 }) { incident { id number priority } } }`,
        {},
        token,
      );
      expect(created.body.data.createIncident.incident).toMatchObject({ number: 'INC0000001', priority: 2 });
      const p = await embedded.request<any>(`mutation { createProblem(input: { title: "Boot disk failures" }) { problem { id } } }`, {}, token);
      await embedded.request(
        `mutation ($p: ID!, $i: ID!) { linkIncidentToProblem(input: { problemId: $p, incidentId: $i }) { errors { code } } }`,
        { p: p.body.data.createProblem.problem.id, i: created.body.data.createIncident.incident.id },
        token,
      );
      const result = await embedded.request<any>(`{ incidents { edges { node { number problem { title incidents { number } } } } } }`, {}, token);
      expect(result.body.data.incidents.edges).toEqual([
        { node: { number: 'INC0000001', problem: { title: 'Boot disk failures', incidents: [{ number: 'INC0000001' }] } } },
      ]);
      expect(embedded.databases.incident.kind).toBe('pglite');
    } finally {
      await embedded.stop();
    }
  });
});
