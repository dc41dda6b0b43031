import { randomUUID } from 'node:crypto';
import { getNamedType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGraph, type TestGraph } from './harness.js';
import {
  changedTables,
  errorCodes,
  generatedArgsFor,
  newMarker,
  operationFor,
  rootFields,
  seedTenant,
  selectionOf,
  snapshotTenant,
  VALID_INPUTS,
  VOLATILE_FIELDS,
  type SeededTenant,
} from './probe-kit.js';

/**
 * The read-only partner role, by every field of the API schema: it reads every query an agent reads and gets the
 * same answers, except internal notes (resolution notes, history reasons, transition and approval comments, CAB
 * vote comments), which are null for it; every mutation refuses it with Forbidden and writes nothing.
 */

let graph: TestGraph;
let tenant: SeededTenant;
let agent: string;
let partner: string;
const NOW = Date.now();
/** Queries only staff may run, with why. */
const STAFF_ONLY: Record<string, string> = {
  slaReport: 'SLA compliance reports are for agents and managers (schema: "Agents and managers")',
};

beforeAll(async () => {
  graph = await startTestGraph({ background: false, env: { MAX_QUERY_DEPTH: '50', MAX_ALIASES: '1000', MAX_QUERY_COST: '100000000' } });
  tenant = await seedTenant(graph, randomUUID(), newMarker('roles'));
  agent = await graph.token({ tenant: tenant.tenantId, roles: ['agent'], sub: 'agent-1' });
  partner = await graph.token({ tenant: tenant.tenantId, roles: ['partner'], sub: 'partner-1' });
  // A normal change of low risk the change manager rejects with a comment: the comment is copied into the approval's reason.
  const manager = await graph.token({ tenant: tenant.tenantId, roles: ['change_manager'], sub: 'manager-1' });
  const run = async (query: string, variables: Record<string, unknown>) => {
    const { body } = await graph.request<any>(query, variables, manager);
    expect(body.errors).toBeUndefined();
    return body.data;
  };
  const TRANSITION = `mutation ($input: TransitionChangeRequestInput!) { transitionChangeRequest(input: $input) { changeRequest { id version } errors { code } } }`;
  let change = (await run(`mutation { createChangeRequest(input: { title: "Low risk", type: NORMAL }) { changeRequest { id version } } }`, {})).createChangeRequest.changeRequest;
  change = (await run(TRANSITION, { input: { changeRequestId: change.id, version: change.version, to: 'ASSESS' } })).transitionChangeRequest.changeRequest;
  const factors = Object.fromEntries(
    ['technicalComplexity', 'businessImpact', 'implementationTimeline', 'resourceDependencies', 'testingCoverage', 'rollbackComplexity', 'externalDependencies'].map((n) => [n, { score: 1, justification: 'low' }]),
  );
  await run(`mutation ($input: AssessChangeRiskInput!) { assessChangeRisk(input: $input) { errors { code } } }`, { input: { changeRequestId: change.id, factors } });
  const assessed = (await run(`query ($id: ID) { changeRequest(id: $id) { id version } }`, { id: change.id })).changeRequest;
  change = (await run(TRANSITION, { input: { changeRequestId: assessed.id, version: assessed.version, to: 'AUTHORIZE' } })).transitionChangeRequest.changeRequest;
  const rejected = await run(`mutation ($input: DecideChangeApprovalInput!) { decideChangeApproval(input: $input) { errors { code } } }`, {
    input: { changeRequestId: change.id, version: change.version, decision: 'REJECT', comment: `manager note ${tenant.marker}` },
  });
  expect(rejected.decideChangeApproval.errors).toEqual([]);
}, 120_000);

afterAll(async () => {
  await graph?.stop();
});

/** The internal notes seeded into the tenant (see seedTenant), which a partner must never read. */
function internalNotes(): string[] {
  const m = tenant.marker;
  return [`internal notes ${m}`, `waiting ${m}`, `fixed ${m}`, `override ${m}`, `major ${m}`, `assess ${m}`, `authorize ${m}`, `cab comment ${m}`, `second comment ${m}`, `manager note ${m}`];
}

/** An agent's answer as a partner should get it: every internal note null, the change manager's comment cut from the reason. */
function withoutInternalNotes(body: unknown): string {
  return JSON.stringify(body, function (this: Record<string, unknown>, key, value) {
    const holder = this;
    if (key === 'resolutionNotes' || key === 'comment') return null;
    if (key === 'reason' && 'actor' in holder && 'field' in holder) return null;
    if (key === 'reason' && 'decidedBy' in holder && typeof holder['comment'] === 'string' && typeof value === 'string') return value.replace(`: ${holder['comment']}`, '');
    return value;
  });
}

describe('the read-only partner role', () => {
  it('reads every query field an agent reads and gets the same answers, with internal notes null', async () => {
    const seenByAgent = new Set<string>();
    const answered = new Set<string>();
    let probes = 0;
    for (const field of rootFields('Query')) {
      const selection = selectionOf(getNamedType(field.type), 3, { skip: VOLATILE_FIELDS });
      const variants = generatedArgsFor(field, tenant, NOW);
      expect([field.name, variants.length > 0]).toEqual([field.name, true]);
      for (const args of variants) {
        const { query, variables } = operationFor('query', field, args, selection);
        const asAgent = (await graph.request(query, variables, agent)).body;
        const asPartner = (await graph.request(query, variables, partner)).body;
        probes++;
        if (!asAgent.errors) answered.add(field.name);
        for (const note of internalNotes()) if (JSON.stringify(asAgent).includes(note)) seenByAgent.add(note);
        if (STAFF_ONLY[field.name]) {
          expect([field.name, errorCodes(asPartner)]).toEqual([field.name, ['FORBIDDEN']]);
          continue;
        }
        expect([field.name, JSON.stringify(asPartner)]).toEqual([field.name, withoutInternalNotes(asAgent)]);
        for (const note of internalNotes()) expect([field.name, JSON.stringify(asPartner).includes(note)]).toEqual([field.name, false]);
      }
    }
    // Every field answered the agent without errors for at least one of its arguments (a change without a planned
    // duration refuses nextFreeChangeSlots without durationMinutes, to both roles alike).
    expect(rootFields('Query').map((f) => f.name).filter((name) => !answered.has(name))).toEqual([]);
    // The agent did read every kind of internal note through these queries, so the partner's answers were checked against them.
    expect([...seenByAgent].sort()).toEqual(internalNotes().sort());
    console.log(`partner read probes: ${probes} over ${rootFields('Query').length} query fields`);
  });

  it('is refused by every mutation with Forbidden, and nothing of the tenant changes', async () => {
    const before = await snapshotTenant(graph, tenant.tenantId);
    const refusals: Record<string, unknown> = {};
    for (const field of rootFields('Mutation')) {
      const valid = VALID_INPUTS[field.name];
      expect([field.name, typeof valid]).toEqual([field.name, 'function']);
      const { query, variables } = operationFor('mutation', field, { input: valid!(() => tenant) }, `errors { __typename code }`);
      const { body } = await graph.request<any>(query, variables, partner);
      refusals[field.name] = body.errors ?? body.data[field.name].errors;
    }
    expect(refusals).toEqual(Object.fromEntries(rootFields('Mutation').map((f) => [f.name, [{ __typename: 'Forbidden', code: 'FORBIDDEN' }]])));
    expect(changedTables(before, await snapshotTenant(graph, tenant.tenantId))).toEqual([]);
  });
});
