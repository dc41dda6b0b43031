import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGraph, type TestGraph } from './harness.js';

let graph: TestGraph;
beforeAll(async () => {
  graph = await startTestGraph();
});
afterAll(async () => {
  await graph?.stop();
});

const CREATE_INCIDENT = /* GraphQL */ `
  mutation ($input: CreateIncidentInput!) {
    createIncident(input: $input) {
      incident { id number priority priorityLabel state version }
      errors { code message ... on ValidationFailed { field rule } }
    }
  }
`;

describe('federated graph through the gateway', () => {
  it('resolves an incident with its problem and related changes across three subgraphs', async () => {
    const token = await graph.token({ roles: ['agent'] });
    const created = await graph.request<any>(CREATE_INCIDENT, { input: { title: 'Mail server down', impact: 1, urgency: 2 } }, token);
    expect(created.body.errors).toBeUndefined();
    const incident = created.body.data.createIncident.incident;
    expect(incident).toMatchObject({ number: 'INC0000001', priority: 2, priorityLabel: 'High', state: 'NEW', version: 1 });

    const problem = await graph.request<any>(
      `mutation { createProblem(input: { title: "Mail relay memory leak" }) { problem { id number } errors { code } } }`,
      {},
      token,
    );
    const problemId = problem.body.data.createProblem.problem.id;
    expect(problem.body.data.createProblem.problem.number).toMatch(/^PRB\d{4}000001$/);
    const link = await graph.request<any>(
      `mutation ($p: ID!, $i: ID!) { linkIncidentToProblem(input: { problemId: $p, incidentId: $i }) { problem { incidentCount } errors { code } } }`,
      { p: problemId, i: incident.id },
      token,
    );
    expect(link.body.data.linkIncidentToProblem).toEqual({ problem: { incidentCount: 1 }, errors: [] });

    const change = await graph.request<any>(
      `mutation { createChangeRequest(input: { title: "Patch mail relay", type: NORMAL }) { changeRequest { id number } errors { code } } }`,
      {},
      token,
    );
    const changeId = change.body.data.createChangeRequest.changeRequest.id;
    await graph.request(`mutation ($c: ID!, $i: ID!) { linkChangeToIncident(input: { changeRequestId: $c, incidentId: $i }) { errors { code } } }`, { c: changeId, i: incident.id }, token);
    await graph.request(`mutation ($c: ID!, $p: ID!) { linkChangeToProblem(input: { changeRequestId: $c, problemId: $p }) { errors { code } } }`, { c: changeId, p: problemId }, token);

    const result = await graph.request<any>(
      `query ($n: String) { incident(number: $n) { number problem { number incidents { number } changes { title } } relatedChanges { title incidents { number } } } }`,
      { n: 'INC0000001' },
      token,
    );
    expect(result.body.errors).toBeUndefined();
    expect(result.body.data.incident).toEqual({
      number: 'INC0000001',
      problem: { number: problem.body.data.createProblem.problem.number, incidents: [{ number: 'INC0000001' }], changes: [{ title: 'Patch mail relay' }] },
      relatedChanges: [{ title: 'Patch mail relay', incidents: [{ number: 'INC0000001' }] }],
    });
  });
});
