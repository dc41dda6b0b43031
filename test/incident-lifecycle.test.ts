import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countIncidents } from '../subgraphs/incident/src/db/queries.js';
import { getTimers } from '../subgraphs/incident/src/db/sla-queries.js';
import { ITIL_5X5, SERVICENOW_3X3 } from '../subgraphs/incident/src/domain/priority.js';
import { INCIDENT_STATES, type IncidentState } from '../subgraphs/incident/src/domain/lifecycle.js';
import { transitionIncident } from '../subgraphs/incident/src/services/incidents.js';
import { startTestGraph, type TestGraph } from './harness.js';
import { CREATE, createIncident, ERRORS, eventually, outboxEvents, rawRows, tenantOf, TRANSITION, UPDATE } from './incident-test-kit.js';

let graph: TestGraph;
beforeAll(async () => {
  graph = await startTestGraph();
});
afterAll(async () => {
  await graph?.stop();
});

const HISTORY = /* GraphQL */ `query ($id: ID) { incident(id: $id) { state version history { actor field from to reason } } }`;

const storedIncidentCount = (tenantId: string) => countIncidents(graph.databases.incident.db, tenantId);

describe('priority matrix', () => {
  it('gives the 25 cells of the default ITIL 5x5 matrix', async () => {
    const t = await tenantOf(graph);
    const grid: number[][] = [];
    for (let impact = 1; impact <= 5; impact++) {
      const row: number[] = [];
      for (let urgency = 1; urgency <= 5; urgency++) row.push((await createIncident(t.agent, { title: `i${impact}u${urgency}`, impact, urgency })).priority);
      grid.push(row);
    }
    expect(grid).toEqual([
      [1, 2, 2, 3, 3],
      [2, 2, 3, 3, 4],
      [2, 3, 3, 4, 4],
      [3, 3, 4, 4, 5],
      [3, 4, 4, 5, 5],
    ]);
    expect(grid).toEqual(ITIL_5X5.cells);
  });

  it('gives the 9 cells of the 3x3 profile once an admin selects it, and refuses impact 4 under it', async () => {
    const t = await tenantOf(graph);
    const set = await t.admin(`mutation { setPriorityMatrix(input: { profile: "SERVICENOW_3X3" }) { priorityMatrix { profile size cells } ${ERRORS} } }`);
    expect(set.setPriorityMatrix).toEqual({ priorityMatrix: { profile: 'SERVICENOW_3X3', size: 3, cells: SERVICENOW_3X3.cells }, errors: [] });
    const grid: number[][] = [];
    for (let impact = 1; impact <= 3; impact++) {
      const row: number[] = [];
      for (let urgency = 1; urgency <= 3; urgency++) row.push((await createIncident(t.agent, { title: `i${impact}u${urgency}`, impact, urgency })).priority);
      grid.push(row);
    }
    expect(grid).toEqual([
      [1, 2, 3],
      [2, 3, 4],
      [3, 4, 4],
    ]);
    const refused = await t.agent(CREATE, { input: { title: 'x', impact: 4, urgency: 1 } });
    expect(refused.createIncident.errors).toEqual([
      { __typename: 'ValidationFailed', code: 'VALIDATION_FAILED', message: 'impact must be an integer from 1 to 3, got 4', field: 'input.impact', rule: 'range' },
    ]);
  });

  it('recomputes priority 3 -> 4 when impact goes 3 -> 5 with urgency 3, recorded in the history', async () => {
    const t = await tenantOf(graph);
    const incident = await createIncident(t.agent, { title: 'Slow file share', impact: 3, urgency: 3 });
    expect(incident.priority).toBe(3);
    const updated = await t.agent(UPDATE, { input: { id: incident.id, version: 1, impact: 5 } });
    expect(updated.updateIncident.incident).toMatchObject({ impact: 5, urgency: 3, priority: 4, priorityLabel: 'Low', version: 2 });
    const { incident: read } = await t.agent(HISTORY, { id: incident.id });
    expect(read.history.slice(1)).toEqual([
      { actor: 'agent-user', field: 'impact', from: '3', to: '5', reason: null },
      { actor: 'agent-user', field: 'priority', from: '3', to: '4', reason: null },
    ]);
  });

  it('validates a custom matrix (every cell 1-5, full grid) and lets only admins replace it', async () => {
    const t = await tenantOf(graph);
    const SET = `mutation ($input: PriorityMatrixInput!) { setPriorityMatrix(input: $input) { priorityMatrix { profile cells } ${ERRORS} } }`;
    const bad = await t.admin(SET, { input: { profile: 'CUSTOM', cells: [[1, 2, 3], [2, 3, 6], [3, 4]] } });
    expect(bad.setPriorityMatrix.errors.map((e: any) => [e.field, e.rule])).toEqual([
      ['input.cells[1][2]', 'range'],
      ['input.cells[2]', 'shape'],
    ]);
    const byAgent = await t.agent(SET, { input: { profile: 'ITIL_5X5' } });
    expect(byAgent.setPriorityMatrix.errors).toEqual([
      { __typename: 'Forbidden', code: 'FORBIDDEN', message: 'requires one of the roles: admin', requiredRoles: ['admin'] },
    ]);
    const good = await t.admin(SET, { input: { profile: 'CUSTOM', cells: [[1, 1, 2], [2, 3, 4], [4, 5, 5]] } });
    expect(good.setPriorityMatrix.priorityMatrix).toEqual({ profile: 'CUSTOM', cells: [[1, 1, 2], [2, 3, 4], [4, 5, 5]] });
    expect((await t.agent(`{ priorityMatrix { profile size cells } }`)).priorityMatrix).toEqual({ profile: 'CUSTOM', size: 3, cells: [[1, 1, 2], [2, 3, 4], [4, 5, 5]] });
    expect((await createIncident(t.agent, { title: 'custom', impact: 3, urgency: 2 })).priority).toBe(5);
  });

  it('lets a manager override the priority, recorded with the reason, sticky across impact changes until removed', async () => {
    const t = await tenantOf(graph);
    const incident = await createIncident(t.agent, { title: 'CEO laptop broken', impact: 3, urgency: 3 });
    const OVERRIDE = `mutation ($input: OverrideIncidentPriorityInput!) { overrideIncidentPriority(input: $input) { incident { priority priorityOverridden version } ${ERRORS} } }`;
    const byAgent = await t.agent(OVERRIDE, { input: { id: incident.id, version: 1, priority: 1, reason: 'VIP' } });
    expect(byAgent.overrideIncidentPriority.errors[0]).toMatchObject({ code: 'FORBIDDEN', requiredRoles: ['manager', 'admin'] });
    const noReason = await t.manager(OVERRIDE, { input: { id: incident.id, version: 1, priority: 1, reason: ' ' } });
    expect(noReason.overrideIncidentPriority.errors.map((e: any) => [e.field, e.rule])).toEqual([['input.reason', 'required']]);
    const outOfRange = await t.manager(OVERRIDE, { input: { id: incident.id, version: 1, priority: 0, reason: 'x' } });
    expect(outOfRange.overrideIncidentPriority.errors.map((e: any) => [e.field, e.rule])).toEqual([['input.priority', 'range']]);

    const done = await t.manager(OVERRIDE, { input: { id: incident.id, version: 1, priority: 1, reason: 'VIP user' } });
    expect(done.overrideIncidentPriority).toEqual({ incident: { priority: 1, priorityOverridden: true, version: 2 }, errors: [] });
    const impact = await t.agent(UPDATE, { input: { id: incident.id, version: 2, impact: 5 } });
    expect(impact.updateIncident.incident).toMatchObject({ impact: 5, priority: 1, priorityOverridden: true });
    const removed = await t.manager(OVERRIDE, { input: { id: incident.id, version: 3, priority: null, reason: 'back to normal' } });
    expect(removed.overrideIncidentPriority.incident).toEqual({ priority: 4, priorityOverridden: false, version: 4 });
    const { incident: read } = await t.agent(HISTORY, { id: incident.id });
    expect(read.history.filter((h: any) => h.field.startsWith('priority'))).toEqual([
      { actor: 'manager-user', field: 'priority_override', from: '3', to: '1', reason: 'VIP user' },
      { actor: 'manager-user', field: 'priority_override', from: '1', to: '4', reason: 'override removed: back to normal' },
    ]);
  });
});

/** Moves a fresh incident along a path of states (with what each target needs). */
async function incidentIn(run: (q: string, v?: Record<string, unknown>) => Promise<any>, path: IncidentState[]) {
  let incident = await createIncident(run, { title: `path ${path.join(' ')}` });
  for (const to of path) {
    const data = await run(TRANSITION, { input: transitionInput(incident, to) });
    expect(data.transitionIncident.errors).toEqual([]);
    incident = data.transitionIncident.incident;
  }
  return incident;
}

function transitionInput(incident: { id: string; version: number }, to: IncidentState) {
  return {
    id: incident.id,
    version: incident.version,
    to,
    ...(to === 'ON_HOLD' ? { holdReason: 'AWAITING_CALLER' } : {}),
    ...(to === 'RESOLVED' ? { resolutionCode: 'CONFIGURATION_CHANGE', resolutionNotes: 'fixed the route' } : {}),
  };
}

const PATH_TO: Record<IncidentState, IncidentState[]> = {
  NEW: [],
  IN_PROGRESS: ['IN_PROGRESS'],
  ON_HOLD: ['ON_HOLD'],
  RESOLVED: ['RESOLVED'],
  CLOSED: ['RESOLVED', 'CLOSED'],
  CANCELLED: ['CANCELLED'],
};

const ALLOWED: Record<IncidentState, IncidentState[]> = {
  NEW: ['IN_PROGRESS', 'ON_HOLD', 'RESOLVED', 'CANCELLED'],
  IN_PROGRESS: ['ON_HOLD', 'RESOLVED', 'CANCELLED'],
  ON_HOLD: ['IN_PROGRESS', 'ON_HOLD', 'RESOLVED', 'CANCELLED'],
  RESOLVED: ['IN_PROGRESS', 'CLOSED'],
  CLOSED: [],
  CANCELLED: [],
};

describe('lifecycle', () => {
  it('refuses every transition the state machine does not allow, with INVALID_TRANSITION, writing nothing', async () => {
    const t = await tenantOf(graph);
    let refused = 0;
    for (const from of INCIDENT_STATES) {
      const incident = await incidentIn(t.agent, PATH_TO[from]);
      for (const to of INCIDENT_STATES.filter((s) => !ALLOWED[from].includes(s))) {
        const data = await t.agent(TRANSITION, { input: transitionInput(incident, to) });
        expect(data.transitionIncident).toEqual({
          incident: null,
          errors: [
            { __typename: 'InvalidTransition', code: 'INVALID_TRANSITION', message: `an incident cannot move from ${from} to ${to}`, from, to },
          ],
        });
        refused++;
      }
      const { incident: after } = await t.agent(HISTORY, { id: incident.id });
      expect({ state: after.state, version: after.version }).toEqual({ state: from, version: incident.version });
    }
    // 36 pairs, 13 allowed (ON_HOLD -> ON_HOLD changes the hold reason).
    expect(refused).toBe(36 - 13);
  });

  it('walks NEW -> IN_PROGRESS -> ON_HOLD -> IN_PROGRESS -> RESOLVED -> IN_PROGRESS (reopen) -> RESOLVED -> CLOSED with history rows', async () => {
    const t = await tenantOf(graph);
    let incident = await createIncident(t.agent, { title: 'Printer offline' });
    const steps: [Record<string, unknown>, string][] = [
      [{ to: 'IN_PROGRESS', reason: 'looking' }, 'looking'],
      [{ to: 'ON_HOLD', holdReason: 'AWAITING_VENDOR' }, 'AWAITING_VENDOR'],
      [{ to: 'ON_HOLD', holdReason: 'AWAITING_CALLER' }, 'AWAITING_CALLER'],
      [{ to: 'IN_PROGRESS' }, ''],
      [{ to: 'RESOLVED', resolutionCode: 'HARDWARE_REPLACEMENT', resolutionNotes: 'new fuser' }, 'HARDWARE_REPLACEMENT'],
      [{ to: 'IN_PROGRESS', reason: 'still jams' }, 'still jams'],
      [{ to: 'RESOLVED', resolutionCode: 'USER_TRAINING', resolutionNotes: 'load paper face down' }, 'USER_TRAINING'],
      [{ to: 'CLOSED' }, ''],
    ];
    for (const [input] of steps) {
      const data = await t.agent(TRANSITION, { input: { id: incident.id, version: incident.version, ...input } });
      expect(data.transitionIncident.errors).toEqual([]);
      incident = data.transitionIncident.incident;
    }
    expect(incident).toMatchObject({ state: 'CLOSED', reopenCount: 1, resolutionCode: 'USER_TRAINING', resolutionNotes: 'load paper face down', version: 9 });
    expect(incident.closedAt).not.toBeNull();
    const { incident: read } = await t.agent(HISTORY, { id: incident.id });
    expect(read.history.map((h: any) => [h.field, h.from, h.to, h.reason])).toEqual([
      ['state', null, 'NEW', null],
      ['state', 'NEW', 'IN_PROGRESS', 'looking'],
      ['state', 'IN_PROGRESS', 'ON_HOLD', 'AWAITING_VENDOR'],
      ['hold_reason', 'AWAITING_VENDOR', 'AWAITING_CALLER', 'AWAITING_CALLER'],
      ['state', 'ON_HOLD', 'IN_PROGRESS', null],
      ['state', 'IN_PROGRESS', 'RESOLVED', 'HARDWARE_REPLACEMENT'],
      ['state', 'RESOLVED', 'IN_PROGRESS', 'still jams'],
      ['state', 'IN_PROGRESS', 'RESOLVED', 'USER_TRAINING'],
      ['state', 'RESOLVED', 'CLOSED', null],
    ]);
    expect(new Set(read.history.map((h: any) => h.actor))).toEqual(new Set(['agent-user']));
  });

  it('ends NEW -> CANCELLED and NEW -> ON_HOLD -> RESOLVED in the right state', async () => {
    const t = await tenantOf(graph);
    expect((await incidentIn(t.agent, ['CANCELLED'])).state).toBe('CANCELLED');
    const resolved = await incidentIn(t.agent, ['ON_HOLD', 'RESOLVED']);
    expect(resolved).toMatchObject({ state: 'RESOLVED', holdReason: null, resolutionCode: 'CONFIGURATION_CHANGE' });
  });

  it('requires a hold reason and a resolution code with notes, naming the field', async () => {
    const t = await tenantOf(graph);
    const incident = await createIncident(t.agent, { title: 'x' });
    const hold = await t.agent(TRANSITION, { input: { id: incident.id, version: 1, to: 'ON_HOLD' } });
    expect(hold.transitionIncident.errors.map((e: any) => [e.code, e.field, e.rule])).toEqual([['VALIDATION_FAILED', 'input.holdReason', 'required']]);
    const code = await t.agent(TRANSITION, { input: { id: incident.id, version: 1, to: 'RESOLVED', resolutionNotes: 'done' } });
    expect(code.transitionIncident.errors.map((e: any) => [e.field, e.rule])).toEqual([['input.resolutionCode', 'required']]);
    const notes = await t.agent(TRANSITION, { input: { id: incident.id, version: 1, to: 'RESOLVED', resolutionCode: 'DUPLICATE', resolutionNotes: '  ' } });
    expect(notes.transitionIncident.errors.map((e: any) => [e.field, e.rule])).toEqual([['input.resolutionNotes', 'required']]);
    expect((await t.agent(HISTORY, { id: incident.id })).incident).toMatchObject({ state: 'NEW', version: 1 });
  });

  it('refuses an unknown state: GraphQL rejects the enum value, the service names input.to', async () => {
    const t = await tenantOf(graph);
    const incident = await createIncident(t.agent, { title: 'x' });
    const response = await graph.request(TRANSITION, { input: { id: incident.id, version: 1, to: 'PARKED' } }, await t.tokenFor(['agent']));
    expect(response.body.errors?.[0]?.message).toContain('Value "PARKED" does not exist in "IncidentState" enum');
    expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const direct = await transitionIncident(graph.databases.incident.db, t.identity(['agent']), { id: incident.id, version: 1, to: 'PARKED' as IncidentState });
    expect(direct.errors).toEqual([
      {
        __typename: 'ValidationFailed',
        code: 'VALIDATION_FAILED',
        field: 'input.to',
        rule: 'oneOf',
        message: 'to must be one of NEW, IN_PROGRESS, ON_HOLD, RESOLVED, CLOSED, CANCELLED, got PARKED',
      },
    ]);
  });

  it('auto-closes a RESOLVED incident once the tenant delay has passed: the in-process monitor acts on its timer', async () => {
    const t = await tenantOf(graph);
    const settings = await t.admin(`mutation { setIncidentSettings(input: { autoCloseDays: 3 }) { incidentSettings { timeZone autoCloseDays } ${ERRORS} } }`);
    expect(settings.setIncidentSettings).toEqual({ incidentSettings: { timeZone: 'UTC', autoCloseDays: 3 }, errors: [] });
    const incident = await createIncident(t.agent, { title: 'Old ticket' });
    // Resolved four days ago (services take the instant), so its auto-close fell due a day ago.
    const fourDaysAgo = new Date(Date.now() - 4 * 86_400_000);
    const resolved = await transitionIncident(
      graph.databases.incident.db,
      t.identity(['agent']),
      { id: incident.id, version: 1, to: 'RESOLVED', resolutionCode: 'RESOLVED_BY_USER', resolutionNotes: 'works again' },
      fourDaysAgo,
    );
    expect(resolved.errors).toEqual([]);
    const closed = await eventually(async () => {
      const { incident: read } = await t.agent(`query ($id: ID) { incident(id: $id) { state closedAt version history { actor field from to } } }`, { id: incident.id });
      return read.state === 'CLOSED' ? read : undefined;
    });
    expect(closed.version).toBe(3);
    expect(closed.history.at(-1)).toEqual({ actor: 'system', field: 'state', from: 'RESOLVED', to: 'CLOSED' });
    const events = await eventually(async () => {
      const read = await outboxEvents(graph.databases.incident, t.tenantId, ['INCIDENT_STATE_CHANGED']);
      return read.length >= 2 ? read : undefined;
    });
    expect(events.map((e) => e.payload.state)).toEqual(['RESOLVED', 'CLOSED']);

    // A resolution inside the delay stays RESOLVED, and reopening cancels its auto-close.
    const recent = await createIncident(t.agent, { title: 'Fresh ticket' });
    const res2 = await t.agent(TRANSITION, { input: transitionInput(recent, 'RESOLVED') });
    const timers = () => getTimers(graph.databases.incident.db, t.tenantId, 'AUTO_CLOSE', [recent.id]);
    const [timer] = await timers();
    expect(timer!.dueAt.getTime() - new Date(res2.transitionIncident.incident.resolvedAt).getTime()).toBe(3 * 86_400_000);
    await t.agent(TRANSITION, { input: transitionInput(res2.transitionIncident.incident, 'IN_PROGRESS') });
    expect(await timers()).toEqual([]);
  });

  it('validates auto-close settings and lets only admins change them', async () => {
    const t = await tenantOf(graph);
    const SET = `mutation ($input: IncidentSettingsInput!) { setIncidentSettings(input: $input) { incidentSettings { timeZone autoCloseDays } ${ERRORS} } }`;
    const bad = await t.admin(SET, { input: { autoCloseDays: -1, timeZone: 'Mars/Olympus' } });
    expect(bad.setIncidentSettings.errors.map((e: any) => [e.field, e.rule])).toEqual([
      ['input.timeZone', 'invalid-zone'],
      ['input.autoCloseDays', 'range'],
    ]);
    expect((await t.agent(SET, { input: { autoCloseDays: 2 } })).setIncidentSettings.errors[0].code).toBe('FORBIDDEN');
    expect((await t.agent(`{ incidentSettings { timeZone autoCloseDays } }`)).incidentSettings).toEqual({ timeZone: 'UTC', autoCloseDays: 7 });
    expect((await t.admin(SET, { input: { autoCloseDays: null } })).setIncidentSettings.incidentSettings).toEqual({ timeZone: 'UTC', autoCloseDays: null });
  });
});

describe('assignment', () => {
  it('counts a reassignment for each change of group after the first, and records group and assignee', async () => {
    const t = await tenantOf(graph);
    let incident = await createIncident(t.agent, { title: 'Mail queue stuck' });
    for (const input of [{ assignmentGroup: 'Service Desk' }, { assignmentGroup: 'Messaging', assignee: 'ana' }, { assignee: 'bo' }, { assignmentGroup: 'Network' }]) {
      const data = await t.agent(UPDATE, { input: { id: incident.id, version: incident.version, ...input } });
      incident = data.updateIncident.incident;
    }
    expect(incident).toMatchObject({ assignmentGroup: 'Network', assignee: 'bo', reassignmentCount: 2, version: 5 });
    const { incident: read } = await t.agent(HISTORY, { id: incident.id });
    expect(read.history.slice(1).map((h: any) => [h.field, h.from, h.to])).toEqual([
      ['assignment_group', null, 'Service Desk'],
      ['assignment_group', 'Service Desk', 'Messaging'],
      ['assignee', null, 'ana'],
      ['assignee', 'ana', 'bo'],
      ['assignment_group', 'Messaging', 'Network'],
    ]);
  });

  it('writes nothing for an update that changes nothing', async () => {
    const t = await tenantOf(graph);
    const incident = await createIncident(t.agent, { title: 'Same', assignmentGroup: 'Desk' });
    const data = await t.agent(UPDATE, { input: { id: incident.id, version: 1, title: 'Same', assignmentGroup: 'Desk' } });
    expect(data.updateIncident.incident.version).toBe(1);
  });
});

describe('categorisation', () => {
  const cases: [string, string | null, string, string, string[]][] = [
    ['VPN drops every hour', null, 'Network', 'VPN', ['vpn']],
    ['Outlook crashes on start', null, 'Software', 'Productivity Software', ['outlook']],
    ['phishing email received', null, 'Security', 'Phishing', ['phishing', 'phishing email']],
  ];
  for (const [title, description, category, subcategory, matched] of cases) {
    it(`auto-categorises "${title}" as ${category} / ${subcategory}`, async () => {
      const t = await tenantOf(graph);
      const incident = await createIncident(t.agent, { title, description });
      expect(incident.autoCategorization).toEqual({ category, subcategory, matchedKeywords: matched });
      expect([incident.category, incident.subcategory]).toEqual([category, subcategory]);
      expect((await t.agent(`query ($t: String!) { suggestCategory(title: $t) { category subcategory matchedKeywords } }`, { t: title })).suggestCategory).toEqual(
        incident.autoCategorization,
      );
    });
  }

  it('matches whole words only, case-insensitively, and leaves a person-chosen category alone', async () => {
    const t = await tenantOf(graph);
    const none = await createIncident(t.agent, { title: 'vpnclient.exe missing', description: 'Installer OUTLOOKS nothing' });
    expect([none.category, none.autoCategorization]).toEqual([null, null]);
    const upper = await createIncident(t.agent, { title: 'the VPN is down' });
    expect(upper.autoCategorization).toEqual({ category: 'Network', subcategory: 'VPN', matchedKeywords: ['vpn'] });
    const chosen = await createIncident(t.agent, { title: 'VPN drops', category: 'Hardware', subcategory: 'Laptop' });
    expect([chosen.category, chosen.subcategory, chosen.autoCategorization]).toEqual(['Hardware', 'Laptop', null]);
    const recategorised = await t.agent(UPDATE, { input: { id: upper.id, version: 1, category: 'Software', subcategory: 'Browser' } });
    expect(recategorised.updateIncident.incident).toMatchObject({ category: 'Software', subcategory: 'Browser', autoCategorization: null });
  });

  it('uses the keyword lists an admin edits, validated', async () => {
    const t = await tenantOf(graph);
    const SET = `mutation ($input: CategoryTaxonomyInput!) { setCategoryTaxonomy(input: $input) { categoryTaxonomy { categories { name subcategories { name keywords } } } ${ERRORS} } }`;
    const categories = [
      { name: 'Facilities', subcategories: [{ name: 'Coffee Machine', keywords: ['coffee', 'espresso machine'] }] },
      { name: 'Network', subcategories: [{ name: 'VPN', keywords: ['tunnel'] }] },
    ];
    expect((await t.agent(SET, { input: { categories } })).setCategoryTaxonomy.errors[0].code).toBe('FORBIDDEN');
    const bad = await t.admin(SET, { input: { categories: [...categories, { name: 'network', subcategories: [{ name: '', keywords: ['--'] }] }] } });
    expect(bad.setCategoryTaxonomy.errors.map((e: any) => [e.field, e.rule])).toEqual([
      ['input.categories[2].name', 'unique'],
      ['input.categories[2].subcategories[0].name', 'required'],
      ['input.categories[2].subcategories[0].keywords[0]', 'format'],
    ]);
    expect((await t.admin(SET, { input: { categories } })).setCategoryTaxonomy.errors).toEqual([]);
    const coffee = await createIncident(t.agent, { title: 'Espresso machine leaking', description: 'no coffee' });
    expect(coffee.autoCategorization).toEqual({ category: 'Facilities', subcategory: 'Coffee Machine', matchedKeywords: ['coffee', 'espresso machine'] });
    const vpn = await createIncident(t.agent, { title: 'VPN drops every hour' });
    expect(vpn.category).toBeNull();
    const unknown = await t.agent(CREATE, { input: { title: 'x', impact: 3, urgency: 3, category: 'Software' } });
    expect(unknown.createIncident.errors.map((e: any) => [e.field, e.rule])).toEqual([['input.category', 'oneOf']]);
  });
});

describe('validation', () => {
  it('returns a typed error naming the field and the rule, and writes nothing', async () => {
    const t = await tenantOf(graph);
    const cases: [Record<string, unknown>, [string, string][]][] = [
      [{ title: 'x', impact: 0, urgency: 3 }, [['input.impact', 'range']]],
      [{ title: 'x', impact: 6, urgency: 3 }, [['input.impact', 'range']]],
      [{ title: 'x', impact: 3, urgency: 9 }, [['input.urgency', 'range']]],
      [{ title: '', impact: 3, urgency: 3 }, [['input.title', 'required']]],
      [{ title: '   ', impact: 3, urgency: 3 }, [['input.title', 'required']]],
      [{ title: 'x'.repeat(256), impact: 3, urgency: 3 }, [['input.title', 'maxLength']]],
      [{ title: 'x', impact: 3, urgency: 3, category: 'Plumbing' }, [['input.category', 'oneOf']]],
      [{ title: 'x', impact: 3, urgency: 3, category: 'Network', subcategory: 'Toner' }, [['input.subcategory', 'oneOf']]],
      [{ title: '', impact: 0, urgency: 3, category: 'Plumbing' }, [['input.title', 'required'], ['input.impact', 'range'], ['input.category', 'oneOf']]],
    ];
    for (const [input, expected] of cases) {
      const data = await t.agent(CREATE, { input });
      expect(data.createIncident.incident).toBeNull();
      expect(data.createIncident.errors.map((e: any) => [e.__typename, e.field, e.rule])).toEqual(expected.map(([f, r]) => ['ValidationFailed', f, r]));
    }
    expect((await createIncident(t.agent, { title: 'x'.repeat(255) })).title).toHaveLength(255);
    expect(await storedIncidentCount(t.tenantId)).toBe(1);

    const incident = await createIncident(t.agent, { title: 'ok' });
    const update = await t.agent(UPDATE, { input: { id: incident.id, version: 1, impact: 6, title: 'still ok' } });
    expect(update.updateIncident.errors.map((e: any) => [e.field, e.rule])).toEqual([['input.impact', 'range']]);
    const emptyTitle = await t.agent(UPDATE, { input: { id: incident.id, version: 1, title: '' } });
    expect(emptyTitle.updateIncident.errors.map((e: any) => [e.field, e.rule])).toEqual([['input.title', 'required']]);
    expect((await t.agent(`query ($id: ID) { incident(id: $id) { title impact version } }`, { id: incident.id })).incident).toEqual({ title: 'ok', impact: 3, version: 1 });
    const missing = await t.agent(UPDATE, { input: { id: '00000000-0000-4000-8000-000000000000', version: 1, title: 'y' } });
    expect(missing.updateIncident.errors[0]).toMatchObject({ __typename: 'NotFound', code: 'NOT_FOUND' });
  });
});

describe('concurrency', () => {
  it('lets exactly one of two concurrent updates with the same version win; the other gets the current version', async () => {
    const t = await tenantOf(graph);
    const incident = await createIncident(t.agent, { title: 'Race' });
    for (let round = 0; round < 5; round++) {
      const [version] = [((await t.agent(`query ($id: ID) { incident(id: $id) { version } }`, { id: incident.id })) as any).incident.version];
      const results = await Promise.all(
        ['alpha', 'beta'].map((who) => t.agent(UPDATE, { input: { id: incident.id, version, description: `${who} ${round}` } })),
      );
      const winners = results.filter((r: any) => r.updateIncident.errors.length === 0);
      const losers = results.filter((r: any) => r.updateIncident.errors.length > 0);
      expect(winners).toHaveLength(1);
      expect(losers).toHaveLength(1);
      expect(losers[0].updateIncident.errors).toEqual([
        {
          __typename: 'VersionConflict',
          code: 'VERSION_CONFLICT',
          message: `incident ${incident.number} was changed by someone else: you sent version ${version}, the current version is ${version + 1}`,
          currentVersion: version + 1,
        },
      ]);
      const stored = (await t.agent(`query ($id: ID) { incident(id: $id) { description version } }`, { id: incident.id })).incident;
      expect(stored).toEqual({ description: winners[0].updateIncident.incident.description, version: version + 1 });
    }
  });

  it('refuses a stale version on transitions too', async () => {
    const t = await tenantOf(graph);
    const incident = await createIncident(t.agent, { title: 'Stale' });
    await t.agent(UPDATE, { input: { id: incident.id, version: 1, description: 'edited' } });
    const stale = await t.agent(TRANSITION, { input: { id: incident.id, version: 1, to: 'IN_PROGRESS' } });
    expect(stale.transitionIncident.errors).toEqual([
      expect.objectContaining({ __typename: 'VersionConflict', currentVersion: 2 }),
    ]);
  });
});

describe('major incidents and resolution fields', () => {
  it('flags a major incident (managers only), recorded, listed apart; root cause and workaround are kept', async () => {
    const t = await tenantOf(graph);
    const a = await createIncident(t.agent, { title: 'Datacenter power loss', impact: 1, urgency: 1 });
    const b = await createIncident(t.agent, { title: 'Keyboard sticky' });
    const SET = `mutation ($input: SetMajorIncidentInput!) { setMajorIncident(input: $input) { incident { major version } ${ERRORS} } }`;
    expect((await t.agent(SET, { input: { id: a.id, version: 1, major: true } })).setMajorIncident.errors[0].code).toBe('FORBIDDEN');
    expect((await t.manager(SET, { input: { id: a.id, version: 1, major: true, reason: 'all sites down' } })).setMajorIncident).toEqual({
      incident: { major: true, version: 2 },
      errors: [],
    });
    const list = await t.agent(`{ majorIncidents { totalCount edges { node { number major } } } }`);
    expect(list.majorIncidents).toEqual({ totalCount: 1, edges: [{ node: { number: a.number, major: true } }] });
    const fields = await t.agent(UPDATE, { input: { id: a.id, version: 2, rootCause: 'UPS firmware', workaround: 'run on generator' } });
    expect(fields.updateIncident.incident).toMatchObject({ rootCause: 'UPS firmware', workaround: 'run on generator', version: 3 });
    const { incident: read } = await t.agent(HISTORY, { id: a.id });
    expect(read.history[1]).toEqual({ actor: 'manager-user', field: 'major', from: 'false', to: 'true', reason: 'all sites down' });
    // Closed major incidents leave the default list.
    let current = fields.updateIncident.incident;
    for (const to of ['RESOLVED', 'CLOSED'] as IncidentState[]) current = (await t.agent(TRANSITION, { input: transitionInput({ id: a.id, version: current.version }, to) })).transitionIncident.incident;
    expect((await t.agent(`{ majorIncidents { totalCount } }`)).majorIncidents.totalCount).toBe(0);
    expect((await t.agent(`{ majorIncidents(includeClosed: true) { totalCount } }`)).majorIncidents.totalCount).toBe(1);
    expect(b.major).toBe(false);
  });

  it('accepts every resolution code', async () => {
    const t = await tenantOf(graph);
    const codes = [
      'RESOLVED_BY_USER', 'RESOLVED_BY_SUPPORT', 'HARDWARE_REPLACEMENT', 'SOFTWARE_UPDATE', 'CONFIGURATION_CHANGE', 'USER_TRAINING',
      'WORKAROUND_PROVIDED', 'ESCALATED_TO_VENDOR', 'DUPLICATE', 'NOT_REPRODUCIBLE', 'USER_ERROR', 'KNOWN_ERROR',
    ];
    for (const code of codes) {
      const incident = await createIncident(t.agent, { title: code });
      const data = await t.agent(TRANSITION, { input: { id: incident.id, version: 1, to: 'RESOLVED', resolutionCode: code, resolutionNotes: 'n' } });
      expect(data.transitionIncident.incident.resolutionCode).toBe(code);
    }
  });
});

describe('outbox events', () => {
  it('records INCIDENT_CREATED, INCIDENT_UPDATED and INCIDENT_STATE_CHANGED with the incident as it stands', async () => {
    const t = await tenantOf(graph);
    const incident = await createIncident(t.agent, { title: 'VPN drops every hour', description: 'since Monday', configurationItem: 'vpn-gw-1', impact: 2, urgency: 2 });
    await t.agent(UPDATE, { input: { id: incident.id, version: 1, urgency: 1 } });
    await t.agent(TRANSITION, { input: { id: incident.id, version: 2, to: 'IN_PROGRESS' } });
    // Readers only see transactions older than every running one, so the last events may take a moment to show.
    const events = await eventually(async () => {
      const read = await outboxEvents(graph.databases.incident, t.tenantId, ['INCIDENT_CREATED', 'INCIDENT_UPDATED', 'INCIDENT_STATE_CHANGED']);
      return read.length >= 3 ? read : undefined;
    });
    const base = {
      incidentId: incident.id,
      number: incident.number,
      title: 'VPN drops every hour',
      description: 'since Monday',
      category: 'Network',
      subcategory: 'VPN',
      configurationItem: 'vpn-gw-1',
      openedAt: incident.openedAt,
    };
    expect(events.map((e) => [e.type, e.payload])).toEqual([
      ['INCIDENT_CREATED', { ...base, state: 'NEW', priority: 2 }],
      ['INCIDENT_UPDATED', { ...base, state: 'NEW', priority: 2 }],
      ['INCIDENT_STATE_CHANGED', { ...base, state: 'IN_PROGRESS', priority: 2 }],
    ]);
  });
});

describe('service desk queries', () => {
  it('filters, sorts, pages, searches and counts', async () => {
    const t = await tenantOf(graph);
    const make = (title: string, extra: Record<string, unknown> = {}) => createIncident(t.agent, { title, ...extra });
    const a = await make('Printer jammed on floor 2', { impact: 4, urgency: 4, assignmentGroup: 'Desk', assignee: 'ana' });
    const b = await make('Database cluster failover', { impact: 1, urgency: 1, assignmentGroup: 'DBA', description: 'replication lag then failover' });
    const c = await make('Laptop battery swelling', { impact: 3, urgency: 2, assignmentGroup: 'Desk' });
    const d = await make('Database backup failed', { impact: 2, urgency: 3, assignmentGroup: 'DBA', assignee: 'bo' });
    await t.agent(TRANSITION, { input: transitionInput(d, 'IN_PROGRESS') });
    await t.manager(`mutation ($id: ID!) { setMajorIncident(input: { id: $id, version: 1, major: true }) { ${ERRORS} } }`, { id: b.id });

    const LIST = `query ($filter: IncidentFilter, $sort: IncidentSort, $first: Int, $after: String) {
      incidents(filter: $filter, sort: $sort, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { number } } } }`;
    const numbers = async (vars: Record<string, unknown>) => (await t.agent(LIST, vars)).incidents.edges.map((e: any) => e.node.number);
    expect(await numbers({})).toEqual([d.number, c.number, b.number, a.number]);
    expect(await numbers({ sort: { field: 'OPENED_AT', direction: 'ASC' } })).toEqual([a.number, b.number, c.number, d.number]);
    expect(await numbers({ sort: { field: 'PRIORITY' } })).toEqual([b.number, d.number, c.number, a.number]);
    // Within a priority, newest opened first whatever the direction.
    expect(await numbers({ sort: { field: 'PRIORITY', direction: 'DESC' } })).toEqual([a.number, d.number, c.number, b.number]);
    expect(await numbers({ sort: { field: 'UPDATED_AT' } })).toEqual([b.number, d.number, c.number, a.number]);
    expect(await numbers({ filter: { state: ['IN_PROGRESS'] } })).toEqual([d.number]);
    expect(await numbers({ filter: { priority: [1, 4] } })).toEqual([b.number, a.number]);
    expect(await numbers({ filter: { assignmentGroup: 'Desk' } })).toEqual([c.number, a.number]);
    expect(await numbers({ filter: { assignee: 'bo' } })).toEqual([d.number]);
    expect(await numbers({ filter: { category: 'Hardware' } })).toEqual([c.number, a.number]);
    expect(await numbers({ filter: { major: true } })).toEqual([b.number]);
    expect(await numbers({ filter: { openedFrom: b.openedAt, openedTo: d.openedAt } })).toEqual([c.number, b.number]);
    // Full-text over title and description: English stemming ("databases" finds "database"), web-search syntax.
    expect(await numbers({ filter: { search: 'databases' } })).toEqual([d.number, b.number]);
    expect(await numbers({ filter: { search: 'replication' } })).toEqual([b.number]);
    expect(await numbers({ filter: { search: 'database -backup' } })).toEqual([b.number]);
    expect(await numbers({ filter: { search: '"battery swelling"' } })).toEqual([c.number]);
    expect(await numbers({ filter: { search: 'database', assignmentGroup: 'Desk' } })).toEqual([]);

    // Keyset paging in priority order, two at a time.
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 3; page++) {
      const data: any = await t.agent(LIST, { sort: { field: 'PRIORITY' }, first: 2, after });
      seen.push(...data.incidents.edges.map((e: any) => e.node.number));
      expect(data.incidents.totalCount).toBe(4);
      after = data.incidents.pageInfo.endCursor;
      if (!data.incidents.pageInfo.hasNextPage) break;
    }
    expect(seen).toEqual([b.number, d.number, c.number, a.number]);
    const wrongSort = await graph.request(LIST, { after: (await t.agent(LIST, { sort: { field: 'PRIORITY' }, first: 1 })).incidents.pageInfo.endCursor }, await t.tokenFor(['agent']));
    expect(wrongSort.body.errors?.[0]?.extensions).toMatchObject({ code: 'VALIDATION_FAILED', field: 'after', rule: 'cursor' });

    const counts = await t.agent(`query ($filter: IncidentFilter) { incidentCounts(filter: $filter) { total byState { state count } byPriority { priority count } } }`);
    expect(counts.incidentCounts).toEqual({
      total: 4,
      byState: [
        { state: 'NEW', count: 3 },
        { state: 'IN_PROGRESS', count: 1 },
        { state: 'ON_HOLD', count: 0 },
        { state: 'RESOLVED', count: 0 },
        { state: 'CLOSED', count: 0 },
        { state: 'CANCELLED', count: 0 },
      ],
      byPriority: [
        { priority: 1, count: 1 },
        { priority: 2, count: 0 },
        { priority: 3, count: 2 },
        { priority: 4, count: 1 },
        { priority: 5, count: 0 },
      ],
    });
    const dba = await t.agent(`{ incidentCounts(filter: { assignmentGroup: "DBA" }) { total } }`);
    expect(dba.incidentCounts.total).toBe(2);
  });

  it('uses the GIN index for search', async () => {
    const rows = await rawRows<{ indexdef: string }>(
      graph.databases.incident,
      `select indexdef from pg_indexes where schemaname = 'incident' and indexname = 'incidents_search_idx'`,
    );
    expect(rows[0]?.indexdef).toBe('CREATE INDEX incidents_search_idx ON incident.incidents USING gin (search)');
  });
});

describe('roles', () => {
  it('reaches every mutation through the gateway with the right role, refuses the wrong one, and refuses no token', async () => {
    const t = await tenantOf(graph);
    const incident = await createIncident(t.agent, { title: 'Role check' });
    const calendarId = (await t.admin(`{ businessCalendars { id } }`)).businessCalendars[0].id;
    const targets = [1, 2, 3, 4, 5].map((priority) => ({ priority, responseMinutes: 10, resolutionMinutes: 60, calendarId }));
    const mutations: [string, string, Record<string, unknown>, string[]][] = [
      ['createIncident', 'CreateIncidentInput', { title: 't', impact: 3, urgency: 3 }, ['agent', 'manager', 'admin']],
      ['updateIncident', 'UpdateIncidentInput', { id: incident.id, version: 99, title: 'x' }, ['agent', 'manager', 'admin']],
      ['transitionIncident', 'TransitionIncidentInput', { id: incident.id, version: 99, to: 'IN_PROGRESS' }, ['agent', 'manager', 'admin']],
      ['overrideIncidentPriority', 'OverrideIncidentPriorityInput', { id: incident.id, version: 99, priority: 1, reason: 'r' }, ['manager', 'admin']],
      ['setMajorIncident', 'SetMajorIncidentInput', { id: incident.id, version: 99, major: true }, ['manager', 'admin']],
      ['setPriorityMatrix', 'PriorityMatrixInput', { profile: 'ITIL_5X5' }, ['admin']],
      ['setCategoryTaxonomy', 'CategoryTaxonomyInput', { categories: [{ name: 'A', subcategories: [{ name: 'B', keywords: ['c'] }] }] }, ['admin']],
      ['setIncidentSettings', 'IncidentSettingsInput', { autoCloseDays: 7 }, ['admin']],
      ['createBusinessCalendar', 'CreateBusinessCalendarInput', { name: 'C', timeZone: 'UTC', kind: 'ALWAYS' }, ['admin']],
      ['updateBusinessCalendar', 'UpdateBusinessCalendarInput', { id: calendarId, version: 99, name: 'C2', timeZone: 'UTC', kind: 'ALWAYS' }, ['admin']],
      ['createSlaPolicy', 'CreateSlaPolicyInput', { name: 'P', targets }, ['admin']],
      ['updateSlaPolicy', 'UpdateSlaPolicyInput', { id: '00000000-0000-4000-8000-000000000000', version: 1, name: 'Q' }, ['admin']],
    ];
    for (const [name, inputType, input, allowed] of mutations) {
      const query = `mutation ($input: ${inputType}!) { ${name}(input: $input) { ${ERRORS} } }`;
      const anonymous = await graph.request(query, { input });
      expect(anonymous.status, name).toBe(401);
      expect(anonymous.body.errors?.[0]?.extensions?.code, name).toBe('UNAUTHENTICATED');
      for (const role of ['partner', 'agent', 'manager', 'admin'] as const) {
        const data = await t.as([role])(query, { input });
        const forbidden = data[name].errors.filter((e: any) => e.code === 'FORBIDDEN');
        expect([name, role, forbidden.length], `${name} as ${role}`).toEqual([name, role, allowed.includes(role) ? 0 : 1]);
      }
    }
  });
});
