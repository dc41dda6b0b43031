import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGraph, type TestGraph } from './harness.js';

let graph: TestGraph;
beforeAll(async () => {
  graph = await startTestGraph();
});
afterAll(async () => {
  await graph?.stop();
});

const PROBLEM_FIELDS = /* GraphQL */ `
  id number title state type origin category impact urgency priority priorityLabel owner rootCause workaround permanentFix
  incidentCount firstOccurredAt lastOccurredAt resolvedAt closedAt version
`;
const ERRORS = /* GraphQL */ `errors { __typename code message ... on ValidationFailed { field rule } ... on VersionConflict { currentVersion } ... on InvalidTransition { from to } ... on Forbidden { requiredRoles } }`;

const CREATE = `mutation ($input: CreateProblemInput!) { createProblem(input: $input) { problem { ${PROBLEM_FIELDS} } ${ERRORS} } }`;
const UPDATE = `mutation ($input: UpdateProblemInput!) { updateProblem(input: $input) { problem { ${PROBLEM_FIELDS} } ${ERRORS} } }`;
const TRANSITION = `mutation ($input: TransitionProblemInput!) { transitionProblem(input: $input) { problem { ${PROBLEM_FIELDS} history { actor field from to reason } } ${ERRORS} } }`;
const LINK = `mutation ($input: LinkIncidentInput!) { linkIncidentToProblem(input: $input) { problem { ${PROBLEM_FIELDS} } ${ERRORS} } }`;
const UNLINK = `mutation ($input: UnlinkIncidentInput!) { unlinkIncidentFromProblem(input: $input) { problem { ${PROBLEM_FIELDS} } ${ERRORS} } }`;
const CREATE_INCIDENT = `mutation ($input: CreateIncidentInput!) { createIncident(input: $input) { incident { id number openedAt } errors { code message } } }`;

async function createProblem(token: string, input: Record<string, unknown>) {
  const result = await graph.request<any>(CREATE, { input }, token);
  expect(result.body.errors).toBeUndefined();
  return result.body.data.createProblem;
}

async function createIncident(token: string, title: string, extra: Record<string, unknown> = {}) {
  const result = await graph.request<any>(CREATE_INCIDENT, { input: { title, impact: 3, urgency: 3, ...extra } }, token);
  expect(result.body.errors).toBeUndefined();
  expect(result.body.data.createIncident.errors).toEqual([]);
  return result.body.data.createIncident.incident as { id: string; number: string; openedAt: string };
}

async function transition(token: string, input: Record<string, unknown>) {
  const result = await graph.request<any>(TRANSITION, { input }, token);
  expect(result.body.errors).toBeUndefined();
  return result.body.data.transitionProblem;
}

describe('problems', () => {
  it('numbers problems PRB<year><6 digits> per tenant and computes priority from impact and urgency', async () => {
    const token = await graph.token({ roles: ['agent'] });
    const year = new Date().getUTCFullYear();
    const first = await createProblem(token, { title: 'Mail relay leaks memory', type: 'PROACTIVE', category: 'Software', impact: 2, urgency: 1 });
    expect(first.errors).toEqual([]);
    expect(first.problem).toMatchObject({
      number: `PRB${year}000001`,
      state: 'NEW',
      type: 'PROACTIVE',
      origin: 'MANUAL',
      category: 'Software',
      impact: 2,
      urgency: 1,
      priority: 2,
      priorityLabel: 'High',
      incidentCount: 0,
      firstOccurredAt: null,
      version: 1,
    });
    const second = await createProblem(token, { title: 'Second' });
    expect(second.problem).toMatchObject({ number: `PRB${year}000002`, type: 'REACTIVE', impact: 3, urgency: 3, priority: 3, priorityLabel: 'Medium' });
    const otherTenant = await createProblem(await graph.token(), { title: 'Elsewhere' });
    expect(otherTenant.problem.number).toBe(`PRB${year}000001`);
  });

  it('hands out distinct numbers to concurrent creations', async () => {
    const token = await graph.token({ roles: ['agent'] });
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => createProblem(token, { title: `Concurrent ${i}` })));
    const numbers = results.map((r) => r.problem.number as string).sort();
    const year = new Date().getUTCFullYear();
    expect(numbers).toEqual(Array.from({ length: 12 }, (_, i) => `PRB${year}${String(i + 1).padStart(6, '0')}`));
  });

  it('refuses bad input with typed errors naming each field, and writes nothing', async () => {
    const token = await graph.token({ roles: ['agent'] });
    const bad = await createProblem(token, { title: '  ', impact: 0, urgency: 6 });
    expect(bad.problem).toBeNull();
    expect(bad.errors.map((e: any) => [e.field, e.rule])).toEqual([
      ['input.title', 'required'],
      ['input.impact', 'range'],
      ['input.urgency', 'range'],
    ]);
    const long = await createProblem(token, { title: 'x'.repeat(256) });
    expect(long.errors).toEqual([expect.objectContaining({ code: 'VALIDATION_FAILED', field: 'input.title', rule: 'maxLength' })]);
    const list = await graph.request<any>(`{ problems { totalCount } }`, {}, token);
    expect(list.body.data.problems.totalCount).toBe(0);
  });

  it('refuses writes from the read-only partner role', async () => {
    const partner = await graph.token({ roles: ['partner'] });
    const result = await createProblem(partner, { title: 'Not allowed' });
    expect(result.problem).toBeNull();
    expect(result.errors[0]).toMatchObject({ __typename: 'Forbidden', code: 'FORBIDDEN' });
  });

  it('updates fields with optimistic concurrency and recomputes priority', async () => {
    const token = await graph.token({ roles: ['agent'] });
    const { problem } = await createProblem(token, { title: 'Slow logins' });
    const updated = await graph.request<any>(UPDATE, { input: { id: problem.id, version: 1, impact: 1, urgency: 1, owner: 'pm-1', workaround: 'Use the web portal' } }, token);
    expect(updated.body.data.updateProblem.errors).toEqual([]);
    expect(updated.body.data.updateProblem.problem).toMatchObject({ impact: 1, urgency: 1, priority: 1, owner: 'pm-1', workaround: 'Use the web portal', version: 2 });
    const stale = await graph.request<any>(UPDATE, { input: { id: problem.id, version: 1, title: 'Lost update' } }, token);
    expect(stale.body.data.updateProblem).toEqual({
      problem: null,
      errors: [expect.objectContaining({ __typename: 'VersionConflict', code: 'VERSION_CONFLICT', currentVersion: 2 })],
    });
    const missing = await graph.request<any>(UPDATE, { input: { id: randomUUID(), version: 1, title: 'Nobody' } }, token);
    expect(missing.body.data.updateProblem.errors[0]).toMatchObject({ __typename: 'NotFound', code: 'NOT_FOUND' });
  });
});

describe('problem lifecycle', () => {
  it('lets managers move a problem to resolution and closure, recording every move', async () => {
    const manager = await graph.token({ roles: ['manager'] });
    const { problem } = await createProblem(manager, { title: 'Disk fills up nightly' });
    let version = problem.version;
    for (const to of ['ASSESS', 'ROOT_CAUSE_ANALYSIS', 'FIX_IN_PROGRESS']) {
      const moved = await transition(manager, { id: problem.id, version, to });
      expect(moved.errors).toEqual([]);
      expect(moved.problem.state).toBe(to);
      version = moved.problem.version;
    }
    const noCause = await transition(manager, { id: problem.id, version, to: 'RESOLVED' });
    expect(noCause).toEqual({
      problem: null,
      errors: [expect.objectContaining({ __typename: 'ValidationFailed', field: 'input.rootCause', rule: 'required' })],
    });
    const resolved = await transition(manager, { id: problem.id, version, to: 'RESOLVED', rootCause: 'Log rotation disabled', permanentFix: 'Re-enable logrotate', reason: 'fix deployed' });
    expect(resolved.errors).toEqual([]);
    expect(resolved.problem).toMatchObject({ state: 'RESOLVED', rootCause: 'Log rotation disabled', permanentFix: 'Re-enable logrotate', closedAt: null });
    expect(resolved.problem.resolvedAt).not.toBeNull();
    const closed = await transition(manager, { id: problem.id, version: resolved.problem.version, to: 'CLOSED' });
    expect(closed.problem.state).toBe('CLOSED');
    expect(closed.problem.closedAt).not.toBeNull();
    expect(closed.problem.history.map((h: any) => `${h.from}->${h.to}`)).toEqual([
      'null->NEW',
      'NEW->ASSESS',
      'ASSESS->ROOT_CAUSE_ANALYSIS',
      'ROOT_CAUSE_ANALYSIS->FIX_IN_PROGRESS',
      'FIX_IN_PROGRESS->RESOLVED',
      'RESOLVED->CLOSED',
    ]);
    expect(closed.problem.history[4]).toMatchObject({ field: 'state', reason: 'fix deployed' });

    const reopen = await transition(manager, { id: problem.id, version: closed.problem.version, to: 'ROOT_CAUSE_ANALYSIS' });
    expect(reopen.errors).toEqual([expect.objectContaining({ __typename: 'InvalidTransition', from: 'CLOSED', to: 'ROOT_CAUSE_ANALYSIS' })]);
    const edit = await graph.request<any>(UPDATE, { input: { id: problem.id, version: closed.problem.version, title: 'Too late' } }, manager);
    expect(edit.body.data.updateProblem.errors).toEqual([expect.objectContaining({ __typename: 'Conflict', code: 'CONFLICT' })]);
  });

  it('refuses skipped states and leaves state changes to managers', async () => {
    const agent = await graph.token({ roles: ['agent'] });
    const { problem } = await createProblem(agent, { title: 'Printer queue stalls' });
    const byAgent = await transition(agent, { id: problem.id, version: 1, to: 'ASSESS' });
    expect(byAgent.errors).toEqual([expect.objectContaining({ __typename: 'Forbidden', requiredRoles: ['manager', 'admin'] })]);
    const manager = await graph.token({ roles: ['manager'], tenant: await tenantOf(agent) });
    const skipped = await transition(manager, { id: problem.id, version: 1, to: 'FIX_IN_PROGRESS' });
    expect(skipped.errors).toEqual([expect.objectContaining({ __typename: 'InvalidTransition', from: 'NEW', to: 'FIX_IN_PROGRESS' })]);
    const after = await graph.request<any>(`query ($id: ID) { problem(id: $id) { state version history { to } } }`, { id: problem.id }, manager);
    expect(after.body.data.problem).toEqual({ state: 'NEW', version: 1, history: [{ to: 'NEW' }] });
  });

  it('reopens a resolved problem to root-cause analysis and clears its resolution time', async () => {
    const manager = await graph.token({ roles: ['manager'] });
    const { problem } = await createProblem(manager, { title: 'VPN flaps' });
    let p = problem;
    for (const step of [{ to: 'ASSESS' }, { to: 'ROOT_CAUSE_ANALYSIS' }, { to: 'RESOLVED', rootCause: 'MTU mismatch' }]) {
      p = (await transition(manager, { id: p.id, version: p.version, ...step })).problem;
    }
    const reopened = await transition(manager, { id: p.id, version: p.version, to: 'ROOT_CAUSE_ANALYSIS', reason: 'recurred' });
    expect(reopened.problem).toMatchObject({ state: 'ROOT_CAUSE_ANALYSIS', resolvedAt: null, rootCause: 'MTU mismatch' });
  });
});

describe('incident links', () => {
  it('keeps the incident count and the first and last occurrence with the links', async () => {
    const token = await graph.token({ roles: ['agent'] });
    const { problem } = await createProblem(token, { title: 'Wi-Fi drops on floor 2' });
    const a = await createIncident(token, 'Wi-Fi drops');
    const b = await createIncident(token, 'No Wi-Fi on floor 2');
    const first = await graph.request<any>(LINK, { input: { problemId: problem.id, incidentId: a.id } }, token);
    expect(first.body.data.linkIncidentToProblem.errors).toEqual([]);
    expect(first.body.data.linkIncidentToProblem.problem.incidentCount).toBe(1);
    const second = await graph.request<any>(LINK, { input: { problemId: problem.id, incidentId: b.id, relation: 'SYMPTOM_OF' } }, token);
    const linked = second.body.data.linkIncidentToProblem.problem;
    expect(linked.incidentCount).toBe(2);
    expect(Date.parse(linked.firstOccurredAt)).toBeLessThanOrEqual(Date.parse(linked.lastOccurredAt));
    const again = await graph.request<any>(LINK, { input: { problemId: problem.id, incidentId: b.id } }, token);
    expect(again.body.data.linkIncidentToProblem.problem.incidentCount).toBe(2);

    const read = await graph.request<any>(
      `query ($id: ID) { problem(id: $id) { incidentCount incidents { number problem { number } } incidentLinks { relation incident { number } } } }`,
      { id: problem.id },
      token,
    );
    expect(read.body.errors).toBeUndefined();
    expect(read.body.data.problem).toEqual({
      incidentCount: 2,
      incidents: [
        { number: a.number, problem: { number: problem.number } },
        { number: b.number, problem: { number: problem.number } },
      ],
      incidentLinks: [
        { relation: 'CAUSED_BY', incident: { number: a.number } },
        { relation: 'SYMPTOM_OF', incident: { number: b.number } },
      ],
    });

    const unlinked = await graph.request<any>(UNLINK, { input: { problemId: problem.id, incidentId: a.id } }, token);
    expect(unlinked.body.data.unlinkIncidentFromProblem.problem.incidentCount).toBe(1);
    const unlinkAgain = await graph.request<any>(UNLINK, { input: { problemId: problem.id, incidentId: a.id } }, token);
    expect(unlinkAgain.body.data.unlinkIncidentFromProblem.errors[0]).toMatchObject({ __typename: 'NotFound' });
  });

  it('counts every link when many are made at once', async () => {
    const token = await graph.token({ roles: ['agent'] });
    const { problem } = await createProblem(token, { title: 'Storage latency' });
    const ids = Array.from({ length: 10 }, () => randomUUID());
    await Promise.all(ids.map((incidentId) => graph.request(LINK, { input: { problemId: problem.id, incidentId } }, token)));
    const read = await graph.request<any>(`query ($id: ID) { problem(id: $id) { incidentCount incidentLinks { relation } } }`, { id: problem.id }, token);
    expect(read.body.data.problem.incidentCount).toBe(10);
    expect(read.body.data.problem.incidentLinks).toHaveLength(10);
  });

  it('resolves Incident.problems across subgraphs and refuses links to closed problems', async () => {
    const manager = await graph.token({ roles: ['manager'] });
    const incident = await createIncident(manager, 'Laptop battery swells');
    const one = (await createProblem(manager, { title: 'Battery batch A' })).problem;
    const two = (await createProblem(manager, { title: 'Battery batch B' })).problem;
    await graph.request(LINK, { input: { problemId: one.id, incidentId: incident.id } }, manager);
    await graph.request(LINK, { input: { problemId: two.id, incidentId: incident.id, relation: 'RELATED_TO' } }, manager);
    const read = await graph.request<any>(`query ($id: ID) { incident(id: $id) { number problem { number } problems { number } } }`, { id: incident.id }, manager);
    expect(read.body.data.incident).toEqual({ number: incident.number, problem: { number: one.number }, problems: [{ number: one.number }, { number: two.number }] });

    const cancelled = await transition(manager, { id: two.id, version: two.version, to: 'CANCELLED' });
    expect(cancelled.problem.state).toBe('CANCELLED');
    const refused = await graph.request<any>(LINK, { input: { problemId: two.id, incidentId: randomUUID() } }, manager);
    expect(refused.body.data.linkIncidentToProblem.errors[0]).toMatchObject({ __typename: 'Conflict' });
    const badRelation = await graph.request<any>(LINK, { input: { problemId: one.id, incidentId: 'not-an-id' } }, manager);
    expect(badRelation.body.data.linkIncidentToProblem.errors[0]).toMatchObject({ field: 'input.incidentId', rule: 'uuid' });
  });
});

describe('incidents waiting for a problem', () => {
  it('puts an incident linked to an open problem on hold awaiting the problem, and shows the problem from the incident', async () => {
    const token = await graph.token({ roles: ['agent'] });
    const incident = await createIncident(token, 'CRM times out on save');
    const { problem } = await createProblem(token, { title: 'CRM database locks' });
    await graph.request(LINK, { input: { problemId: problem.id, incidentId: incident.id } }, token);
    const read = await graph.request<any>(`query ($id: ID) { incident(id: $id) { version problem { number state } } }`, { id: incident.id }, token);
    expect(read.body.data.incident.problem).toEqual({ number: problem.number, state: 'NEW' });
    const held = await graph.request<any>(
      `mutation ($input: TransitionIncidentInput!) { transitionIncident(input: $input) { incident { state holdReason problem { number } } errors { code message } } }`,
      { input: { id: incident.id, version: read.body.data.incident.version, to: 'ON_HOLD', holdReason: 'AWAITING_PROBLEM' } },
      token,
    );
    expect(held.body.errors).toBeUndefined();
    expect(held.body.data.transitionIncident).toEqual({ incident: { state: 'ON_HOLD', holdReason: 'AWAITING_PROBLEM', problem: { number: problem.number } }, errors: [] });
  });
});

/** The tenant a token was issued for (tokens are JWTs: the payload is the middle part). */
async function tenantOf(token: string): Promise<string> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')).tenant as string;
}
