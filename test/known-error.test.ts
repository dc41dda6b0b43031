import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCommunicatedWorkaround } from '../subgraphs/incident/src/services/workaround-consumer.js';
import { startTestGraph, type TestGraph } from './harness.js';

let graph: TestGraph;
beforeAll(async () => {
  graph = await startTestGraph();
});
afterAll(async () => {
  await graph?.stop();
});

const ERRORS = `errors { __typename code message ... on ValidationFailed { field rule } ... on VersionConflict { currentVersion } }`;
const KE_FIELDS = `id number title symptoms rootCause workaround permanentFix active version problem { number } workaroundCommunicatedAt`;
const CREATE_KE = `mutation ($input: CreateKnownErrorInput!) { createKnownError(input: $input) { knownError { ${KE_FIELDS} } ${ERRORS} } }`;
const FROM_PROBLEM = `mutation ($input: CreateKnownErrorFromProblemInput!) { createKnownErrorFromProblem(input: $input) { knownError { ${KE_FIELDS} } ${ERRORS} } }`;
const UPDATE_KE = `mutation ($input: UpdateKnownErrorInput!) { updateKnownError(input: $input) { knownError { ${KE_FIELDS} } ${ERRORS} } }`;
const LINK_KE = `mutation ($input: LinkIncidentToKnownErrorInput!) { linkIncidentToKnownError(input: $input) { knownError { number incidents { number } } ${ERRORS} } }`;
const COMMUNICATE = `mutation ($input: CommunicateWorkaroundInput!) { communicateWorkaround(input: $input) { knownError { number workaroundCommunicatedAt } incidents { number } ${ERRORS} } }`;
const CREATE_PROBLEM = `mutation ($input: CreateProblemInput!) { createProblem(input: $input) { problem { id number version } ${ERRORS} } }`;
const LINK_PROBLEM = `mutation ($input: LinkIncidentInput!) { linkIncidentToProblem(input: $input) { problem { incidentCount } ${ERRORS} } }`;
const CREATE_INCIDENT = `mutation ($input: CreateIncidentInput!) { createIncident(input: $input) { incident { id number version } errors { code message } } }`;
const TRANSITION_INCIDENT = `mutation ($input: TransitionIncidentInput!) { transitionIncident(input: $input) { incident { state version } errors { code message } } }`;

async function gql(query: string, variables: Record<string, unknown>, token: string) {
  const result = await graph.request<any>(query, variables, token);
  expect(result.body.errors).toBeUndefined();
  return result.body.data;
}

async function createKnownError(token: string, input: Record<string, unknown>) {
  return (await gql(CREATE_KE, { input }, token)).createKnownError;
}

async function createIncident(token: string, title: string, description?: string) {
  const created = (await gql(CREATE_INCIDENT, { input: { title, description, impact: 3, urgency: 3 } }, token)).createIncident;
  expect(created.errors).toEqual([]);
  return created.incident as { id: string; number: string; version: number };
}

async function createProblem(token: string, input: Record<string, unknown>) {
  const created = (await gql(CREATE_PROBLEM, { input }, token)).createProblem;
  expect(created.errors).toEqual([]);
  return created.problem as { id: string; number: string; version: number };
}

describe('known errors', () => {
  it('numbers known errors KE<6 digits> per tenant and validates what they need', async () => {
    const token = await graph.token({ roles: ['agent'] });
    const first = await createKnownError(token, { title: 'SSO loops on login', symptoms: 'Browser redirects between portal and IdP', workaround: 'Clear cookies' });
    expect(first.errors).toEqual([]);
    expect(first.knownError).toMatchObject({ number: 'KE000001', active: true, version: 1, problem: null, workaroundCommunicatedAt: null, workaround: 'Clear cookies' });
    expect((await createKnownError(token, { title: 'Second', symptoms: 'Something' })).knownError.number).toBe('KE000002');
    expect((await createKnownError(await graph.token(), { title: 'Other tenant', symptoms: 'x' })).knownError.number).toBe('KE000001');

    const bad = await createKnownError(token, { title: ' ', symptoms: '', problemId: randomUUID() });
    expect(bad.knownError).toBeNull();
    expect(bad.errors.map((e: any) => [e.field, e.rule])).toEqual([
      ['input.title', 'required'],
      ['input.symptoms', 'required'],
    ]);
    const noProblem = await createKnownError(token, { title: 'Orphan', symptoms: 'x', problemId: randomUUID() });
    expect(noProblem.errors[0]).toMatchObject({ __typename: 'NotFound' });
    const list = await gql(`{ knownErrors { totalCount edges { score node { number } } } }`, {}, token);
    expect(list.knownErrors).toEqual({ totalCount: 2, edges: [{ score: null, node: { number: 'KE000002' } }, { score: null, node: { number: 'KE000001' } }] });

    const partner = await graph.token({ roles: ['partner'] });
    expect((await createKnownError(partner, { title: 'No', symptoms: 'No' })).errors[0]).toMatchObject({ __typename: 'Forbidden' });
  });

  it('records a problem\'s root cause and workaround as a known error, only once it has one of them', async () => {
    const token = await graph.token({ roles: ['agent'] });
    const problem = await createProblem(token, { title: 'Mail queue stalls', description: 'Outgoing mail waits for hours' });
    const early = (await gql(FROM_PROBLEM, { input: { problemId: problem.id } }, token)).createKnownErrorFromProblem;
    expect(early).toEqual({ knownError: null, errors: [expect.objectContaining({ field: 'input.problemId', rule: 'rootCauseOrWorkaround' })] });

    await gql(
      `mutation ($input: UpdateProblemInput!) { updateProblem(input: $input) { errors { code } } }`,
      { input: { id: problem.id, version: problem.version, rootCause: 'Disk quota on the relay', workaround: 'Restart the relay service' } },
      token,
    );
    const created = (await gql(FROM_PROBLEM, { input: { problemId: problem.id } }, token)).createKnownErrorFromProblem;
    expect(created.errors).toEqual([]);
    expect(created.knownError).toMatchObject({
      number: 'KE000001',
      title: 'Mail queue stalls',
      symptoms: 'Outgoing mail waits for hours',
      rootCause: 'Disk quota on the relay',
      workaround: 'Restart the relay service',
      problem: { number: problem.number },
    });
    const read = await gql(`query ($id: ID) { problem(id: $id) { knownErrors { number } } }`, { id: problem.id }, token);
    expect(read.problem.knownErrors).toEqual([{ number: 'KE000001' }]);
  });

  it('updates a known error with optimistic concurrency', async () => {
    const token = await graph.token({ roles: ['agent'] });
    const { knownError } = await createKnownError(token, { title: 'Teams audio cuts', symptoms: 'Audio drops in calls' });
    const updated = (await gql(UPDATE_KE, { input: { id: knownError.id, version: 1, permanentFix: 'Driver 2.1', active: false } }, token)).updateKnownError;
    expect(updated.knownError).toMatchObject({ permanentFix: 'Driver 2.1', active: false, version: 2 });
    const stale = (await gql(UPDATE_KE, { input: { id: knownError.id, version: 1, title: 'Lost' } }, token)).updateKnownError;
    expect(stale).toEqual({ knownError: null, errors: [expect.objectContaining({ __typename: 'VersionConflict', currentVersion: 2 })] });
  });
});

describe('matching incidents to known errors', () => {
  it('ranks "VPN disconnects every hour" first for the incident "vpn keeps dropping hourly", in a query that starts at the incident', async () => {
    const tenant = randomUUID();
    const token = await graph.token({ tenant, roles: ['agent'] });
    const target = (await createKnownError(token, { title: 'VPN disconnects every hour', symptoms: 'VPN disconnects every hour', workaround: 'Reconnect; set keepalive to 30 s' })).knownError;
    for (const ke of [
      { title: 'VPN client fails to install', symptoms: 'Installer for the VPN client stops with error 1603' },
      { title: 'Wi-Fi drops in meeting rooms', symptoms: 'Wireless keeps dropping every few minutes in meeting rooms' },
      { title: 'Printer jams on floor 3', symptoms: 'Paper jam on the floor 3 printer' },
      { title: 'Outlook crashes on attachments', symptoms: 'Outlook crashes when opening PDF attachments' },
    ]) {
      await createKnownError(token, ke);
    }
    const retired = (await createKnownError(token, { title: 'VPN keeps dropping hourly', symptoms: 'vpn keeps dropping hourly' })).knownError;
    await gql(UPDATE_KE, { input: { id: retired.id, version: 1, active: false } }, token);
    await createKnownError(await graph.token(), { title: 'vpn keeps dropping hourly', symptoms: 'vpn keeps dropping hourly' });

    const incident = await createIncident(token, 'vpn keeps dropping hourly');
    const result = await gql(
      `query ($id: ID) { incident(id: $id) { number title knownErrorMatches(first: 3) { score knownError { number title active } } } }`,
      { id: incident.id },
      token,
    );
    const matches = result.incident.knownErrorMatches as { score: number; knownError: { number: string; title: string; active: boolean } }[];
    expect(result.incident.number).toBe(incident.number);
    expect(matches.map((m) => m.knownError.title)).toEqual(['VPN disconnects every hour', 'Wi-Fi drops in meeting rooms', 'VPN client fails to install']);
    expect(matches[0]!.knownError.number).toBe(target.number);
    expect(matches.every((m) => m.knownError.active)).toBe(true);
    expect(matches[0]!.score).toBeGreaterThan(matches[1]!.score);
    expect(matches[1]!.score).toBeGreaterThan(matches[2]!.score);
  });

  it('matches several incidents in one list, each with its own ranking', async () => {
    const token = await graph.token({ roles: ['agent'] });
    await createKnownError(token, { title: 'Printer jams on floor 3', symptoms: 'Paper jam on the floor 3 printer' });
    await createKnownError(token, { title: 'Outlook crashes on attachments', symptoms: 'Outlook crashes when opening PDF attachments' });
    await createIncident(token, 'Outlook crashed opening a PDF');
    await createIncident(token, 'Printer jammed', 'paper stuck on floor 3');
    await createIncident(token, 'Keyboard missing keys');
    const result = await gql(`{ incidents(first: 10) { edges { node { title knownErrorMatches { knownError { title } } } } } }`, {}, token);
    const byTitle = Object.fromEntries(result.incidents.edges.map((e: any) => [e.node.title, e.node.knownErrorMatches.map((m: any) => m.knownError.title)]));
    expect(byTitle).toEqual({
      'Outlook crashed opening a PDF': ['Outlook crashes on attachments'],
      'Printer jammed': ['Printer jams on floor 3'],
      'Keyboard missing keys': [],
    });
  });

  it('searches the Known Error Database directly, ranked, paged, and forgiving of typos', async () => {
    const token = await graph.token({ roles: ['agent'] });
    await createKnownError(token, { title: 'VPN disconnects every hour', symptoms: 'VPN disconnects every hour' });
    await createKnownError(token, { title: 'VPN client fails to install', symptoms: 'Installer for the VPN client stops with error 1603' });
    await createKnownError(token, { title: 'Outlook crashes on attachments', symptoms: 'Outlook crashes when opening PDF attachments' });
    const SEARCH = `query ($s: String, $after: String) { knownErrors(search: $s, first: 1, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { score node { title } } } }`;
    const page1 = (await gql(SEARCH, { s: 'vpn dropping hourly' }, token)).knownErrors;
    expect(page1.totalCount).toBe(2);
    expect(page1.edges.map((e: any) => e.node.title)).toEqual(['VPN disconnects every hour']);
    expect(page1.edges[0].score).toBeGreaterThan(0);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = (await gql(SEARCH, { s: 'vpn dropping hourly', after: page1.pageInfo.endCursor }, token)).knownErrors;
    expect(page2.edges.map((e: any) => e.node.title)).toEqual(['VPN client fails to install']);
    expect(page2.pageInfo.hasNextPage).toBe(false);
    const typo = (await gql(SEARCH, { s: 'outlok' }, token)).knownErrors;
    expect(typo.edges.map((e: any) => e.node.title)).toEqual(['Outlook crashes on attachments']);
    const nothing = (await gql(SEARCH, { s: '"); drop table --' }, token)).knownErrors;
    expect(nothing).toEqual({ totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null }, edges: [] });
  });

  it('links an incident to a known error and thereby to its problem', async () => {
    const token = await graph.token({ roles: ['agent'] });
    const problem = await createProblem(token, { title: 'Certificate expiry', workaround: 'Accept the new certificate' });
    const { knownError } = await createKnownError(token, { title: 'Certificate warning on intranet', symptoms: 'Browser warns about the intranet certificate', problemId: problem.id });
    const incident = await createIncident(token, 'Certificate warning when opening intranet');
    const linked = (await gql(LINK_KE, { input: { knownErrorId: knownError.id, incidentId: incident.id } }, token)).linkIncidentToKnownError;
    expect(linked).toEqual({ knownError: { number: knownError.number, incidents: [{ number: incident.number }] }, errors: [] });
    const read = await gql(
      `query ($id: ID) { incident(id: $id) { knownErrors { number } problem { number incidentCount incidentLinks { relation } } } }`,
      { id: incident.id },
      token,
    );
    expect(read.incident).toEqual({
      knownErrors: [{ number: knownError.number }],
      problem: { number: problem.number, incidentCount: 1, incidentLinks: [{ relation: 'CAUSED_BY' }] },
    });
  });
});

describe('communicate workaround', () => {
  it('writes the workaround to every open linked incident through an event; closed ones do not change', async () => {
    const tenant = randomUUID();
    const token = await graph.token({ tenant, roles: ['manager'] });
    const problem = await createProblem(token, { title: 'Laptops lose Wi-Fi after sleep', workaround: 'Toggle airplane mode twice' });
    const { knownError } = (await gql(FROM_PROBLEM, { input: { problemId: problem.id } }, token)).createKnownErrorFromProblem;
    const open1 = await createIncident(token, 'No Wi-Fi after lid close');
    const open2 = await createIncident(token, 'Wi-Fi gone after standby');
    const closed = await createIncident(token, 'Wi-Fi missing after sleep');
    const direct = await createIncident(token, 'Wireless lost after sleep');
    for (const incident of [open1, open2, closed]) {
      expect((await gql(LINK_PROBLEM, { input: { problemId: problem.id, incidentId: incident.id } }, token)).linkIncidentToProblem.errors).toEqual([]);
    }
    await gql(LINK_KE, { input: { knownErrorId: knownError.id, incidentId: direct.id } }, token);
    let version = closed.version;
    for (const step of [
      { to: 'IN_PROGRESS' },
      { to: 'RESOLVED', resolutionCode: 'WORKAROUND_PROVIDED', resolutionNotes: 'Toggled airplane mode' },
      { to: 'CLOSED' },
    ]) {
      const moved = (await gql(TRANSITION_INCIDENT, { input: { id: closed.id, version, ...step } }, token)).transitionIncident;
      expect(moved.errors).toEqual([]);
      version = moved.incident.version;
    }

    const sent = (await gql(COMMUNICATE, { input: { knownErrorId: knownError.id } }, token)).communicateWorkaround;
    expect(sent.errors).toEqual([]);
    expect(sent.knownError.workaroundCommunicatedAt).not.toBeNull();
    expect(sent.incidents.map((i: any) => i.number).sort()).toEqual([open1, open2, closed, direct].map((i) => i.number).sort());

    // The event is all the problem subgraph writes; the incident subgraph's consumer applies it.
    const events = await outboxRows(tenant, 'WORKAROUND_COMMUNICATED');
    expect(events).toHaveLength(1);
    const event = { tenantId: tenant, type: 'WORKAROUND_COMMUNICATED', payload: events[0]!.payload };
    expect(event.payload).toMatchObject({ problemId: problem.id, knownErrorId: knownError.id, workaround: 'Toggle airplane mode twice' });

    const expected = [
      { number: open1.number, state: 'NEW', workaround: 'Toggle airplane mode twice', version: open1.version + 1 },
      { number: open2.number, state: 'NEW', workaround: 'Toggle airplane mode twice', version: open2.version + 1 },
      { number: closed.number, state: 'CLOSED', workaround: null, version },
      { number: direct.number, state: 'NEW', workaround: 'Toggle airplane mode twice', version: direct.version + 1 },
    ];
    let after = await readIncidents(token, [open1, open2, closed, direct]);
    for (let waited = 0; waited < 100_000 && after.some((i, n) => i.workaround !== expected[n]!.workaround); waited += 250) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      after = await readIncidents(token, [open1, open2, closed, direct]);
    }
    expect(after).toEqual(expected);
    // Delivery is at-least-once: applying the same event again changes nothing.
    expect(await applyCommunicatedWorkaround(graph.databases.incident.db, event)).toEqual([]);
    expect(await readIncidents(token, [open1, open2, closed, direct])).toEqual(after);
    const otherTenant = await applyCommunicatedWorkaround(graph.databases.incident.db, { ...event, tenantId: randomUUID() });
    expect(otherTenant).toEqual([]);
  });

  it('needs a workaround to communicate', async () => {
    const token = await graph.token({ roles: ['agent'] });
    const { knownError } = await createKnownError(token, { title: 'Unknown fix', symptoms: 'Something odd' });
    const result = (await gql(COMMUNICATE, { input: { knownErrorId: knownError.id } }, token)).communicateWorkaround;
    expect(result).toEqual({ knownError: null, incidents: [], errors: [expect.objectContaining({ field: 'input.knownErrorId', rule: 'workaroundRequired' })] });
  });
});

async function readIncidents(token: string, incidents: { id: string }[]) {
  const rows = [];
  for (const { id } of incidents) {
    rows.push((await gql(`query ($id: ID) { incident(id: $id) { number state workaround version } }`, { id }, token)).incident);
  }
  return rows;
}

async function outboxRows(tenantId: string, type: string): Promise<{ payload: Record<string, unknown> }[]> {
  const result = (await graph.databases.problem.db.execute(
    `select payload from problem.outbox where tenant_id = '${tenantId}' and type = '${type}' order by position`,
  )) as unknown as { payload: Record<string, unknown> }[] | { rows: { payload: Record<string, unknown> }[] };
  return Array.isArray(result) ? result : result.rows;
}
