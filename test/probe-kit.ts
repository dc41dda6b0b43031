import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  buildSchema,
  getNamedType,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { SUBGRAPHS, type Role } from '@itsm/kit';
import { API_SCHEMA_FILE } from '../schema/api-schema.js';
import type { TestGraph } from './harness.js';
import { rawRows } from './incident-test-kit.js';

/**
 * What the isolation, fuzz and roles suites share: the API schema's root fields and input types read from
 * schema/api-schema.graphql (so a new field is probed without anyone listing it), selections generated from it,
 * a tenant seeded with data in every domain through the gateway, and snapshots of a tenant's rows.
 */

export const API_SCHEMA = buildSchema(readFileSync(API_SCHEMA_FILE, 'utf8'));

/** The fields of Query, Mutation or Subscription in the API schema. */
export function rootFields(kind: 'Query' | 'Mutation' | 'Subscription', schema: GraphQLSchema = API_SCHEMA): GraphQLField<unknown, unknown>[] {
  const type = schema.getType(kind) as GraphQLObjectType | undefined;
  return type ? Object.values(type.getFields()) : [];
}

/**
 * Fields left out where two tenants' answers are compared: they move with the clock (SLA arithmetic) or with the
 * exact words of the texts (search relevance), which differ by each tenant's marker.
 */
export const VOLATILE_FIELDS: Record<string, readonly string[]> = {
  TaskSla: ['elapsedWorkingMinutes', 'percentElapsed', 'remainingWorkingMinutes', 'onHoldWorkingMinutes', 'dueAt'],
  MeanTimeToResolve: ['workingMinutes', 'realMinutes'],
  KnownErrorMatch: ['score'],
  KnownErrorEdge: ['score'],
};

export interface SelectionOptions {
  /** Leave these fields out (by type name). */
  skip?: Record<string, readonly string[]>;
}

/**
 * A selection of every field of `type` that takes no required argument, object fields `depth` levels deep;
 * abstract types select `__typename` and each possible type's fields.
 */
export function selectionOf(type: GraphQLNamedType, depth: number, options: SelectionOptions = {}, schema: GraphQLSchema = API_SCHEMA): string {
  if (isLeafType(type)) return '';
  if (isAbstractType(type)) {
    const parts = schema.getPossibleTypes(type).map((possible) => `... on ${possible.name} { ${selectionOf(possible, depth, options, schema)} }`);
    return `__typename ${parts.join(' ')}`;
  }
  if (!isObjectType(type)) return '__typename';
  const skip = new Set(options.skip?.[type.name] ?? []);
  const parts: string[] = [];
  for (const field of Object.values(type.getFields())) {
    if (skip.has(field.name) || field.name.startsWith('_')) continue;
    if (field.args.some((arg) => isNonNullType(arg.type) && arg.defaultValue === undefined)) continue;
    const named = getNamedType(field.type);
    if (isLeafType(named)) parts.push(field.name);
    else if (depth > 0) parts.push(`${field.name} { ${selectionOf(named, depth - 1, options, schema)} }`);
  }
  return parts.length ? parts.join(' ') : '__typename';
}

/** `$name: Type` declarations and `name: $name` arguments for a field's arguments (all passed as variables). */
export function operationFor(
  kind: 'query' | 'mutation' | 'subscription',
  field: GraphQLField<unknown, unknown>,
  args: Record<string, unknown>,
  selection: string,
): { query: string; variables: Record<string, unknown> } {
  const used = field.args.filter((arg) => arg.name in args);
  const declarations = used.map((arg) => `$${arg.name}: ${String(arg.type)}`).join(', ');
  const passed = used.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
  const query = `${kind} Probe${declarations ? `(${declarations})` : ''} { ${field.name}${passed ? `(${passed})` : ''}${selection ? ` { ${selection} }` : ''} }`;
  return { query, variables: Object.fromEntries(used.map((arg) => [arg.name, args[arg.name]])) };
}

/** The input object type of a mutation's `input` argument. */
export function inputTypeOf(field: GraphQLField<unknown, unknown>): GraphQLInputType {
  const arg = field.args.find((a) => a.name === 'input') as GraphQLArgument | undefined;
  if (!arg) throw new Error(`mutation ${field.name} has no input argument`);
  return arg.type;
}

/** Every path (input.a.b, input.list[]) of ID-typed fields in an input type. */
export function idPaths(type: GraphQLInputType, prefix = 'input'): string[] {
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner)) return idPaths(inner.ofType, `${prefix}[]`);
  if (isInputObjectType(inner)) return Object.values(inner.getFields()).flatMap((f) => idPaths(f.type, `${prefix}.${f.name}`));
  return getNamedType(inner).name === 'ID' ? [prefix] : [];
}

/** Enum values of a named enum type of the API schema. */
export function enumValues(name: string): string[] {
  const type = API_SCHEMA.getType(name);
  return type && isEnumType(type) ? type.getValues().map((v) => v.name) : [];
}

export type GraphQLBody = { data?: any; errors?: { message: string; path?: unknown[]; extensions?: Record<string, unknown> }[] };

/** The code of every GraphQL error (INTERNAL_SERVER_ERROR when a code is missing). */
export function errorCodes(body: GraphQLBody): string[] {
  return (body.errors ?? []).map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR'));
}

// ---------------------------------------------------------------------------------------------------------------
// A tenant with data in every domain.

/** What a seeded tenant holds: the ids and numbers of its records, and the marker written into its texts. */
export interface SeededTenant {
  tenantId: string;
  /** A word written into every text of the tenant (titles, descriptions, notes, names). */
  marker: string;
  token: string;
  incidents: { id: string; number: string; version: number }[];
  problems: { id: string; number: string; version: number }[];
  knownErrors: { id: string; number: string; version: number }[];
  changes: { id: string; number: string; version: number }[];
  meetings: { id: string }[];
  windows: { id: string }[];
  templates: { id: string; version: number }[];
  calendars: { id: string; version: number }[];
  policies: { id: string; version: number }[];
  conflicts: { id: string }[];
  slas: { id: string }[];
  /** Cursors of the tenant's own pages and event streams. */
  cursors: { incidents?: string; problems?: string; knownErrors?: string; changes?: string; slaEvent?: string; conflictEvent?: string };
}

/** Roles of the seeding user: admin holds every role; the subject is a CAB member of both boards. */
export const SEED_USER = 'cab-member-1';
const SEED_ROLES: Role[] = ['admin', 'cab_member', 'change_manager', 'manager', 'agent'];

/** Runs one mutation with a generic payload selection; fails on GraphQL or payload errors. */
async function mutate(graph: TestGraph, token: string, name: string, input: Record<string, unknown>, selection: string): Promise<any> {
  const field = rootFields('Mutation').find((f) => f.name === name);
  if (!field) throw new Error(`no mutation ${name}`);
  const { query, variables } = operationFor('mutation', field, { input }, `${selection} errors { __typename code message ... on ValidationFailed { field rule } }`);
  const { body } = await graph.request<any>(query, variables, token);
  if (body.errors?.length) throw new Error(`${name}: ${JSON.stringify(body.errors)}`);
  const payload = body.data[name];
  if (payload.errors.length) throw new Error(`${name}(${JSON.stringify(input).slice(0, 300)}): ${JSON.stringify(payload.errors)}`);
  return payload;
}

/** A new random marker word: letters only, so full-text search and keyword matching treat it as one word. */
export function newMarker(label: string): string {
  return `${label}${randomBytes(6).toString('hex').replace(/\d/g, (d) => 'ghijklmnop'[Number(d)]!)}`;
}

const FACTORS = (score: number, marker: string) =>
  Object.fromEntries(
    ['technicalComplexity', 'businessImpact', 'implementationTimeline', 'resourceDependencies', 'testingCoverage', 'rollbackComplexity', 'externalDependencies'].map(
      (name) => [name, { score, justification: `${name} ${marker}` }],
    ),
  );

/**
 * Seeds a tenant through the gateway with data in every domain: settings, calendars and SLA policies, incidents
 * with history and SLAs (one resolved with notes, one major with an overridden priority), problems linked to
 * incidents, known errors, a standard change from an approved template, changes with risk assessments, CAB
 * members, a policy, a meeting with a commented vote, maintenance and blackout windows, overlapping changes
 * (conflicts), a dependency, and change links to incidents and problems.
 */
export async function seedTenant(graph: TestGraph, tenantId: string, marker: string): Promise<SeededTenant> {
  const token = await graph.token({ tenant: tenantId, roles: SEED_ROLES, sub: SEED_USER });
  const second = await graph.token({ tenant: tenantId, roles: ['cab_member'], sub: 'cab-member-2' });
  const m = (name: string, input: Record<string, unknown>, selection: string, as = token) => mutate(graph, as, name, input, selection);
  const seeded: SeededTenant = {
    tenantId,
    marker,
    token,
    incidents: [],
    problems: [],
    knownErrors: [],
    changes: [],
    meetings: [],
    windows: [],
    templates: [],
    calendars: [],
    policies: [],
    conflicts: [],
    slas: [],
    cursors: {},
  };

  // Incident settings and configuration.
  await m('setIncidentSettings', { timeZone: 'Pacific/Chatham', autoCloseDays: 11 }, 'incidentSettings { timeZone }');
  await m(
    'setPriorityMatrix',
    { profile: 'CUSTOM', cells: [[1, 1, 2, 3, 3], [1, 2, 3, 3, 4], [2, 3, 3, 4, 4], [3, 3, 4, 4, 5], [3, 4, 4, 5, 5]] },
    'priorityMatrix { profile }',
  );
  await m(
    'setCategoryTaxonomy',
    {
      categories: [
        { name: 'Network', subcategories: [{ name: 'Wifi', keywords: ['wifi'] }] },
        { name: `Category ${marker}`, subcategories: [{ name: `Sub ${marker}`, keywords: [marker] }] },
      ],
    },
    'categoryTaxonomy { categories { name } }',
  );
  const calendar = await m(
    'createBusinessCalendar',
    {
      name: `Calendar ${marker}`,
      timeZone: 'Europe/Paris',
      kind: 'BUSINESS',
      workingHours: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, intervals: [{ start: '09:00', end: '17:00' }] })),
      holidays: [{ date: '2030-05-01', recurring: true, name: `Holiday ${marker}` }],
    },
    'businessCalendar { id version }',
  );
  seeded.calendars.push(calendar.businessCalendar);
  const policy = await m(
    'createSlaPolicy',
    {
      name: `Policy ${marker}`,
      isDefault: false,
      targets: [1, 2, 3, 4, 5].map((priority) => ({ priority, responseMinutes: 17 * priority, resolutionMinutes: 171 * priority, calendarId: calendar.businessCalendar.id })),
    },
    'slaPolicy { id version }',
  );
  seeded.policies.push(policy.slaPolicy);

  // Incidents: history, SLAs, notes.
  const incident = async (input: Record<string, unknown>) =>
    (await m('createIncident', { impact: 2, urgency: 2, ...input }, 'incident { id number version slas { id } }')).incident;
  const i1 = await incident({
    title: `Printer ${marker} jams`,
    description: `Paper jam ${marker}`,
    caller: `caller-${marker}`,
    configurationItem: `ci-${marker}`,
    assignmentGroup: `group-${marker}`,
    slaPolicyId: policy.slaPolicy.id,
  });
  const i2 = await incident({ title: `Wifi ${marker} down`, description: `wifi drops ${marker}`, impact: 1, urgency: 1, category: 'Network', subcategory: 'Wifi' });
  const i3 = await incident({ title: `Mail ${marker} slow`, description: `mail ${marker}` });
  let v1 = (await m('updateIncident', { id: i1.id, version: i1.version, assignee: `agent-${marker}`, rootCause: `cause ${marker}`, workaround: `workaround ${marker}` }, 'incident { version }'))
    .incident.version;
  for (const step of [
    { to: 'IN_PROGRESS' },
    { to: 'ON_HOLD', holdReason: 'AWAITING_VENDOR', reason: `waiting ${marker}` },
    { to: 'IN_PROGRESS', reason: `back ${marker}` },
    { to: 'RESOLVED', resolutionCode: 'CONFIGURATION_CHANGE', resolutionNotes: `internal notes ${marker}`, reason: `fixed ${marker}` },
  ]) {
    v1 = (await m('transitionIncident', { id: i1.id, version: v1, ...step }, 'incident { version }')).incident.version;
  }
  let v2 = (await m('overrideIncidentPriority', { id: i2.id, version: i2.version, priority: 1, reason: `override ${marker}` }, 'incident { version }')).incident.version;
  v2 = (await m('setMajorIncident', { id: i2.id, version: v2, major: true, reason: `major ${marker}` }, 'incident { version }')).incident.version;
  seeded.incidents.push({ ...i1, version: v1 }, { ...i2, version: v2 }, i3);
  for (const i of [i1, i2, i3]) seeded.slas.push(...i.slas);

  // Problems and known errors.
  const p1 = (await m('createProblem', { title: `Printers ${marker}`, description: `fleet ${marker}`, workaround: `restart ${marker}`, owner: `owner-${marker}` }, 'problem { id number version }'))
    .problem;
  let pv = (await m('updateProblem', { id: p1.id, version: p1.version, rootCause: `firmware ${marker}` }, 'problem { version }')).problem.version;
  pv = (await m('transitionProblem', { id: p1.id, version: pv, to: 'ASSESS', reason: `assess ${marker}` }, 'problem { version }')).problem.version;
  const p2 = (await m('createProblem', { title: `Wifi ${marker} flaps`, type: 'PROACTIVE' }, 'problem { id number version }')).problem;
  for (const [problemId, incidentId] of [
    [p1.id, i1.id],
    [p1.id, i3.id],
    [p2.id, i2.id],
  ]) {
    await m('linkIncidentToProblem', { problemId, incidentId, relation: 'CAUSED_BY' }, 'problem { id }');
  }
  seeded.problems.push({ ...p1, version: pv }, p2);
  const k1 = (await m('createKnownErrorFromProblem', { problemId: p1.id, title: `Known ${marker}`, symptoms: `symptom ${marker}` }, 'knownError { id number version }')).knownError;
  const k2 = (
    await m(
      'createKnownError',
      { title: `Standalone ${marker}`, symptoms: `mail ${marker} slow`, description: `kb ${marker}`, rootCause: `cause ${marker}`, workaround: `wa ${marker}`, permanentFix: `fix ${marker}` },
      'knownError { id number version }',
    )
  ).knownError;
  await m('linkIncidentToKnownError', { knownErrorId: k2.id, incidentId: i3.id, relation: 'SYMPTOM_OF' }, 'knownError { id }');
  const k2v = (await m('updateKnownError', { id: k2.id, version: k2.version, permanentFix: `fix2 ${marker}` }, 'knownError { version }')).knownError.version;
  await m('communicateWorkaround', { knownErrorId: k1.id }, 'knownError { id }');
  seeded.knownErrors.push(k1, { ...k2, version: k2v });
  await m('setRecurrenceSettings', { enabled: true, threshold: 17, windowDays: 13, minSimilarity: 0.77 }, 'recurrenceSettings { threshold }');

  // Change configuration: risk policy, CAB, windows, a template.
  await m(
    'setRiskPolicy',
    {
      weights: { technicalComplexity: 0.3, businessImpact: 0.2, implementationTimeline: 0.1, resourceDependencies: 0.1, testingCoverage: 0.1, rollbackComplexity: 0.1, externalDependencies: 0.1 },
      lowBelow: 2.1,
      mediumBelow: 3.3,
    },
    'riskPolicy { version }',
  );
  for (const board of ['CAB', 'EMERGENCY_CAB']) {
    await m('setCabMember', { board, userId: SEED_USER, name: `Member ${marker}`, weight: 2 }, 'cabBoard { quorum }');
    await m('setCabMember', { board, userId: 'cab-member-2', name: `Second ${marker}`, weight: 1 }, 'cabBoard { quorum }');
  }
  await m('setCabPolicy', { board: 'CAB', quorum: 2, approvalThreshold: 0.6, anyMemberApproves: false }, 'cabBoard { quorum }');
  for (const input of [
    { name: `Freeze ${marker}`, kind: 'BLACKOUT', timeZone: 'Europe/Berlin', start: '2030-01-05T00:00', durationMinutes: 360, rrule: 'FREQ=WEEKLY;BYDAY=SA', scope: { configurationItems: [`ci-${marker}`] } },
    { name: `Maintenance ${marker}`, kind: 'MAINTENANCE', timeZone: 'UTC', start: '2030-01-06T01:00', durationMinutes: 240, rrule: 'FREQ=WEEKLY;BYDAY=SU', scope: { services: [`svc-${marker}`] } },
  ]) {
    seeded.windows.push((await m('createChangeWindow', input, 'window { id }')).window);
  }
  const template = (
    await m(
      'createStandardChangeTemplate',
      { name: `Template ${marker}`, description: `tpl ${marker}`, implementationPlan: `plan ${marker}`, backoutPlan: `backout ${marker}`, configurationItems: [`tpl-ci-${marker}`] },
      'standardChangeTemplate { id version }',
    )
  ).standardChangeTemplate;
  const approvedTemplate = (await m('approveStandardChangeTemplate', { templateId: template.id, version: template.version }, 'standardChangeTemplate { id version }'))
    .standardChangeTemplate;
  seeded.templates.push(approvedTemplate);
  const draft = (await m('createStandardChangeTemplate', { name: `Draft ${marker}`, implementationPlan: 'p', backoutPlan: 'b' }, 'standardChangeTemplate { id version }')).standardChangeTemplate;
  seeded.templates.push(draft);

  // Changes: a standard one, an assessed normal one before the CAB, overlapping ones (conflicts), a dependency.
  const change = async (input: Record<string, unknown>) => (await m('createChangeRequest', input, 'changeRequest { id number version }')).changeRequest;
  const move = async (c: { id: string; version: number }, to: string, extra: Record<string, unknown> = {}) =>
    (await m('transitionChangeRequest', { changeRequestId: c.id, version: c.version, to, ...extra }, 'changeRequest { id number version }')).changeRequest;
  const standard = await change({ title: `Standard ${marker}`, type: 'STANDARD', templateId: approvedTemplate.id });
  let normal = await change({
    title: `Upgrade ${marker}`,
    description: `upgrade ${marker}`,
    type: 'NORMAL',
    implementationPlan: `impl ${marker}`,
    backoutPlan: `back ${marker}`,
    testPlan: `test ${marker}`,
    configurationItems: [`ci-${marker}`],
    services: [`svc-${marker}`],
    assigneeId: `assignee-${marker}`,
  });
  normal = await move(normal, 'ASSESS', { comment: `assess ${marker}` });
  normal = (await m('assessChangeRisk', { changeRequestId: normal.id, factors: FACTORS(5, marker) }, 'changeRequest { id number version }')).changeRequest;
  normal = await move(normal, 'AUTHORIZE', { comment: `authorize ${marker}` });
  const meeting = (await m('createCabMeeting', { board: 'CAB', title: `CAB ${marker}`, scheduledAt: '2030-02-01T10:00:00Z' }, 'cabMeeting { id }')).cabMeeting;
  seeded.meetings.push(meeting);
  await m('castCabVote', { meetingId: meeting.id, changeRequestId: normal.id, vote: 'APPROVE', comment: `cab comment ${marker}` }, 'vote { id }');
  await m('castCabVote', { meetingId: meeting.id, changeRequestId: normal.id, vote: 'REJECT', comment: `second comment ${marker}` }, 'vote { id }', second);
  const closing = (await m('createCabMeeting', { board: 'EMERGENCY_CAB', title: `ECAB ${marker}`, scheduledAt: '2030-02-02T10:00:00Z' }, 'cabMeeting { id }')).cabMeeting;
  await m('closeCabMeeting', { meetingId: closing.id }, 'cabMeeting { id }');
  seeded.meetings.push(closing);
  normal = (await graph.request<any>(`query ($id: ID) { changeRequest(id: $id) { id number version } }`, { id: normal.id }, token)).body.data.changeRequest;

  let first = await change({ title: `First ${marker}`, type: 'NORMAL', configurationItems: [`db-${marker}`], assigneeId: `assignee-${marker}` });
  let overlapping = await change({ title: `Second ${marker}`, type: 'NORMAL', configurationItems: [`db-${marker}`], assigneeId: `assignee-${marker}` });
  const schedule = async (c: { id: string; version: number }, plannedStart: string, plannedEnd: string) =>
    (await m('scheduleChangeRequest', { changeRequestId: c.id, version: c.version, plannedStart, plannedEnd }, 'changeRequest { id number version } conflicts { id }'));
  first = (await schedule(first, '2030-03-04T10:00:00Z', '2030-03-04T12:00:00Z')).changeRequest;
  const scheduled = await schedule(overlapping, '2030-03-04T11:00:00Z', '2030-03-04T13:00:00Z');
  overlapping = scheduled.changeRequest;
  seeded.conflicts.push(...scheduled.conflicts);
  let dependent = await change({ title: `Dependent ${marker}`, type: 'EMERGENCY', dependsOn: [first.id], configurationItems: [`ci-${marker}`] });
  dependent = (await schedule(dependent, '2030-03-04T09:00:00Z', '2030-03-04T09:30:00Z')).changeRequest;
  await m('linkChangeToIncident', { changeRequestId: normal.id, incidentId: i1.id }, 'changeRequest { id }');
  await m('linkChangeToIncident', { changeRequestId: first.id, incidentId: i2.id }, 'changeRequest { id }');
  await m('linkChangeToProblem', { changeRequestId: normal.id, problemId: p1.id }, 'changeRequest { id }');
  for (const c of [standard, normal, first, overlapping, dependent]) {
    const read = (await graph.request<any>(`query ($id: ID) { changeRequest(id: $id) { id number version conflicts(includeResolved: true) { id } } }`, { id: c.id }, token)).body.data
      .changeRequest;
    seeded.changes.push({ id: read.id, number: read.number, version: read.version });
    for (const conflict of read.conflicts) if (!seeded.conflicts.some((k) => k.id === conflict.id)) seeded.conflicts.push(conflict);
  }

  // Cursors of the tenant's own pages, for probes that replay them under another tenant.
  const pages = await graph.request<any>(
    `{ incidents(first: 1) { pageInfo { endCursor } } problems(first: 1) { pageInfo { endCursor } } knownErrors(first: 1) { pageInfo { endCursor } } changeRequests(first: 1) { pageInfo { endCursor } } }`,
    {},
    token,
  );
  seeded.cursors.incidents = pages.body.data.incidents.pageInfo.endCursor;
  seeded.cursors.problems = pages.body.data.problems.pageInfo.endCursor;
  seeded.cursors.knownErrors = pages.body.data.knownErrors.pageInfo.endCursor;
  seeded.cursors.changes = pages.body.data.changeRequests.pageInfo.endCursor;
  return seeded;
}

// ---------------------------------------------------------------------------------------------------------------
// Arguments for query fields.

/** A tenant's ids of the records of a type. */
export function idsOfTypeIn(a: SeededTenant, typeName: string): string[] {
  const byType: Record<string, { id: string }[]> = {
    Incident: a.incidents,
    Problem: a.problems,
    KnownError: a.knownErrors,
    ChangeRequest: a.changes,
    CabMeeting: a.meetings,
    ChangeWindow: a.windows,
    StandardChangeTemplate: a.templates,
    BusinessCalendar: a.calendars,
    SlaPolicy: a.policies,
    ChangeConflict: a.conflicts,
    TaskSla: a.slas,
  };
  return (byType[typeName] ?? []).map((r) => r.id);
}

/** The type an id argument names: `changeRequestId` a ChangeRequest, `id` the field's own type. */
function typeOfIdArgument(argName: string, fieldType: string): string {
  if (argName === 'id') return fieldType;
  const stem = argName.replace(/Ids?$/, '');
  const names = ['Incident', 'Problem', 'KnownError', 'ChangeRequest', 'CabMeeting', 'ChangeWindow', 'StandardChangeTemplate', 'BusinessCalendar', 'SlaPolicy'];
  const special: Record<string, string> = { meeting: 'CabMeeting', window: 'ChangeWindow', template: 'StandardChangeTemplate', calendar: 'BusinessCalendar', slaPolicy: 'SlaPolicy', dependsOn: 'ChangeRequest' };
  return special[stem] ?? names.find((n) => n.toLowerCase() === stem.toLowerCase()) ?? fieldType;
}

/**
 * Arguments for a query field from its signature alone: every id argument filled with a tenant's ids (one variant
 * per id), required texts with its marker, required instants half a year around `now`, every value of a required enum.
 */
export function generatedArgsFor(field: GraphQLField<unknown, unknown>, a: SeededTenant, now: number): Record<string, unknown>[] {
  let variants: Record<string, unknown>[] = [{}];
  const returned = getNamedType(field.type).name;
  for (const arg of field.args) {
    const required = String(arg.type).endsWith('!') && arg.defaultValue === undefined;
    const named = getNamedType(arg.type).name;
    let values: unknown[];
    if (named === 'ID') values = idsOfTypeIn(a, typeOfIdArgument(arg.name, returned)).slice(0, 3);
    else if (!required) continue;
    else if (named === 'String') values = [`${a.marker}`];
    else if (named === 'DateTime') values = [new Date(arg.name === 'to' ? now + 180 * 86_400_000 : now - 180 * 86_400_000).toISOString()];
    else if (named === 'Int') values = [5];
    else if (named === 'Boolean') values = [true];
    else if (enumValues(named).length) values = enumValues(named);
    else continue;
    if (!values.length) continue;
    variants = variants.flatMap((v) => values.map((value) => ({ ...v, [arg.name]: value })));
  }
  return variants;
}

// ---------------------------------------------------------------------------------------------------------------
// Snapshots of a tenant's rows.

/** Per table (schema.table), the tenant's row count and a hash of its rows: equal snapshots mean nothing changed. */
export type TenantSnapshot = Record<string, string>;

const tablesBySubgraph = new WeakMap<TestGraph, Record<string, string[]>>();

async function tenantTables(graph: TestGraph): Promise<Record<string, string[]>> {
  let tables = tablesBySubgraph.get(graph);
  if (tables) return tables;
  tables = {};
  for (const name of SUBGRAPHS) {
    const rows = await rawRows<{ table_name: string }>(
      graph.databases[name],
      `select table_name from information_schema.columns where table_schema = $1 and column_name = 'tenant_id' order by table_name`,
      [name],
    );
    tables[name] = rows.map((r) => r.table_name);
  }
  tablesBySubgraph.set(graph, tables);
  return tables;
}

/** Snapshot of every row of a tenant in the three subgraphs' schemas. */
export async function snapshotTenant(graph: TestGraph, tenantId: string): Promise<TenantSnapshot> {
  const tables = await tenantTables(graph);
  const snapshot: TenantSnapshot = {};
  await Promise.all(
    SUBGRAPHS.map(async (name) => {
      const list = tables[name] ?? [];
      if (!list.length) return;
      const sql = list
        .map(
          (table) =>
            `select '${name}.${table}' as t, count(*)::text || ':' || coalesce(md5(string_agg(r::text, '|' order by r::text)), '') as h from "${name}"."${table}" r where tenant_id = $1`,
        )
        .join(' union all ');
      for (const row of await rawRows<{ t: string; h: string }>(graph.databases[name], sql, [tenantId])) snapshot[row.t] = row.h;
    }),
  );
  return snapshot;
}

/** Tables whose rows differ between two snapshots. */
export function changedTables(before: TenantSnapshot, after: TenantSnapshot): string[] {
  return Object.keys({ ...before, ...after }).filter((table) => before[table] !== after[table]).sort();
}

// ---------------------------------------------------------------------------------------------------------------
// Valid inputs.

/** Whose records an input's id path names: the caller's own tenant, or another. */
export type WhoseIds = (path: string) => SeededTenant;

/**
 * A valid input for every mutation of the API schema, on a seeded tenant's records; `of(path)` says whose records
 * an id path names (the caller's own tenant's, or another's).
 */
export const VALID_INPUTS: Record<string, (of: WhoseIds) => Record<string, unknown>> = {
  createChangeRequest: (of) => ({ title: 'Probe change', type: 'STANDARD', templateId: of('input.templateId').templates[0]!.id, dependsOn: [of('input.dependsOn[]').changes[0]!.id] }),
  linkChangeToIncident: (of) => ({ changeRequestId: of('input.changeRequestId').changes[1]!.id, incidentId: of('input.incidentId').incidents[2]!.id }),
  linkChangeToProblem: (of) => ({ changeRequestId: of('input.changeRequestId').changes[1]!.id, problemId: of('input.problemId').problems[1]!.id }),
  updateChangeRequest: (of) => {
    const change = of('input.changeRequestId').changes[2]!;
    return { changeRequestId: change.id, version: change.version, title: 'Probe title', dependsOn: [of('input.dependsOn[]').changes[0]!.id] };
  },
  transitionChangeRequest: (of) => ({ changeRequestId: of('input.changeRequestId').changes[0]!.id, version: of('input.changeRequestId').changes[0]!.version, to: 'CANCELLED', comment: 'probe' }),
  scheduleChangeRequest: (of) => ({ changeRequestId: of('input.changeRequestId').changes[4]!.id, version: of('input.changeRequestId').changes[4]!.version, plannedStart: '2030-04-01T10:00:00Z', plannedEnd: '2030-04-01T11:00:00Z' }),
  assessChangeRisk: (of) => ({
    changeRequestId: of('input.changeRequestId').changes[1]!.id,
    factors: Object.fromEntries(['technicalComplexity', 'businessImpact', 'implementationTimeline', 'resourceDependencies', 'testingCoverage', 'rollbackComplexity', 'externalDependencies'].map((n) => [n, { score: 1, justification: 'probe' }])),
  }),
  decideChangeApproval: (of) => ({ changeRequestId: of('input.changeRequestId').changes[1]!.id, version: of('input.changeRequestId').changes[1]!.version, decision: 'REJECT', comment: 'probe' }),
  setRiskPolicy: () => ({
    weights: { technicalComplexity: 0.25, businessImpact: 0.2, implementationTimeline: 0.15, resourceDependencies: 0.15, testingCoverage: 0.1, rollbackComplexity: 0.1, externalDependencies: 0.05 },
    lowBelow: 2.5,
    mediumBelow: 3.5,
  }),
  setCabMember: () => ({ board: 'CAB', userId: 'probe-member', name: 'Probe', weight: 1 }),
  removeCabMember: () => ({ board: 'CAB', userId: 'probe-member' }),
  setCabPolicy: () => ({ board: 'EMERGENCY_CAB', approvalThreshold: 0.5 }),
  createCabMeeting: () => ({ board: 'EMERGENCY_CAB', title: 'Probe meeting', scheduledAt: '2030-05-01T10:00:00Z' }),
  addChangeToCabAgenda: (of) => ({ meetingId: of('input.meetingId').meetings[0]!.id, changeRequestId: of('input.changeRequestId').changes[1]!.id }),
  castCabVote: (of) => ({ meetingId: of('input.meetingId').meetings[0]!.id, changeRequestId: of('input.changeRequestId').changes[1]!.id, vote: 'ABSTAIN', comment: 'probe' }),
  closeCabMeeting: (of) => ({ meetingId: of('input.meetingId').meetings[0]!.id }),
  createChangeWindow: () => ({ name: 'Probe window', kind: 'MAINTENANCE', timeZone: 'UTC', start: '2031-01-01T00:00', durationMinutes: 60, scope: { services: ['probe'] } }),
  deleteChangeWindow: (of) => ({ windowId: of('input.windowId').windows[1]!.id }),
  createStandardChangeTemplate: () => ({ name: 'Probe template', implementationPlan: 'p', backoutPlan: 'b' }),
  approveStandardChangeTemplate: (of) => ({ templateId: of('input.templateId').templates[1]!.id, version: of('input.templateId').templates[1]!.version }),
  retireStandardChangeTemplate: (of) => ({ templateId: of('input.templateId').templates[0]!.id, version: of('input.templateId').templates[0]!.version }),
  createIncident: (of) => ({ title: 'Probe incident', impact: 3, urgency: 3, slaPolicyId: of('input.slaPolicyId').policies[0]!.id }),
  updateIncident: (of) => ({ id: of('input.id').incidents[2]!.id, version: of('input.id').incidents[2]!.version, title: 'Probe title' }),
  transitionIncident: (of) => ({ id: of('input.id').incidents[2]!.id, version: of('input.id').incidents[2]!.version, to: 'IN_PROGRESS' }),
  overrideIncidentPriority: (of) => ({ id: of('input.id').incidents[2]!.id, version: of('input.id').incidents[2]!.version, priority: 5, reason: 'probe' }),
  setMajorIncident: (of) => ({ id: of('input.id').incidents[2]!.id, version: of('input.id').incidents[2]!.version, major: true, reason: 'probe' }),
  setPriorityMatrix: () => ({ profile: 'ITIL_5X5' }),
  setCategoryTaxonomy: () => ({ categories: [{ name: 'Network', subcategories: [{ name: 'Wifi', keywords: ['wifi'] }] }] }),
  setIncidentSettings: () => ({ autoCloseDays: 5 }),
  createBusinessCalendar: () => ({ name: 'Probe calendar', timeZone: 'UTC', kind: 'ALWAYS' }),
  updateBusinessCalendar: (of) => ({ id: of('input.id').calendars[0]!.id, version: of('input.id').calendars[0]!.version, name: 'Probe', timeZone: 'UTC', kind: 'ALWAYS' }),
  createSlaPolicy: (of) => ({
    name: 'Probe policy',
    targets: [1, 2, 3, 4, 5].map((priority) => ({ priority, responseMinutes: 10, resolutionMinutes: 100, calendarId: of('input.targets[].calendarId').calendars[0]!.id })),
  }),
  updateSlaPolicy: (of) => ({
    id: of('input.id').policies[0]!.id,
    version: of('input.id').policies[0]!.version,
    name: 'Probe',
    targets: [1, 2, 3, 4, 5].map((priority) => ({ priority, responseMinutes: 10, resolutionMinutes: 100, calendarId: of('input.targets[].calendarId').calendars[0]!.id })),
  }),
  createProblem: () => ({ title: 'Probe problem' }),
  updateProblem: (of) => ({ id: of('input.id').problems[1]!.id, version: of('input.id').problems[1]!.version, title: 'Probe title' }),
  transitionProblem: (of) => ({ id: of('input.id').problems[1]!.id, version: of('input.id').problems[1]!.version, to: 'ASSESS' }),
  linkIncidentToProblem: (of) => ({ problemId: of('input.problemId').problems[1]!.id, incidentId: of('input.incidentId').incidents[2]!.id, relation: 'RELATED_TO' }),
  unlinkIncidentFromProblem: (of) => ({ problemId: of('input.problemId').problems[0]!.id, incidentId: of('input.incidentId').incidents[0]!.id }),
  createKnownError: (of) => ({ title: 'Probe known error', symptoms: 'probe', problemId: of('input.problemId').problems[1]!.id }),
  createKnownErrorFromProblem: (of) => ({ problemId: of('input.problemId').problems[0]!.id }),
  updateKnownError: (of) => ({ id: of('input.id').knownErrors[1]!.id, version: of('input.id').knownErrors[1]!.version, title: 'Probe title' }),
  linkIncidentToKnownError: (of) => ({ knownErrorId: of('input.knownErrorId').knownErrors[1]!.id, incidentId: of('input.incidentId').incidents[1]!.id }),
  communicateWorkaround: (of) => ({ knownErrorId: of('input.knownErrorId').knownErrors[1]!.id }),
  setRecurrenceSettings: () => ({ threshold: 4 }),
};
