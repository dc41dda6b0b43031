import { randomUUID } from 'node:crypto';
import { buildSubgraph } from '@apollo/federation-internals';
import { getNamedType, isUnionType, type GraphQLField, type GraphQLSchema } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendEvents, signIdentity, SUBGRAPHS, type Identity, type SubgraphName } from '@itsm/kit';
import { SUBGRAPH_MODULES } from '../scripts/graph.js';
import { CHANGE_CONFLICT_DETECTED } from '../subgraphs/change/src/services/conflict-detection.js';
import { SLA_EVENT_TYPES } from '../subgraphs/incident/src/services/sla-engine.js';
import { PROBLEM_EVENTS } from '../subgraphs/problem/src/services/problems.js';
import { startTestGraph, type TestGraph } from './harness.js';
import {
  changedTables,
  VOLATILE_FIELDS,
  enumValues,
  errorCodes,
  idPaths,
  inputTypeOf,
  newMarker,
  operationFor,
  rootFields,
  seedTenant,
  selectionOf,
  snapshotTenant,
  type GraphQLBody,
  type SeededTenant,
  VALID_INPUTS,
  generatedArgsFor,
  idsOfTypeIn,
} from './probe-kit.js';
import { subscribeOverWebSocket, type CollectedSubscription } from './ws-client.js';

/**
 * Tenant isolation by every path. Tenant A holds data in every domain; tenant B (an admin of its own tenant) probes
 * every query field of the API schema, every mutation that takes an id, `_entities` of every subgraph and every
 * subscription with A's ids, numbers, cursors and texts. Tenant C, a stranger to A, sends exactly the same
 * requests: B's answer must equal C's once each tenant's own ids, markers and clock values are blanked, and must
 * carry none of A's ids or texts that C's does not. A's rows must be unchanged by all of it.
 */

let graph: TestGraph;
let a: SeededTenant;
const tenantB = randomUUID();
const tenantC = randomUUID();
const markerB = newMarker('bravo');
const markerC = newMarker('charlie');
let tokenB: string;
let tokenC: string;
/** Every id and number tenant A's own deep reads returned: none of them may reach B unless it reaches C too. */
const idsOfA = new Set<string>();

let probes = 0;
const leaks: string[] = [];
const counts: Record<string, number> = {};

const START = Date.now();
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const INSTANT = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g;
const TWO_DAYS = 2 * 86_400_000;
const SKIP = { skip: VOLATILE_FIELDS };

/** A tenant's answer with what is its own blanked: its marker, ids that are not A's, cursors and instants of today. */
function normalize(body: unknown, ownMarker: string): string {
  const text = JSON.stringify(body, (key, value) => (key === 'cursor' || key === 'endCursor' || key === 'resumeAfter') && typeof value === 'string' ? '<cursor>' : value);
  return text
    .replaceAll(ownMarker, '<own>')
    .replace(UUID, (id) => (idsOfA.has(id) ? id : '<uuid>'))
    .replace(INSTANT, (instant) => (Math.abs(Date.parse(instant) - START) < TWO_DAYS ? '<now>' : instant));
}

/** What of A's shows in a text: its marker, its ids. */
function traces(text: string): string[] {
  const found = new Set<string>();
  if (text.includes(a.marker)) found.add(a.marker);
  for (const id of text.match(UUID) ?? []) if (idsOfA.has(id)) found.add(id);
  return [...found];
}

/** Records a probe: B's answer must equal C's (normalised) and show nothing of A's that C's does not. */
function judge(kind: string, label: string, bodyB: unknown, bodyC: unknown): void {
  probes++;
  counts[kind] = (counts[kind] ?? 0) + 1;
  const b = normalize(bodyB, markerB);
  const c = normalize(bodyC, markerC);
  const extra = traces(b).filter((t) => !traces(c).includes(t));
  if (b !== c || extra.length) {
    let at = 0;
    while (at < b.length && b[at] === c[at]) at++;
    const from = Math.max(0, at - 200);
    leaks.push(`${kind} ${label}: B …${b.slice(from, at + 400)} | C …${c.slice(from, at + 400)}${extra.length ? ` | A's ${extra.join(', ')}` : ''}`);
  }
}

async function asB(query: string, variables: Record<string, unknown>): Promise<GraphQLBody> {
  return (await graph.request(query, variables, tokenB)).body as GraphQLBody;
}
async function asC(query: string, variables: Record<string, unknown>): Promise<GraphQLBody> {
  return (await graph.request(query, variables, tokenC)).body as GraphQLBody;
}

/** The same request as B and as C, judged. */
async function probe(kind: string, label: string, query: string, variables: Record<string, unknown>): Promise<GraphQLBody> {
  const bodyB = await asB(query, variables);
  const bodyC = await asC(query, variables);
  judge(kind, label, bodyB, bodyC);
  return bodyB;
}

/** A's ids by the type they name. */
const idsOfType = (typeName: string) => idsOfTypeIn(a, typeName);

/** Arguments for a query field from its signature alone, with A's ids. */
const generatedArgs = (field: GraphQLField<unknown, unknown>) => generatedArgsFor(field, a, START);

/** Arguments a person who knows A's records would try, per query field, on top of the generated ones. */
function chosenArgs(): Record<string, Record<string, unknown>[]> {
  const M = a.marker;
  const numbers = <T extends { number: string }>(rows: T[]) => rows.map((r) => ({ number: r.number }));
  const ids = <T extends { id: string }>(rows: T[], name = 'id') => rows.map((r) => ({ [name]: r.id }));
  const year2030 = { from: '2030-01-01T00:00:00Z', to: '2030-12-31T00:00:00Z' };
  return {
    changeRequest: [...ids(a.changes), ...numbers(a.changes)],
    changeRequests: [{}, { first: 100 }, { after: a.cursors.changes }, { filter: { number: a.changes[0]!.number } }, { filter: { state: enumValues('ChangeState') } }],
    changeCalendar: [year2030, { ...year2030, configurationItems: [`ci-${M}`, `db-${M}`], services: [`svc-${M}`] }],
    nextFreeChangeSlots: ids(a.changes, 'changeRequestId').map((v) => ({ ...v, limit: 50, from: '2030-03-01T00:00:00Z', durationMinutes: 60 })),
    changeWindows: [{}, ...enumValues('ChangeWindowKind').map((kind) => ({ kind }))],
    openChangeConflicts: [{}, { limit: 500 }],
    riskPolicy: [{}],
    cabBoard: enumValues('CabBoardKind').map((board) => ({ board })),
    cabMeeting: ids(a.meetings),
    cabMeetings: [{}, { state: enumValues('CabMeetingState'), limit: 500 }],
    standardChangeTemplates: [{}, { state: enumValues('StandardChangeTemplateState') }],
    incident: [...ids(a.incidents), ...numbers(a.incidents)],
    incidents: [
      {},
      { first: 100 },
      { after: a.cursors.incidents },
      { filter: { search: M } },
      { filter: { number: a.incidents[0]!.number } },
      { filter: { assignmentGroup: `group-${M}`, category: 'Network' } },
      { filter: { major: true }, sort: { field: 'PRIORITY' } },
      { sort: { field: 'UPDATED_AT', direction: 'ASC' } },
    ],
    majorIncidents: [{}, { includeClosed: true, first: 100 }],
    incidentCounts: [{}, { filter: { search: M } }, { filter: { state: enumValues('IncidentState') } }],
    priorityMatrix: [{}],
    categoryTaxonomy: [{}],
    suggestCategory: [{ title: M, description: `${M} wifi` }, { title: 'wifi down' }],
    incidentSettings: [{}],
    businessCalendars: [{}],
    businessCalendar: ids(a.calendars),
    slaPolicies: [{}],
    slaPolicy: ids(a.policies),
    slaReport: [{ from: new Date(START - 30 * 86_400_000).toISOString(), to: new Date(START + 86_400_000).toISOString() }],
    problem: [...ids(a.problems), ...numbers(a.problems)],
    problems: [{}, { first: 100 }, { after: a.cursors.problems }, { filter: { number: a.problems[0]!.number } }, { filter: { owner: `owner-${M}` } }],
    knownError: [...ids(a.knownErrors), ...numbers(a.knownErrors)],
    knownErrors: [{}, { search: M }, { search: 'mail slow' }, { after: a.cursors.knownErrors }, { filter: { problemId: a.problems[0]!.id, active: true } }],
    recurrenceSettings: [{}],
  };
}

/** Reads everything A can see with the probes' own selections: every id and number found belongs to A. */
async function harvestA(): Promise<void> {
  const chosen = chosenArgs();
  for (const field of rootFields('Query')) {
    const selection = selectionOf(getNamedType(field.type), 3, SKIP);
    for (const args of [...generatedArgs(field), ...(chosen[field.name] ?? [])]) {
      const { query, variables } = operationFor('query', field, args, selection);
      const body = (await graph.request(query, variables, a.token)).body;
      for (const id of JSON.stringify(body).match(UUID) ?? []) idsOfA.add(id);
    }
  }
  for (const rows of [a.incidents, a.problems, a.knownErrors, a.changes, a.meetings, a.windows, a.templates, a.calendars, a.policies, a.conflicts, a.slas]) {
    for (const row of rows) idsOfA.add(row.id);
  }
}

beforeAll(async () => {
  // Probes select every field three levels deep: the abuse limits (tested in limits.test.ts) would refuse them.
  graph = await startTestGraph({ background: false, env: { MAX_QUERY_DEPTH: '50', MAX_ALIASES: '1000', MAX_QUERY_COST: '100000000' } });
  a = await seedTenant(graph, randomUUID(), newMarker('alpha'));
  tokenB = await graph.token({ tenant: tenantB, roles: ['admin', 'agent', 'manager', 'change_manager', 'cab_member'], sub: 'prober' });
  tokenC = await graph.token({ tenant: tenantC, roles: ['admin', 'agent', 'manager', 'change_manager', 'cab_member'], sub: 'prober' });
  await harvestA();
}, 180_000);

afterAll(async () => {
  console.log(`isolation probes: ${probes} (${Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(', ')}), leaks: ${leaks.length}`);
  await graph?.stop();
});

describe('tenant isolation', () => {
  let snapshotOfA: Awaited<ReturnType<typeof snapshotTenant>>;

  it('A seeded in every domain is visible to A', async () => {
    snapshotOfA = await snapshotTenant(graph, a.tenantId);
    const nonEmpty = Object.entries(snapshotOfA).filter(([, hash]) => !hash.startsWith('0:')).map(([table]) => table);
    // Every table of every domain but the background workers' (recurrence clusters, observed incidents, SLA firings).
    for (const table of ['incident.incidents', 'incident.incident_history', 'incident.task_slas', 'problem.problems', 'problem.known_errors', 'problem.problem_incidents',
      'change.change_requests', 'change.risk_assessments', 'change.cab_votes', 'change.change_windows', 'change.change_conflicts', 'change.change_incidents', 'change.change_problems']) {
      expect(nonEmpty).toContain(table);
    }
    expect(idsOfA.size).toBeGreaterThan(30);
  });

  it('the judge notices a leak: A reading its own records is not what a stranger gets', async () => {
    const field = rootFields('Query').find((f) => f.name === 'incident')!;
    const { query, variables } = operationFor('query', field, { id: a.incidents[0]!.id }, selectionOf(getNamedType(field.type), 1, SKIP));
    const asA = (await graph.request(query, variables, a.token)).body;
    judge('control', 'A as B', asA, await asC(query, variables));
    expect(leaks).toHaveLength(1);
    expect(leaks[0]).toContain(a.marker);
    leaks.length = 0;
    probes--;
    delete counts['control'];
  });

  it('B gets from every query field of the API schema, with A ids, numbers, cursors and texts, what a stranger gets', async () => {
    const chosen = chosenArgs();
    const probed = new Map<string, number>();
    for (const field of rootFields('Query')) {
      const selection = selectionOf(getNamedType(field.type), 3, SKIP);
      for (const args of [...generatedArgs(field), ...(chosen[field.name] ?? [])]) {
        const { query, variables } = operationFor('query', field, args, selection);
        await probe('query', `${field.name}(${JSON.stringify(args)})`, query, variables);
        probed.set(field.name, (probed.get(field.name) ?? 0) + 1);
      }
    }
    expect(rootFields('Query').filter((f) => !probed.get(f.name)).map((f) => f.name)).toEqual([]);
    expect(leaks).toEqual([]);
  });

  it('B gets nothing of A from _entities sent to each subgraph with B identity, and the gateway does not expose _entities', async () => {
    const identity = (tenantId: string): Identity => ({ userId: 'prober', tenantId, roles: ['admin'] });
    for (const name of SUBGRAPHS) {
      const schema: GraphQLSchema = buildSubgraph(name, graph.subgraphs[name].url, SUBGRAPH_MODULES[name].sdl).schema.toGraphQLJSSchema();
      const entity = schema.getType('_Entity');
      if (!entity || !isUnionType(entity)) continue;
      for (const type of entity.getTypes()) {
        const representations = idsOfType(type.name).map((id) => ({ __typename: type.name, id, title: `${a.marker} printer`, description: `${a.marker} jams` }));
        const owned = ownerOf(type.name) === name;
        const query = `query ($r: [_Any!]!) { _entities(representations: $r) { __typename ... on ${type.name} { ${selectionOf(type, 2, SKIP, schema)} } } }`;
        for (const representation of representations) {
          const send = async (tenantId: string) => {
            const response = await fetch(graph.subgraphs[name].url, {
              method: 'POST',
              headers: { 'content-type': 'application/json', ...signIdentity(identity(tenantId), graph.config.internalSecret) },
              body: JSON.stringify({ query, variables: { r: [representation] } }),
            });
            return (await response.json()) as GraphQLBody;
          };
          const bodyB = await send(tenantB);
          judge('entities', `${name} ${type.name} ${representation.id}`, bodyB, await send(tenantC));
          if (owned) expect([name, type.name, bodyB]).toEqual([name, type.name, { data: { _entities: [null] } }]);
        }
      }
    }
    const viaGateway = await probe('entities', 'gateway _entities', `query ($r: [_Any!]!) { _entities(representations: $r) { __typename } }`, {
      r: [{ __typename: 'Incident', id: a.incidents[0]!.id }],
    });
    expect(viaGateway.data).toBeUndefined();
    expect(new Set(errorCodes(viaGateway))).toEqual(new Set(['GRAPHQL_VALIDATION_FAILED']));
    expect(leaks).toEqual([]);
  });

  describe('once B and C hold data of their own', () => {
    let b: SeededTenant;
    let c: SeededTenant;
    beforeAll(async () => {
      b = await seedTenant(graph, tenantB, markerB);
      c = await seedTenant(graph, tenantC, markerC);
    }, 120_000);

    it('B subscribed to slaEvents, changeConflicts and problemEvents receives its own events and none of A, replayed or live', async () => {
      const SUBSCRIPTIONS = {
        slaEvents: `subscription ($after: String) { slaEvents(after: $after) { cursor kind slaId incident { id number title problem { id title } relatedChanges { id title } } } }`,
        changeConflicts: `subscription ($after: String) { changeConflicts(after: $after) { cursor conflictId message changeRequest { id title } otherChangeRequest { id title } } }`,
        problemEvents: `subscription ($after: String) { problemEvents(after: $after) { cursor problem { id title } incidents { id title } } }`,
      } as const;
      /** Writes one event per stream for a tenant; returns what identifies each in a result. */
      const fire = async (tenant: SeededTenant, label: string, problemIndex: number) => {
        const slaId = randomUUID();
        const message = `${label} ${randomUUID()} ${tenant.marker}`;
        const problemId = tenant.problems[problemIndex]!.id;
        const now = new Date().toISOString();
        await graph.databases.incident.db.transaction((tx) =>
          appendEvents(tx, 'incident', [
            {
              tenantId: tenant.tenantId,
              type: SLA_EVENT_TYPES.breached,
              payload: { incidentId: tenant.incidents[2]!.id, incidentNumber: tenant.incidents[2]!.number, slaId, kind: 'RESOLUTION', level: null, percent: 100, dueAt: now, firedAt: now },
            },
          ]),
        );
        await graph.databases.change.db.transaction((tx) =>
          appendEvents(tx, 'change', [
            {
              tenantId: tenant.tenantId,
              type: CHANGE_CONFLICT_DETECTED,
              payload: { conflictId: randomUUID(), changeId: tenant.changes[2]!.id, otherChangeId: tenant.changes[3]!.id, kind: 'OVERLAPPING_CHANGE', severity: 'HIGH', message, detectedAt: now },
            },
          ]),
        );
        await graph.databases.problem.db.transaction((tx) =>
          appendEvents(tx, 'problem', [{ tenantId: tenant.tenantId, type: PROBLEM_EVENTS.detected, payload: { problemId, incidentIds: [tenant.incidents[0]!.id], detectedAt: now } }]),
        );
        return { slaEvents: slaId, changeConflicts: message, problemEvents: problemId };
      };
      type Streams = Record<keyof typeof SUBSCRIPTIONS, CollectedSubscription<any>>;
      const open = (token: string, after: string | null) =>
        Object.fromEntries(Object.entries(SUBSCRIPTIONS).map(([field, query]) => [field, subscribeOverWebSocket<any>(graph.url, token, query, { after })])) as Streams;
      /** Waits until each stream delivered the event of `fired`. */
      const delivered = async (streams: Streams, fired: Record<keyof typeof SUBSCRIPTIONS, string>) => {
        for (const [field, sub] of Object.entries(streams) as [keyof typeof SUBSCRIPTIONS, CollectedSubscription<any>][]) {
          const deadline = Date.now() + 30_000;
          while (!JSON.stringify(sub.results).includes(fired[field])) {
            if (Date.now() > deadline) throw new Error(`${field} did not deliver ${fired[field]}: ${JSON.stringify(sub.results).slice(0, 500)}`);
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        }
      };
      // A's events written before anyone subscribed: B replays its streams from the start ('0.0') and must not see them.
      await fire(a, 'a-before', 0);
      const fromStartB = open(tokenB, '0.0');
      const liveB = open(tokenB, null);
      const liveA = open(a.token, null);
      // A stream opened without a cursor starts when the subgraph opens it: fire until every live stream has one event.
      const streams = [...Object.values(fromStartB), ...Object.values(liveB), ...Object.values(liveA)];
      for (let round = 0; streams.some((sub) => !sub.results.length); round++) {
        if (round === 100) throw new Error('the subscriptions did not start');
        await fire(b, 'b-warm-up', 0);
        await fire(a, 'a-warm-up', 0);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      // Then A's events, then B's: once B's arrived, A's would have (each stream is in commit order).
      await delivered(liveA, await fire(a, 'a-live', 1));
      const lastOfB = await fire(b, 'b-last', 1);
      await delivered(fromStartB, lastOfB);
      await delivered(liveB, lastOfB);
      await Promise.all(streams.map((sub) => sub.close()));

      for (const [label, streams] of [['replayed', fromStartB], ['live', liveB]] as const) {
        for (const [field, sub] of Object.entries(streams)) {
          probes++;
          counts['subscription'] = (counts['subscription'] ?? 0) + 1;
          const text = JSON.stringify(sub.results);
          const ofA = traces(text);
          if (ofA.length) leaks.push(`subscription ${field} ${label}: A's ${ofA.join(', ')} in ${text.slice(0, 600)}`);
          expect(sub.results.every((r) => r.errors === undefined)).toBe(true);
        }
      }
      // A's own live streams got A's events: the probes saw real traffic.
      for (const sub of Object.values(liveA)) expect(traces(JSON.stringify(sub.results)).length).toBeGreaterThan(0);
      expect(leaks).toEqual([]);
    });

    it('B refused, with A ids, by every mutation that takes an id; A unchanged; foreign ids held by B resolve to nothing of A', async () => {
      const before = await snapshotTenant(graph, a.tenantId);
      const mutations = rootFields('Mutation');
      const withIds = mutations.filter((f) => idPaths(inputTypeOf(f)).length > 0);
      expect(withIds.length).toBeGreaterThan(25);
      const refusedCodes = new Set(['NOT_FOUND', 'FORBIDDEN', 'VALIDATION_FAILED', 'CONFLICT', 'INVALID_TRANSITION', 'VERSION_CONFLICT']);
      for (const field of mutations) {
        const paths = idPaths(inputTypeOf(field));
        const selection = selectionOf(getNamedType(field.type), 2, SKIP);
        for (const { label, input, allOfA } of mutationInputs(field.name, paths)) {
          const beforeThis = await snapshotTenant(graph, a.tenantId);
          const { query, variables } = operationFor('mutation', field, { input: input(b) }, selection);
          const bodyB = await asB(query, variables);
          // C sends the same ids of A, with its own ids where B sent its own.
          const bodyC = await asC(query, operationFor('mutation', field, { input: input(c) }, selection).variables);
          judge('mutation', `${field.name} ${label}`, bodyB, bodyC);
          const changed = changedTables(beforeThis, await snapshotTenant(graph, a.tenantId));
          if (changed.length) leaks.push(`mutation ${field.name} ${label} changed A's ${changed.join(', ')}`);
          if (allOfA) {
            const payload = bodyB.data?.[field.name] as { errors?: { code: string }[] } | undefined;
            const codes = [...errorCodes(bodyB), ...(payload?.errors ?? []).map((e) => e.code)];
            if (!codes.length || codes.some((code) => !refusedCodes.has(code))) leaks.push(`mutation ${field.name} ${label} was not refused: ${JSON.stringify(bodyB).slice(0, 400)}`);
          }
        }
      }
      expect(changedTables(before, await snapshotTenant(graph, a.tenantId))).toEqual([]);
      expect(leaks).toEqual([]);

      // B's own records now name A's incident, problem and change where B's mutations accepted a foreign id: reading them resolves
      // those entities through the gateway under B's identity.
      for (const [field, ids] of [
        ['problem', b.problems],
        ['knownError', b.knownErrors],
        ['changeRequest', b.changes],
        ['incident', b.incidents],
      ] as const) {
        const query = rootFields('Query').find((f) => f.name === field)!;
        const selection = selectionOf(getNamedType(query.type), 3, SKIP);
        for (let i = 0; i < ids.length; i++) {
          const op = operationFor('query', query, { id: ids[i]!.id }, selection);
          const bodyB = await asB(op.query, op.variables);
          const bodyC = await asC(op.query, { id: ({ problem: c.problems, knownError: c.knownErrors, changeRequest: c.changes, incident: c.incidents } as const)[field][i]!.id });
          judge('federated', `${field} ${i}`, bodyB, bodyC);
        }
      }
      expect(leaks).toEqual([]);
    });
  });
});

/** The subgraph that owns an entity type (the others extend it). */
function ownerOf(typeName: string): SubgraphName {
  return ({ Incident: 'incident', Problem: 'problem', KnownError: 'problem', ChangeRequest: 'change' } as Record<string, SubgraphName>)[typeName] ?? 'change';
}

/**
 * Inputs for a mutation under B (or C): every id A's (must be refused), and for mutations with several ids, each id
 * A's in turn with the tenant's own ids elsewhere (B linking its own problem to A's incident, for instance).
 */
function mutationInputs(name: string, paths: string[]): { label: string; input: (own: SeededTenant) => Record<string, unknown>; allOfA: boolean }[] {
  const base = VALID_INPUTS[name];
  if (!base) throw new Error(`no valid input for mutation ${name}: add one to VALID_INPUTS in test/probe-kit.ts`);
  const fill = (own: SeededTenant, foreign: Set<string>) => base((path) => (foreign.has(path) ? a : own));
  if (!paths.length) return [{ label: 'own', input: (own) => fill(own, new Set()), allOfA: false }];
  const variants = [{ label: 'all ids of A', input: (own: SeededTenant) => fill(own, new Set(paths)), allOfA: true }];
  if (paths.length > 1) {
    for (const path of paths) variants.push({ label: `${path} of A`, input: (own) => fill(own, new Set([path])), allOfA: false });
  }
  return variants;
}
