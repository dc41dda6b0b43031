import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from '@graphql-codegen/cli';
import { buildSchema, parse, print, validate, visit } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import codegenConfig from '../clients/codegen.js';
import { ChangeRequestWithIncidentsDocument, OpenIncidentsDocument, ProblemWithIncidentsDocument } from '../clients/generated/graphql.js';
import { request } from '../clients/request.js';
import { API_SCHEMA_FILE, apiSchemaOf } from '../schema/api-schema.js';
import { composeSupergraph, SUPERGRAPH_FILE } from '../schema/compose.js';
import { startTestGraph, type TestGraph } from './harness.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OPERATIONS_DIR = join(ROOT, 'clients/operations');
const operationFiles = readdirSync(OPERATIONS_DIR).filter((f) => f.endsWith('.graphql')).sort();

/** The API schema composed from the subgraph SDLs right now, not from a committed file that could be stale. */
const composedApiSchema = apiSchemaOf(composeSupergraph());

function validationErrors(schemaSdl: string, file: string): string[] {
  return validate(buildSchema(schemaSdl), parse(readFileSync(join(OPERATIONS_DIR, file), 'utf8'))).map((e) => e.message);
}

describe('typed client operations against the composed API schema', () => {
  it('has one example operation per domain', () => {
    expect(operationFiles).toEqual(['change-request-with-incidents.graphql', 'incidents.graphql', 'problem-with-incidents.graphql']);
  });

  it('commits the API schema of the committed supergraph (run `pnpm compose` after an SDL change)', () => {
    expect(readFileSync(API_SCHEMA_FILE, 'utf8')).toBe(apiSchemaOf(readFileSync(SUPERGRAPH_FILE, 'utf8')));
    expect(readFileSync(API_SCHEMA_FILE, 'utf8')).toBe(composedApiSchema);
  });

  for (const file of operationFiles) {
    it(`${file} validates`, () => {
      expect(validationErrors(composedApiSchema, file)).toEqual([]);
    });
  }

  it('fails an operation whose field was removed from the schema', () => {
    const withoutLabel = print(
      visit(parse(composedApiSchema), {
        FieldDefinition: (field, _key, _parent, _path, ancestors) => {
          const owner = ancestors[ancestors.length - 1];
          return field.name.value === 'priorityLabel' && owner && 'name' in owner && (owner.name as { value: string }).value === 'Incident' ? null : undefined;
        },
      }),
    );
    expect(withoutLabel).not.toMatch(/^type Incident [^}]*priorityLabel/m);
    expect(withoutLabel).toMatch(/^type Incident [^}]*priority: Int!/m);
    expect(validationErrors(withoutLabel, 'incidents.graphql')).toEqual(['Cannot query field "priorityLabel" on type "Incident". Did you mean "priority"?']);
  });

  it('commits generated documents that match the operations and the schema (run `pnpm codegen`)', async () => {
    const outputs: { filename: string; content: string }[] = await generate({ ...codegenConfig, cwd: ROOT, silent: true }, false);
    expect(outputs.map((o) => o.filename).sort()).toEqual(['clients/generated/gql.ts', 'clients/generated/graphql.ts', 'clients/generated/index.ts']);
    for (const output of outputs) expect(readFileSync(join(ROOT, output.filename), 'utf8'), output.filename).toBe(output.content);
  });
});

describe('the typed client runs each example operation through the gateway', () => {
  let graph: TestGraph;
  let token: string;
  beforeAll(async () => {
    graph = await startTestGraph();
    token = await graph.token({ roles: ['agent', 'change_manager'] });
  });
  afterAll(async () => {
    await graph?.stop();
  });

  it('returns typed incidents, a problem with its incidents and a change request with its incidents', async () => {
    const created = await graph.request<any>(
      `mutation { createIncident(input: { title: "VPN concentrator drops sessions", impact: 1, urgency: 1 }) { incident { id } errors { code } } }`,
      {},
      token,
    );
    const incidentId = created.body.data.createIncident.incident.id;
    const problem = await graph.request<any>(`mutation { createProblem(input: { title: "VPN firmware leak" }) { problem { id number } errors { code } } }`, {}, token);
    const { id: problemId, number: problemNumber } = problem.body.data.createProblem.problem;
    await graph.request(`mutation ($p: ID!, $i: ID!) { linkIncidentToProblem(input: { problemId: $p, incidentId: $i }) { errors { code } } }`, { p: problemId, i: incidentId }, token);
    const change = await graph.request<any>(
      `mutation { createChangeRequest(input: { title: "Upgrade VPN firmware", type: NORMAL }) { changeRequest { id number } errors { code } } }`,
      {},
      token,
    );
    const { id: changeId, number: changeNumber } = change.body.data.createChangeRequest.changeRequest;
    await graph.request(`mutation ($c: ID!, $i: ID!) { linkChangeToIncident(input: { changeRequestId: $c, incidentId: $i }) { errors { code } } }`, { c: changeId, i: incidentId }, token);

    const { incidents } = await request(graph.url, token, OpenIncidentsDocument, { first: 10, filter: { priority: [1] } });
    expect(incidents.totalCount).toBe(1);
    expect(incidents.edges.map((e) => [e.node.number, e.node.priority, e.node.priorityLabel, e.node.state])).toEqual([['INC0000001', 1, 'Critical', 'NEW']]);

    const { problem: fetchedProblem } = await request(graph.url, token, ProblemWithIncidentsDocument, { number: problemNumber });
    expect(fetchedProblem?.incidentCount).toBe(1);
    expect(fetchedProblem?.incidents).toEqual([{ number: 'INC0000001', title: 'VPN concentrator drops sessions', priority: 1, state: 'NEW' }]);

    const { changeRequest } = await request(graph.url, token, ChangeRequestWithIncidentsDocument, { number: changeNumber });
    expect(changeRequest).toMatchObject({ number: changeNumber, type: 'NORMAL', state: 'NEW' });
    expect(changeRequest?.incidents).toEqual([{ number: 'INC0000001', title: 'VPN concentrator drops sessions', priority: 1, state: 'NEW' }]);
  });
});
