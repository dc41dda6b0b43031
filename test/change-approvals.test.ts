import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSESS, CHANGE_FIELDS, CREATE_CHANGE, ERRORS, SCHEDULE, TRANSITION, factors, newTenant, type ChangeTenant } from './change-test-kit.js';
import { startTestGraph, type TestGraph } from './harness.js';

let graph: TestGraph;
beforeAll(async () => {
  graph = await startTestGraph();
});
afterAll(async () => {
  await graph?.stop();
});

const DECIDE = /* GraphQL */ `
  mutation ($input: DecideChangeApprovalInput!) {
    decideChangeApproval(input: $input) { changeRequest { ${CHANGE_FIELDS} } ${ERRORS} }
  }
`;
const HISTORY = /* GraphQL */ `
  query ($id: ID!) {
    changeRequest(id: $id) {
      state approvalStatus allowedTransitions
      transitions { from to actorId comment }
      approvals { path decision decidedBy reason comment approveWeight rejectWeight abstainWeight votersCount meeting { title } }
      cabVotes { memberId vote comment weight meeting { title } }
      riskAssessments { level }
    }
  }
`;
const SET_MEMBER = /* GraphQL */ `
  mutation ($input: SetCabMemberInput!) { setCabMember(input: $input) { cabBoard { members { userId weight } quorum } ${ERRORS} } }
`;
const SET_POLICY = /* GraphQL */ `
  mutation ($input: SetCabPolicyInput!) { setCabPolicy(input: $input) { cabBoard { board quorum approvalThreshold anyMemberApproves customised } ${ERRORS} } }
`;
const CREATE_MEETING = /* GraphQL */ `
  mutation ($input: CreateCabMeetingInput!) {
    createCabMeeting(input: $input) { cabMeeting { id state agenda { position changeRequest { number } } } ${ERRORS} }
  }
`;
const VOTE = /* GraphQL */ `
  mutation ($input: CastCabVoteInput!) {
    castCabVote(input: $input) {
      vote { memberId vote weight comment }
      tally { decision reason approveWeight rejectWeight abstainWeight votersCount }
      decision
      changeRequest { state approvalStatus }
      ${ERRORS}
    }
  }
`;
const CLOSE_MEETING = /* GraphQL */ `
  mutation ($input: CloseCabMeetingInput!) {
    closeCabMeeting(input: $input) {
      cabMeeting { state agenda { changeRequest { number state approvalStatus } decision tally { decision reason votersCount } votes { memberId } } }
      ${ERRORS}
    }
  }
`;

async function create(t: ChangeTenant, token: string, input: Record<string, unknown>) {
  const data = await t.run(token, CREATE_CHANGE, { input: { title: 'A change', ...input } });
  expect(data.createChangeRequest.errors).toEqual([]);
  return data.createChangeRequest.changeRequest;
}

async function move(t: ChangeTenant, token: string, change: { id: string; version: number }, to: string, extra: Record<string, unknown> = {}) {
  const data = await t.run(token, TRANSITION, { input: { changeRequestId: change.id, version: change.version, to, ...extra } });
  return data.transitionChangeRequest;
}

/** A NORMAL change assessed at the given scores and moved to AUTHORIZE. */
async function awaitingAuthorisation(t: ChangeTenant, token: string, scores: Parameters<typeof factors>[0], title = 'A change') {
  let change = await create(t, token, { type: 'NORMAL', title });
  change = (await move(t, token, change, 'ASSESS')).changeRequest;
  const assessed = await t.run(token, ASSESS, { input: { changeRequestId: change.id, factors: factors(scores) } });
  expect(assessed.assessChangeRisk.errors).toEqual([]);
  const moved = await move(t, token, assessed.assessChangeRisk.changeRequest, 'AUTHORIZE');
  expect(moved.errors).toEqual([]);
  return moved.changeRequest;
}

describe('change lifecycle per type', () => {
  it('takes a normal change through assessment, change-manager approval, scheduling, implementation and review, recording every transition', async () => {
    const t = newTenant(graph);
    const agent = await t.as('agent-1', ['agent']);
    const manager = await t.as('manager-1', ['change_manager']);
    let change = await create(t, agent, { type: 'NORMAL', title: 'Patch the mail relay', implementationPlan: 'apt upgrade', backoutPlan: 'snapshot restore' });
    expect(change).toMatchObject({ state: 'NEW', version: 1, approvalStatus: 'NOT_REQUESTED', riskLevel: null, approvalPath: null });
    expect(change.number).toMatch(/^CHG\d{4}\d{6}$/);
    expect(change.number.endsWith('000001')).toBe(true);

    change = (await move(t, agent, change, 'ASSESS')).changeRequest;
    const unassessed = await move(t, agent, change, 'AUTHORIZE');
    expect(unassessed.changeRequest).toBeNull();
    expect(unassessed.errors).toEqual([
      expect.objectContaining({ __typename: 'InvalidTransition', code: 'INVALID_TRANSITION', from: 'ASSESS', to: 'AUTHORIZE' }),
    ]);
    const assessed = await t.run(agent, ASSESS, { input: { changeRequestId: change.id, factors: factors([1, 2, 2, 1, 2, 3, 1]) } });
    expect(assessed.assessChangeRisk.changeRequest).toMatchObject({ riskLevel: 'LOW', riskScore: 1.65 });
    change = (await move(t, agent, assessed.assessChangeRisk.changeRequest, 'AUTHORIZE')).changeRequest;
    expect(change).toMatchObject({ state: 'AUTHORIZE', approvalPath: 'CHANGE_MANAGER', approvalStatus: 'PENDING' });

    const scheduled = await t.run(agent, SCHEDULE, {
      input: { changeRequestId: change.id, version: change.version, plannedStart: '2030-06-01T10:00:00Z', plannedEnd: '2030-06-01T11:00:00Z' },
    });
    change = scheduled.scheduleChangeRequest.changeRequest;
    expect(change).toMatchObject({ state: 'AUTHORIZE', plannedStart: '2030-06-01T10:00:00.000Z', plannedEnd: '2030-06-01T11:00:00.000Z' });
    const notApproved = await move(t, agent, change, 'SCHEDULED');
    expect(notApproved.errors[0]).toMatchObject({ code: 'INVALID_TRANSITION', from: 'AUTHORIZE', to: 'SCHEDULED' });

    const byAgent = await t.run(agent, DECIDE, { input: { changeRequestId: change.id, version: change.version, decision: 'APPROVE' } });
    expect(byAgent.decideChangeApproval.errors[0]).toMatchObject({ __typename: 'Forbidden', code: 'FORBIDDEN' });
    const approved = await t.run(manager, DECIDE, { input: { changeRequestId: change.id, version: change.version, decision: 'APPROVE' } });
    change = approved.decideChangeApproval.changeRequest;
    expect(change).toMatchObject({ state: 'AUTHORIZE', approvalStatus: 'APPROVED' });

    for (const to of ['SCHEDULED', 'IMPLEMENT', 'REVIEW']) change = (await move(t, agent, change, to)).changeRequest;
    const noCode = await move(t, agent, change, 'CLOSED');
    expect(noCode.errors).toEqual([expect.objectContaining({ __typename: 'ValidationFailed', field: 'input.closeCode', rule: 'required' })]);
    const closed = await move(t, agent, change, 'CLOSED', { closeCode: 'SUCCESSFUL_WITH_ISSUES', comment: 'queue drained slowly' });
    expect(closed.changeRequest).toMatchObject({ state: 'CLOSED', closeCode: 'SUCCESSFUL_WITH_ISSUES' });

    const history = (await t.run(agent, HISTORY, { id: change.id })).changeRequest;
    expect(history.transitions).toEqual([
      { from: null, to: 'NEW', actorId: 'agent-1', comment: null },
      { from: 'NEW', to: 'ASSESS', actorId: 'agent-1', comment: null },
      { from: 'ASSESS', to: 'AUTHORIZE', actorId: 'agent-1', comment: null },
      { from: 'AUTHORIZE', to: 'SCHEDULED', actorId: 'agent-1', comment: null },
      { from: 'SCHEDULED', to: 'IMPLEMENT', actorId: 'agent-1', comment: null },
      { from: 'IMPLEMENT', to: 'REVIEW', actorId: 'agent-1', comment: null },
      { from: 'REVIEW', to: 'CLOSED', actorId: 'agent-1', comment: 'queue drained slowly' },
    ]);
    expect(history.approvals).toEqual([
      {
        path: 'CHANGE_MANAGER',
        decision: 'APPROVED',
        decidedBy: 'manager-1',
        reason: 'Approved by the change manager',
        comment: null,
        approveWeight: null,
        rejectWeight: null,
        abstainWeight: null,
        votersCount: null,
        meeting: null,
      },
    ]);
    expect(history.allowedTransitions).toEqual([]);
  });

  it('raises standard changes only from an approved template and takes them NEW -> SCHEDULED -> IMPLEMENT -> REVIEW -> CLOSED', async () => {
    const t = newTenant(graph);
    const agent = await t.as('agent-1', ['agent']);
    const manager = await t.as('manager-1', ['change_manager']);
    const withoutTemplate = await t.run(agent, CREATE_CHANGE, { input: { title: 'Rotate certificates', type: 'STANDARD' } });
    expect(withoutTemplate.createChangeRequest).toEqual({
      changeRequest: null,
      errors: [expect.objectContaining({ __typename: 'ValidationFailed', field: 'input.templateId', rule: 'required' })],
    });
    const drafted = await t.run(
      manager,
      `mutation ($input: CreateStandardChangeTemplateInput!) { createStandardChangeTemplate(input: $input) { standardChangeTemplate { id state version } ${ERRORS} } }`,
      { input: { name: 'Certificate rotation', implementationPlan: 'certbot renew', backoutPlan: 'restore previous certificate', configurationItems: ['web-01'] } },
    );
    const template = drafted.createStandardChangeTemplate.standardChangeTemplate;
    expect(template).toMatchObject({ state: 'DRAFT', version: 1 });
    const fromDraft = await t.run(agent, CREATE_CHANGE, { input: { title: 'Rotate certificates', type: 'STANDARD', templateId: template.id } });
    expect(fromDraft.createChangeRequest.errors).toEqual([expect.objectContaining({ field: 'input.templateId', rule: 'approved' })]);
    const approveByAgent = await t.run(
      agent,
      `mutation ($input: StandardChangeTemplateVersionInput!) { approveStandardChangeTemplate(input: $input) { ${ERRORS} } }`,
      { input: { templateId: template.id, version: 1 } },
    );
    expect(approveByAgent.approveStandardChangeTemplate.errors[0].code).toBe('FORBIDDEN');
    const approved = await t.run(
      manager,
      `mutation ($input: StandardChangeTemplateVersionInput!) { approveStandardChangeTemplate(input: $input) { standardChangeTemplate { state approvedBy version } ${ERRORS} } }`,
      { input: { templateId: template.id, version: 1 } },
    );
    expect(approved.approveStandardChangeTemplate.standardChangeTemplate).toEqual({ state: 'APPROVED', approvedBy: 'manager-1', version: 2 });

    let change = await create(t, agent, { title: 'Rotate certificates', type: 'STANDARD', templateId: template.id });
    expect(change).toMatchObject({ state: 'NEW', riskLevel: 'LOW', approvalPath: 'NONE', approvalStatus: 'NOT_REQUIRED', configurationItems: ['web-01'] });
    const plans = await t.run(agent, `query ($id: ID!) { changeRequest(id: $id) { implementationPlan backoutPlan template { name } allowedTransitions } }`, { id: change.id });
    expect(plans.changeRequest).toEqual({
      implementationPlan: 'certbot renew',
      backoutPlan: 'restore previous certificate',
      template: { name: 'Certificate rotation' },
      allowedTransitions: ['SCHEDULED', 'CANCELLED'],
    });
    expect((await move(t, agent, change, 'ASSESS')).errors[0]).toMatchObject({ code: 'INVALID_TRANSITION', from: 'NEW', to: 'ASSESS' });
    expect((await move(t, agent, change, 'SCHEDULED')).errors[0]).toMatchObject({ code: 'INVALID_TRANSITION', message: expect.stringContaining('no planned start') });
    change = (
      await t.run(agent, SCHEDULE, { input: { changeRequestId: change.id, version: change.version, plannedStart: '2030-06-02T08:00:00Z', plannedEnd: '2030-06-02T08:30:00Z' } })
    ).scheduleChangeRequest.changeRequest;
    for (const to of ['SCHEDULED', 'IMPLEMENT', 'REVIEW']) {
      const moved = await move(t, agent, change, to);
      expect(moved.errors).toEqual([]);
      change = moved.changeRequest;
    }
    expect((await move(t, agent, change, 'CLOSED', { closeCode: 'SUCCESSFUL' })).changeRequest.state).toBe('CLOSED');
  });

  it('sends emergencies straight to AUTHORIZE with the emergency CAB and makes them go through review; cancel works up to IMPLEMENT only', async () => {
    const t = newTenant(graph);
    const agent = await t.as('agent-1', ['agent']);
    let emergency = await create(t, agent, { type: 'EMERGENCY', title: 'Block exploited port' });
    expect((await move(t, agent, emergency, 'ASSESS')).errors[0]).toMatchObject({ code: 'INVALID_TRANSITION', from: 'NEW', to: 'ASSESS' });
    emergency = (await move(t, agent, emergency, 'AUTHORIZE')).changeRequest;
    expect(emergency).toMatchObject({ state: 'AUTHORIZE', approvalPath: 'EMERGENCY_CAB', approvalStatus: 'PENDING' });
    const history = (await t.run(agent, HISTORY, { id: emergency.id })).changeRequest;
    expect(history.allowedTransitions).toEqual(['SCHEDULED', 'NEW', 'CANCELLED']);

    // Cancel is allowed from IMPLEMENT but not from REVIEW (a reviewed change closes, e.g. BACKED_OUT).
    const template = await t.run(
      await t.as('manager-1', ['change_manager']),
      `mutation { createStandardChangeTemplate(input: { name: "Restart", implementationPlan: "restart", backoutPlan: "none needed" }) { standardChangeTemplate { id } } }`,
    );
    const manager = await t.as('manager-1', ['change_manager']);
    await t.run(manager, `mutation ($id: ID!) { approveStandardChangeTemplate(input: { templateId: $id, version: 1 }) { errors { code } } }`, {
      id: template.createStandardChangeTemplate.standardChangeTemplate.id,
    });
    let standard = await create(t, agent, {
      type: 'STANDARD',
      templateId: template.createStandardChangeTemplate.standardChangeTemplate.id,
      plannedStart: '2030-06-03T08:00:00Z',
      plannedEnd: '2030-06-03T09:00:00Z',
    });
    for (const to of ['SCHEDULED', 'IMPLEMENT']) standard = (await move(t, agent, standard, to)).changeRequest;
    const cancelled = await move(t, agent, standard, 'CANCELLED', { comment: 'vendor withdrew the patch' });
    expect(cancelled.changeRequest.state).toBe('CANCELLED');

    let reviewed = await create(t, agent, {
      type: 'STANDARD',
      templateId: template.createStandardChangeTemplate.standardChangeTemplate.id,
      plannedStart: '2030-06-04T08:00:00Z',
      plannedEnd: '2030-06-04T09:00:00Z',
    });
    for (const to of ['SCHEDULED', 'IMPLEMENT', 'REVIEW']) reviewed = (await move(t, agent, reviewed, to)).changeRequest;
    expect((await move(t, agent, reviewed, 'CANCELLED')).errors[0]).toMatchObject({ code: 'INVALID_TRANSITION', from: 'REVIEW', to: 'CANCELLED' });
    expect((await move(t, agent, reviewed, 'CLOSED', { closeCode: 'BACKED_OUT' })).changeRequest).toMatchObject({ state: 'CLOSED', closeCode: 'BACKED_OUT' });
  });

  it('returns a rejected change to NEW: only a change manager rejects, with a comment, and the rejection is recorded', async () => {
    const t = newTenant(graph);
    const agent = await t.as('agent-1', ['agent']);
    const manager = await t.as('manager-1', ['change_manager']);
    const change = await awaitingAuthorisation(t, agent, [1, 1, 1, 1, 1, 1, 1]);
    expect((await move(t, agent, change, 'NEW')).errors[0]).toMatchObject({ __typename: 'Forbidden', code: 'FORBIDDEN', message: expect.stringContaining('change_manager') });
    const noComment = await t.run(manager, DECIDE, { input: { changeRequestId: change.id, version: change.version, decision: 'REJECT' } });
    expect(noComment.decideChangeApproval.errors).toEqual([expect.objectContaining({ field: 'input.comment', rule: 'required' })]);
    const stale = await t.run(manager, DECIDE, { input: { changeRequestId: change.id, version: change.version - 1, decision: 'REJECT', comment: 'x' } });
    expect(stale.decideChangeApproval.errors[0]).toMatchObject({ __typename: 'VersionConflict', code: 'VERSION_CONFLICT' });
    const rejected = await t.run(manager, DECIDE, { input: { changeRequestId: change.id, version: change.version, decision: 'REJECT', comment: 'no backout plan' } });
    expect(rejected.decideChangeApproval.changeRequest).toMatchObject({ state: 'NEW', approvalStatus: 'REJECTED', version: change.version + 1 });
    const history = (await t.run(agent, HISTORY, { id: change.id })).changeRequest;
    expect(history.transitions.at(-1)).toEqual({ from: 'AUTHORIZE', to: 'NEW', actorId: 'manager-1', comment: 'Rejected by the change manager: no backout plan' });
    expect(history.approvals).toEqual([expect.objectContaining({ path: 'CHANGE_MANAGER', decision: 'REJECTED', decidedBy: 'manager-1', comment: 'no backout plan' })]);
    // Resubmitting goes through assessment and authorisation again.
    expect(history.allowedTransitions).toEqual(['ASSESS', 'CANCELLED']);
  });
});

describe('risk assessment', () => {
  it('scores all factors 5 as HIGH, a mixed set as the hand-computed weighted average, and stores factors with justifications', async () => {
    const t = newTenant(graph);
    const agent = await t.as('agent-1', ['agent']);
    const high = await create(t, agent, { type: 'NORMAL' });
    const allFive = await t.run(agent, ASSESS, { input: { changeRequestId: high.id, factors: factors([5, 5, 5, 5, 5, 5, 5]) } });
    expect(allFive.assessChangeRisk.changeRequest).toMatchObject({ riskLevel: 'HIGH', riskScore: 5 });

    const mixed = await create(t, agent, { type: 'NORMAL' });
    // 5*0.25 + 4*0.20 + 3*0.15 + 2*0.15 + 1*0.10 + 2*0.10 + 3*0.05 = 1.25 + 0.8 + 0.45 + 0.3 + 0.1 + 0.2 + 0.15 = 3.25
    const result = await t.run(agent, ASSESS, { input: { changeRequestId: mixed.id, factors: factors([5, 4, 3, 2, 1, 2, 3]) } });
    const assessed = result.assessChangeRisk.changeRequest;
    expect(assessed).toMatchObject({ riskLevel: 'MEDIUM', riskScore: 3.25 });
    expect(assessed.riskAssessment).toEqual({
      score: 3.25,
      level: 'MEDIUM',
      lowBelow: 2.5,
      mediumBelow: 3.5,
      assessedBy: 'agent-1',
      factors: [
        { factor: 'TECHNICAL_COMPLEXITY', score: 5, weight: 0.25, justification: 'technicalComplexity scored 5' },
        { factor: 'BUSINESS_IMPACT', score: 4, weight: 0.2, justification: 'businessImpact scored 4' },
        { factor: 'IMPLEMENTATION_TIMELINE', score: 3, weight: 0.15, justification: 'implementationTimeline scored 3' },
        { factor: 'RESOURCE_DEPENDENCIES', score: 2, weight: 0.15, justification: 'resourceDependencies scored 2' },
        { factor: 'TESTING_COVERAGE', score: 1, weight: 0.1, justification: 'testingCoverage scored 1' },
        { factor: 'ROLLBACK_COMPLEXITY', score: 2, weight: 0.1, justification: 'rollbackComplexity scored 2' },
        { factor: 'EXTERNAL_DEPENDENCIES', score: 3, weight: 0.05, justification: 'externalDependencies scored 3' },
      ],
    });
  });

  it('refuses a missing factor, a score of 6 and an empty justification, writing nothing', async () => {
    const t = newTenant(graph);
    const agent = await t.as('agent-1', ['agent']);
    const change = await create(t, agent, { type: 'NORMAL' });
    const { testingCoverage: _omitted, ...six } = factors([3, 3, 3, 3, 3, 3, 3]);
    const missing = await t.run(agent, ASSESS, { input: { changeRequestId: change.id, factors: six } });
    expect(missing.assessChangeRisk).toEqual({
      changeRequest: null,
      errors: [expect.objectContaining({ __typename: 'ValidationFailed', field: 'input.factors.testingCoverage', rule: 'required' })],
    });
    const bad = { ...factors([3, 3, 3, 3, 3, 3, 3]), businessImpact: { score: 6, justification: 'off the scale' }, rollbackComplexity: { score: 2, justification: '  ' } };
    const invalid = await t.run(agent, ASSESS, { input: { changeRequestId: change.id, factors: bad } });
    expect(invalid.assessChangeRisk.errors.map((e: any) => [e.field, e.rule])).toEqual([
      ['input.factors.businessImpact', 'range'],
      ['input.factors.rollbackComplexity.justification', 'required'],
    ]);
    const after = (await t.run(agent, HISTORY, { id: change.id })).changeRequest;
    expect(after.riskAssessments).toEqual([]);
    const row = await t.run(agent, `query ($id: ID!) { changeRequest(id: $id) { riskLevel riskScore version } }`, { id: change.id });
    expect(row.changeRequest).toEqual({ riskLevel: null, riskScore: null, version: 1 });
  });

  it('uses per-tenant weights and thresholds that only an admin may set', async () => {
    const t = newTenant(graph);
    const agent = await t.as('agent-1', ['agent']);
    const admin = await t.as('admin-1', ['admin']);
    const SET_RISK = `mutation ($input: SetRiskPolicyInput!) { setRiskPolicy(input: $input) { riskPolicy { weights { technicalComplexity businessImpact } lowBelow mediumBelow customised version } ${ERRORS} } }`;
    const defaults = await t.run(agent, `{ riskPolicy { weights { technicalComplexity externalDependencies } lowBelow mediumBelow customised } }`);
    expect(defaults.riskPolicy).toEqual({ weights: { technicalComplexity: 0.25, externalDependencies: 0.05 }, lowBelow: 2.5, mediumBelow: 3.5, customised: false });
    const weights = {
      technicalComplexity: 0.5,
      businessImpact: 0.5,
      implementationTimeline: 0,
      resourceDependencies: 0,
      testingCoverage: 0,
      rollbackComplexity: 0,
      externalDependencies: 0,
    };
    const byAgent = await t.run(agent, SET_RISK, { input: { weights, lowBelow: 2, mediumBelow: 3 } });
    expect(byAgent.setRiskPolicy.errors[0]).toMatchObject({ code: 'FORBIDDEN' });
    const badSum = await t.run(admin, SET_RISK, { input: { weights: { ...weights, businessImpact: 0.4 }, lowBelow: 2, mediumBelow: 3 } });
    expect(badSum.setRiskPolicy.errors).toEqual([expect.objectContaining({ field: 'input.weights', rule: 'sum' })]);
    const badOrder = await t.run(admin, SET_RISK, { input: { weights, lowBelow: 3, mediumBelow: 3 } });
    expect(badOrder.setRiskPolicy.errors).toEqual([expect.objectContaining({ field: 'input.mediumBelow', rule: 'order' })]);
    const set = await t.run(admin, SET_RISK, { input: { weights, lowBelow: 2, mediumBelow: 3 } });
    expect(set.setRiskPolicy.riskPolicy).toEqual({ weights: { technicalComplexity: 0.5, businessImpact: 0.5 }, lowBelow: 2, mediumBelow: 3, customised: true, version: 1 });

    // Technical complexity 3 and business impact 4 under 50/50 weights: 3.5, HIGH under mediumBelow 3.
    const change = await create(t, agent, { type: 'NORMAL' });
    const result = await t.run(agent, ASSESS, { input: { changeRequestId: change.id, factors: factors([3, 4, 1, 1, 1, 1, 1]) } });
    expect(result.assessChangeRisk.changeRequest).toMatchObject({ riskLevel: 'HIGH', riskScore: 3.5 });
    expect(result.assessChangeRisk.changeRequest.riskAssessment).toMatchObject({ lowBelow: 2, mediumBelow: 3 });
  });

  it('routes normal changes by risk: LOW to the change manager, MEDIUM and HIGH to the CAB', async () => {
    const t = newTenant(graph);
    const agent = await t.as('agent-1', ['agent']);
    const manager = await t.as('manager-1', ['change_manager']);
    expect((await awaitingAuthorisation(t, agent, [2, 2, 2, 2, 2, 2, 2])).approvalPath).toBe('CHANGE_MANAGER');
    expect((await awaitingAuthorisation(t, agent, [3, 3, 3, 3, 3, 3, 3])).approvalPath).toBe('CAB');
    const high = await awaitingAuthorisation(t, agent, [4, 4, 4, 4, 4, 4, 4]);
    expect(high.approvalPath).toBe('CAB');
    const bypass = await t.run(manager, DECIDE, { input: { changeRequestId: high.id, version: high.version, decision: 'APPROVE' } });
    expect(bypass.decideChangeApproval.errors).toEqual([expect.objectContaining({ __typename: 'Conflict', code: 'CONFLICT', message: expect.stringContaining('CAB') })]);
  });
});

describe('change advisory board', () => {
  it('decides by weighted tally with quorum 3 and threshold 50 %: A(2)+B approve, C abstains -> approved; A rejects, B+C approve -> not approved; only A and B -> no decision', async () => {
    const t = newTenant(graph);
    const agent = await t.as('agent-1', ['agent']);
    const manager = await t.as('manager-1', ['change_manager']);
    const [a, b, c, outsider] = await Promise.all([
      t.as('A', ['cab_member']),
      t.as('B', ['cab_member']),
      t.as('C', ['cab_member']),
      t.as('D', ['cab_member']),
    ]);
    for (const [userId, weight] of [['A', 2], ['B', 1], ['C', 1]] as const) {
      const added = await t.run(manager, SET_MEMBER, { input: { board: 'CAB', userId, name: `Member ${userId}`, weight } });
      expect(added.setCabMember.errors).toEqual([]);
    }
    const tooHigh = await t.run(manager, SET_POLICY, { input: { board: 'CAB', quorum: 4, approvalThreshold: 0.5 } });
    expect(tooHigh.setCabPolicy.errors).toEqual([expect.objectContaining({ field: 'input.quorum', rule: 'range' })]);
    const policy = await t.run(manager, SET_POLICY, { input: { board: 'CAB', quorum: 3, approvalThreshold: 0.5 } });
    expect(policy.setCabPolicy.cabBoard).toEqual({ board: 'CAB', quorum: 3, approvalThreshold: 0.5, anyMemberApproves: false, customised: true });

    const first = await awaitingAuthorisation(t, agent, [4, 4, 4, 4, 4, 4, 4], 'First');
    const second = await awaitingAuthorisation(t, agent, [3, 3, 3, 3, 3, 3, 3], 'Second');
    const third = await awaitingAuthorisation(t, agent, [3, 3, 3, 3, 3, 3, 3], 'Third');
    await awaitingAuthorisation(t, agent, [1, 1, 1, 1, 1, 1, 1], 'Change manager decides this one');

    const meeting = (await t.run(manager, CREATE_MEETING, { input: { board: 'CAB', title: 'Weekly CAB', scheduledAt: '2030-06-05T14:00:00Z' } })).createCabMeeting.cabMeeting;
    expect(meeting.state).toBe('OPEN');
    expect(meeting.agenda).toEqual([
      { position: 1, changeRequest: { number: first.number } },
      { position: 2, changeRequest: { number: second.number } },
      { position: 3, changeRequest: { number: third.number } },
    ]);
    const vote = async (token: string, change: { id: string }, choice: string, comment?: string) =>
      (await t.run(token, VOTE, { input: { meetingId: meeting.id, changeRequestId: change.id, vote: choice, comment } })).castCabVote;

    // Case 1: A (2) and B (1) approve, C (1) abstains: 3 of 4 voted weight approve, 75 % > 50 %.
    const a1 = await vote(a, first, 'APPROVE', 'tested in staging');
    expect(a1).toMatchObject({ decision: null, tally: { decision: 'NO_DECISION', votersCount: 1 }, changeRequest: { state: 'AUTHORIZE', approvalStatus: 'PENDING' } });
    expect(a1.vote).toEqual({ memberId: 'A', vote: 'APPROVE', weight: 2, comment: 'tested in staging' });
    await vote(b, first, 'APPROVE');
    const c1 = await vote(c, first, 'ABSTAIN', 'not my area');
    expect(c1.decision).toBe('APPROVED');
    expect(c1.tally).toEqual({
      decision: 'APPROVED',
      reason: 'Approved: approve weight 3 of 4 voted (75 %) is over 50 %',
      approveWeight: 3,
      rejectWeight: 0,
      abstainWeight: 1,
      votersCount: 3,
    });
    expect(c1.changeRequest).toEqual({ state: 'AUTHORIZE', approvalStatus: 'APPROVED' });

    // A non-member's vote and a second vote by the same member are refused, and nothing is written.
    const byOutsider = await vote(outsider, second, 'APPROVE');
    expect(byOutsider).toMatchObject({ vote: null, errors: [{ __typename: 'CabVoteRefused', code: 'FORBIDDEN', reason: 'NOT_A_MEMBER' }] });
    const byAgent = await vote(agent, second, 'APPROVE');
    expect(byAgent.errors).toEqual([expect.objectContaining({ __typename: 'Forbidden', code: 'FORBIDDEN' })]);

    // Case 2: A (2) rejects, B and C approve: 2 of 4 is not over 50 %.
    await vote(a, second, 'REJECT', 'rollback untested');
    const twice = await vote(a, second, 'APPROVE');
    expect(twice).toMatchObject({ vote: null, errors: [{ __typename: 'CabVoteRefused', code: 'CONFLICT', reason: 'ALREADY_VOTED' }] });
    await vote(b, second, 'APPROVE');
    const c2 = await vote(c, second, 'APPROVE');
    expect(c2.decision).toBe('REJECTED');
    expect(c2.tally).toMatchObject({ decision: 'REJECTED', approveWeight: 2, rejectWeight: 2, abstainWeight: 0, votersCount: 3 });
    expect(c2.tally.reason).toBe('Rejected: approve weight 2 of 4 voted (50 %) is not over 50 %');
    expect(c2.changeRequest).toEqual({ state: 'NEW', approvalStatus: 'REJECTED' });

    // Case 3: only A and B vote: two of the three required members, no decision even when the meeting closes.
    await vote(a, third, 'APPROVE');
    const b3 = await vote(b, third, 'APPROVE');
    expect(b3.tally).toMatchObject({ decision: 'NO_DECISION', reason: 'No quorum: 2 of 3 required members have voted', votersCount: 2 });
    const closed = (await t.run(manager, CLOSE_MEETING, { input: { meetingId: meeting.id } })).closeCabMeeting;
    expect(closed.errors).toEqual([]);
    expect(closed.cabMeeting.state).toBe('CLOSED');
    expect(closed.cabMeeting.agenda.map((item: any) => [item.changeRequest.number, item.decision, item.changeRequest.state, item.changeRequest.approvalStatus])).toEqual([
      [first.number, 'APPROVED', 'AUTHORIZE', 'APPROVED'],
      [second.number, 'REJECTED', 'NEW', 'REJECTED'],
      [third.number, 'NO_DECISION', 'AUTHORIZE', 'PENDING'],
    ]);
    expect(closed.cabMeeting.agenda[2].votes).toEqual([{ memberId: 'A' }, { memberId: 'B' }]);
    const late = await vote(c, third, 'APPROVE');
    expect(late.errors).toEqual([expect.objectContaining({ __typename: 'Conflict', message: expect.stringContaining('closed') })]);

    // The audit trail: every vote with its comment and weight, and each decision with its tally.
    const firstHistory = (await t.run(agent, HISTORY, { id: first.id })).changeRequest;
    expect(firstHistory.cabVotes).toEqual([
      { memberId: 'A', vote: 'APPROVE', comment: 'tested in staging', weight: 2, meeting: { title: 'Weekly CAB' } },
      { memberId: 'B', vote: 'APPROVE', comment: null, weight: 1, meeting: { title: 'Weekly CAB' } },
      { memberId: 'C', vote: 'ABSTAIN', comment: 'not my area', weight: 1, meeting: { title: 'Weekly CAB' } },
    ]);
    expect(firstHistory.approvals).toEqual([
      {
        path: 'CAB',
        decision: 'APPROVED',
        decidedBy: 'C',
        reason: 'Approved: approve weight 3 of 4 voted (75 %) is over 50 %',
        comment: null,
        approveWeight: 3,
        rejectWeight: 0,
        abstainWeight: 1,
        votersCount: 3,
        meeting: { title: 'Weekly CAB' },
      },
    ]);
    const secondHistory = (await t.run(agent, HISTORY, { id: second.id })).changeRequest;
    expect(secondHistory.transitions.at(-1)).toEqual({ from: 'AUTHORIZE', to: 'NEW', actorId: 'C', comment: 'Rejected: approve weight 2 of 4 voted (50 %) is not over 50 %' });
    expect(secondHistory.cabVotes.map((v: any) => [v.memberId, v.vote])).toEqual([
      ['A', 'REJECT'],
      ['B', 'APPROVE'],
      ['C', 'APPROVE'],
    ]);
    const thirdHistory = (await t.run(agent, HISTORY, { id: third.id })).changeRequest;
    expect(thirdHistory.approvals).toEqual([expect.objectContaining({ decision: 'NO_DECISION', decidedBy: 'manager-1', votersCount: 2 })]);
  });

  it('lets one emergency-CAB member approve an emergency change at once', async () => {
    const t = newTenant(graph);
    const agent = await t.as('agent-1', ['agent']);
    const manager = await t.as('manager-1', ['change_manager']);
    const ecab = await t.as('E1', ['cab_member']);
    for (const userId of ['E1', 'E2', 'E3']) await t.run(manager, SET_MEMBER, { input: { board: 'EMERGENCY_CAB', userId, name: userId, weight: 1 } });
    const board = await t.run(agent, `{ cabBoard(board: EMERGENCY_CAB) { quorum anyMemberApproves customised members { userId } } }`);
    expect(board.cabBoard).toEqual({ quorum: 1, anyMemberApproves: true, customised: false, members: [{ userId: 'E1' }, { userId: 'E2' }, { userId: 'E3' }] });
    let emergency = await create(t, agent, { type: 'EMERGENCY', title: 'Revoke leaked key' });
    emergency = (await move(t, agent, emergency, 'AUTHORIZE')).changeRequest;
    const meeting = (await t.run(manager, CREATE_MEETING, { input: { board: 'EMERGENCY_CAB', title: 'ECAB call', scheduledAt: '2030-06-05T02:00:00Z' } })).createCabMeeting
      .cabMeeting;
    expect(meeting.agenda).toEqual([{ position: 1, changeRequest: { number: emergency.number } }]);
    const approved = (await t.run(ecab, VOTE, { input: { meetingId: meeting.id, changeRequestId: emergency.id, vote: 'APPROVE' } })).castCabVote;
    expect(approved).toMatchObject({ decision: 'APPROVED', tally: { decision: 'APPROVED', votersCount: 1 }, changeRequest: { state: 'AUTHORIZE', approvalStatus: 'APPROVED' } });
  });
});

describe('roles', () => {
  it('refuses every change mutation to a read-only partner with a Forbidden payload error', async () => {
    const t = newTenant(graph);
    const partner = await t.as('partner-1', ['partner']);
    const id = '00000000-0000-4000-8000-000000000001';
    const factorsInput = factors([1, 1, 1, 1, 1, 1, 1]);
    const weights = { technicalComplexity: 1, businessImpact: 0, implementationTimeline: 0, resourceDependencies: 0, testingCoverage: 0, rollbackComplexity: 0, externalDependencies: 0 };
    const mutations: [string, string, Record<string, unknown>][] = [
      ['createChangeRequest', 'CreateChangeRequestInput', { title: 'x', type: 'NORMAL' }],
      ['linkChangeToIncident', 'LinkChangeToIncidentInput', { changeRequestId: id, incidentId: id }],
      ['linkChangeToProblem', 'LinkChangeToProblemInput', { changeRequestId: id, problemId: id }],
      ['updateChangeRequest', 'UpdateChangeRequestInput', { changeRequestId: id, version: 1, title: 'y' }],
      ['transitionChangeRequest', 'TransitionChangeRequestInput', { changeRequestId: id, version: 1, to: 'ASSESS' }],
      ['scheduleChangeRequest', 'ScheduleChangeRequestInput', { changeRequestId: id, version: 1, plannedStart: '2030-01-01T00:00:00Z', plannedEnd: '2030-01-01T01:00:00Z' }],
      ['assessChangeRisk', 'AssessChangeRiskInput', { changeRequestId: id, factors: factorsInput }],
      ['decideChangeApproval', 'DecideChangeApprovalInput', { changeRequestId: id, version: 1, decision: 'APPROVE' }],
      ['setRiskPolicy', 'SetRiskPolicyInput', { weights, lowBelow: 2, mediumBelow: 3 }],
      ['setCabMember', 'SetCabMemberInput', { board: 'CAB', userId: 'A', name: 'A', weight: 1 }],
      ['removeCabMember', 'RemoveCabMemberInput', { board: 'CAB', userId: 'A' }],
      ['setCabPolicy', 'SetCabPolicyInput', { board: 'CAB', approvalThreshold: 0.5 }],
      ['createCabMeeting', 'CreateCabMeetingInput', { board: 'CAB', title: 'CAB', scheduledAt: '2030-01-01T00:00:00Z' }],
      ['addChangeToCabAgenda', 'AddChangeToCabAgendaInput', { meetingId: id, changeRequestId: id }],
      ['castCabVote', 'CastCabVoteInput', { meetingId: id, changeRequestId: id, vote: 'APPROVE' }],
      ['closeCabMeeting', 'CloseCabMeetingInput', { meetingId: id }],
      ['createChangeWindow', 'CreateChangeWindowInput', { name: 'w', kind: 'BLACKOUT', timeZone: 'UTC', start: '2030-01-01T00:00', durationMinutes: 60, scope: { all: true } }],
      ['deleteChangeWindow', 'DeleteChangeWindowInput', { windowId: id }],
      ['createStandardChangeTemplate', 'CreateStandardChangeTemplateInput', { name: 'n', implementationPlan: 'i', backoutPlan: 'b' }],
      ['approveStandardChangeTemplate', 'StandardChangeTemplateVersionInput', { templateId: id, version: 1 }],
      ['retireStandardChangeTemplate', 'StandardChangeTemplateVersionInput', { templateId: id, version: 1 }],
    ];
    for (const [field, inputType, input] of mutations) {
      const data = await t.run(partner, `mutation ($input: ${inputType}!) { ${field}(input: $input) { errors { __typename code } } }`, { input });
      expect([field, data[field].errors]).toEqual([field, [{ __typename: 'Forbidden', code: 'FORBIDDEN' }]]);
    }
  });
});
