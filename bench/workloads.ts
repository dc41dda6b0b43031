import type autocannon from 'autocannon';
import type { SchemaInfo } from './lib/schema-info.js';

/** What the seed produced and the workloads ask for. */
export interface BenchData {
  /** JWT of the read tenant (the seeded one). */
  token: string;
  /** JWT of a second tenant that only the write mix writes to, so reads see the same rows every round. */
  writeToken: string;
  /** Numbers of seeded incidents that the detail workload picks from. */
  incidentNumbers: string[];
  /** The week the change calendar asks for (ISO instants). */
  calendarWeek: { from: string; to: string };
  /** Ranges holding 10, 50 and 100 scheduled changes (statements per request as the list grows). */
  calendarRanges: Record<number, { from: string; to: string }>;
  /** ISO instant: start of the window the write mix schedules changes in. */
  scheduleBase: string;
}

/** Direct subgraph calls with signed headers (the floor: what a client does without a gateway). */
export interface SubgraphClient {
  query<T = any>(subgraph: 'incident' | 'problem' | 'change', query: string, variables?: Record<string, unknown>, write?: boolean): Promise<T>;
}

export type FloorStep = (client: SubgraphClient, data: BenchData, context: Record<string, any>, size?: number) => Promise<unknown>;

export interface GraphQLRequest {
  query: string;
  variables: Record<string, unknown>;
  /** Runs as the write tenant. */
  write?: boolean;
}

export interface Workload {
  name: string;
  title: string;
  /** What was selected, and fields that do not exist yet. */
  notes: string[];
  /** Whether the fields it needs exist. */
  available: boolean;
  /** One representative request (checks, statement counts); `size` is the list size where one applies. */
  sample(data: BenchData, size?: number): GraphQLRequest[];
  /** The request sequence autocannon cycles through on each connection. */
  autocannonRequests(data: BenchData, size?: number): autocannon.Request[];
  /**
   * The same requests by direct subgraph calls (entity fetches done by the client), one step per gateway request,
   * cycled like autocannon's request list; each returns the data shaped like the gateway's `data`.
   */
  floor: FloorStep[];
  /** Whether `size` changes the request (list workloads). */
  sized: boolean;
  /** The write mix runs as its own tenant so that reads see the same rows in every round. */
  writes?: boolean;
  /** Only for `--tuning`, not in the main table. */
  tuningOnly?: boolean;
}

const body = (r: GraphQLRequest) => JSON.stringify({ query: r.query, variables: r.variables });
const pickOne = <T>(items: readonly T[]) => items[Math.floor(Math.random() * items.length)]!;

/** Fields of Incident that other subgraphs contribute (fetched as entities by gateways and by the floor). */
const FOREIGN_INCIDENT_FIELDS = ['problem', 'problems', 'relatedChanges', 'knownErrorMatches'];

/** Representations for `_entities`, deduplicated the way a careful client would. */
function entityQuery(typename: string, selection: string): string {
  return `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on ${typename} { ${selection} } } }`;
}

/**
 * Service-desk list: N open incidents with priority, SLA due time, problem number, related changes' numbers and risk.
 * `withSla: false` is the same list without the SLA field: the incident subgraph's SLA computation dominates the full
 * list, so this variant is where gateway overhead shows.
 */
function serviceDeskList(s: SchemaInfo, withSla = true): Workload {
  const notes: string[] = [];
  const own = ['id', 'number', 'title', 'state', 'priority', 'priorityLabel', 'assignmentGroup', 'assignee', 'openedAt'];
  if (!withSla) notes.push('the service-desk list without `slas`: same hops, cheap subgraphs');
  else if (s.has('Incident', 'slas')) own.push('slas { kind dueAt breached }');
  else notes.push('SLA due time: no Incident.slas yet');
  const ownSel = own.join(' ');
  const risk = s.has('ChangeRequest', 'riskLevel') ? ' riskLevel' : '';
  if (!risk) notes.push('change risk: no ChangeRequest.riskLevel yet');
  const problemSel = s.has('Incident', 'problem') ? 'problem { number }' : '';
  const changeSel = s.has('Incident', 'relatedChanges') ? `relatedChanges { number${risk} }` : '';
  notes.push(`selects: ${[ownSel, problemSel, changeSel].filter(Boolean).join(' ')}`);
  const query = `query ServiceDeskList($first: Int!) { incidents(first: $first, filter: { state: [NEW, IN_PROGRESS, ON_HOLD] }) { edges { node { ${ownSel} ${problemSel} ${changeSel} } } } }`;
  const request = (size = 50): GraphQLRequest => ({ query, variables: { first: size } });
  return {
    name: withSla ? 'service-desk-list' : 'service-desk-list-no-sla',
    title: withSla ? 'service-desk list (50 incidents, 3 subgraphs)' : 'service-desk list without SLA field',
    notes,
    available: s.has('Incident', 'problem') && s.has('Incident', 'relatedChanges'),
    sized: true,
    sample: (_d, size) => [request(size)],
    autocannonRequests: (_d, size) => [{ method: 'POST', body: body(request(size)) }],
    floor: [async (client, _d, _c, size = 50) => {
      const list = await client.query('incident', `query ($first: Int!) { incidents(first: $first, filter: { state: [NEW, IN_PROGRESS, ON_HOLD] }) { edges { node { ${ownSel} } } } }`, { first: size });
      const nodes: Record<string, unknown>[] = list.incidents.edges.map((e: { node: Record<string, unknown> }) => e.node);
      const representations = nodes.map((n) => ({ __typename: 'Incident', id: n.id }));
      const [problems, changes] = await Promise.all([
        problemSel && representations.length ? client.query('problem', entityQuery('Incident', problemSel), { representations }) : undefined,
        changeSel && representations.length ? client.query('change', entityQuery('Incident', changeSel), { representations }) : undefined,
      ]);
      nodes.forEach((n, i) => {
        if (problems) n.problem = problems._entities[i].problem;
        if (changes) n.relatedChanges = changes._entities[i].relatedChanges;
      });
      return { incidents: { edges: nodes.map((node) => ({ node })) } };
    }],
  };
}

/** Incident detail by number: history, SLAs and known-error matches (@requires title and description). */
function incidentDetail(s: SchemaInfo): Workload {
  const notes: string[] = [];
  const own = ['id', 'number', 'title', 'description', 'state', 'impact', 'urgency', 'priority', 'priorityLabel', 'category', 'assignmentGroup', 'assignee', 'openedAt', 'updatedAt', 'version'];
  own.push('history { at actor field from to reason }');
  if (s.has('Incident', 'slas')) own.push('slas { kind stage priority targetMinutes startedAt dueAt breached percentElapsed escalationLevel policy { name } }');
  else notes.push('SLAs: no Incident.slas yet');
  const ownSel = own.join(' ');
  const matchesSel = s.has('Incident', 'knownErrorMatches') ? 'knownErrorMatches { score knownError { number title workaround } }' : '';
  if (!matchesSel) notes.push('known-error matches: no Incident.knownErrorMatches yet');
  const problemSel = s.has('Incident', 'problem') ? 'problem { number title state }' : '';
  notes.push(`selects: ${[ownSel, matchesSel, problemSel].filter(Boolean).join(' ')}`);
  const query = `query IncidentDetail($number: String!) { incident(number: $number) { ${ownSel} ${matchesSel} ${problemSel} } }`;
  return {
    name: 'incident-detail',
    title: 'incident detail by number',
    notes,
    available: true,
    sized: false,
    sample: (d) => [{ query, variables: { number: d.incidentNumbers[0] } }],
    autocannonRequests: (d) => [
      {
        method: 'POST',
        setupRequest: (req) => ({ ...req, body: body({ query, variables: { number: pickOne(d.incidentNumbers) } }) }),
      },
    ],
    floor: [(client, d) => floorIncidentDetail(client, pickOne(d.incidentNumbers), ownSel, matchesSel, problemSel)],
  };
}

async function floorIncidentDetail(client: SubgraphClient, number: string, ownSel: string, matchesSel: string, problemSel: string) {
  const needs = matchesSel ? ' title description' : '';
  const result = await client.query('incident', `query ($number: String!) { incident(number: $number) { ${ownSel}${needs} } }`, { number });
  const incident = result.incident as Record<string, unknown> | null;
  if (!incident) return { incident: null };
  const [matches, problem] = await Promise.all([
    matchesSel
      ? client.query('problem', entityQuery('Incident', matchesSel), {
          representations: [{ __typename: 'Incident', id: incident.id, title: incident.title, description: incident.description }],
        })
      : undefined,
    problemSel ? client.query('problem', entityQuery('Incident', problemSel), { representations: [{ __typename: 'Incident', id: incident.id }] }) : undefined,
  ]);
  if (matches) incident.knownErrorMatches = matches._entities[0].knownErrorMatches;
  if (problem) incident.problem = problem._entities[0].problem;
  return { incident };
}

/** Change calendar for a week with conflicts (change subgraph only); sized by how many changes the range holds. */
function changeCalendar(s: SchemaInfo): Workload {
  const notes: string[] = [];
  const title = 'change calendar, one week, with conflicts';
  if (!s.has('Query', 'changeCalendar')) {
    notes.push('change calendar: no Query.changeCalendar yet');
    return { name: 'change-calendar', title, notes, available: false, sized: false, sample: () => [], autocannonRequests: () => [], floor: [] };
  }
  const changeSel = 'number title type state plannedStart plannedEnd riskLevel conflicts { kind severity message otherChangeRequest { number } window { name } }';
  const query = `query ChangeCalendar($from: DateTime!, $to: DateTime!) { changeCalendar(from: $from, to: $to) { from to changes { ${changeSel} } windows { start end window { name kind } } } }`;
  notes.push(`selects: changes { ${changeSel} } windows { start end window { name kind } }`);
  const range = (d: BenchData, size?: number) => (size ? d.calendarRanges[size] : undefined) ?? d.calendarWeek;
  return {
    name: 'change-calendar',
    title,
    notes,
    available: true,
    sized: true,
    sample: (d, size) => [{ query, variables: range(d, size) }],
    autocannonRequests: (d) => [{ method: 'POST', body: body({ query, variables: d.calendarWeek }) }],
    floor: [(client, d, _c, size) => client.query('change', query, range(d, size))],
  };
}

/** Write mix: create an incident, move it to IN_PROGRESS, raise a change and schedule it (conflict detection runs). */
function writeMix(s: SchemaInfo): Workload {
  const notes: string[] = [];
  const createIncident = `mutation CreateIncident($input: CreateIncidentInput!) { createIncident(input: $input) { incident { id number version priority } errors { code message } } }`;
  const transition = `mutation Transition($input: TransitionIncidentInput!) { transitionIncident(input: $input) { incident { id state version } errors { code message } } }`;
  const createChange = `mutation CreateChange($input: CreateChangeRequestInput!) { createChangeRequest(input: $input) { changeRequest { id number version } errors { code message } } }`;
  const canSchedule = s.has('Mutation', 'scheduleChangeRequest');
  const schedule = `mutation Schedule($input: ScheduleChangeRequestInput!) { scheduleChangeRequest(input: $input) { changeRequest { id number plannedStart plannedEnd version } conflicts { kind } errors { code message } } }`;
  if (!canSchedule) notes.push('schedule change: no Mutation.scheduleChangeRequest yet; the mix only raises the change');
  const withItems = s.inputHas('CreateChangeRequestInput', 'configurationItems');
  let seq = 0;
  const incidentInput = () => {
    seq++;
    return { title: `Bench outage ${seq} on mail relay`, description: 'users cannot send mail', impact: 1 + (seq % 3), urgency: 1 + (seq % 4), configurationItem: `ci-${seq % 20}` };
  };
  const changeInput = () => ({ title: `Bench patch ${++seq}`, type: 'NORMAL', ...(withItems ? { configurationItems: [`ci-${seq % 20}`] } : {}) });
  const scheduleInput = (base: string, change: { id: string; version: number }) => {
    // Two-hour slots over 60 days, 20 items: some overlap (conflicts are detected and recorded), most do not.
    const start = new Date(Date.parse(base) + (++seq % 720) * 2 * 3_600_000);
    return { changeRequestId: change.id, version: change.version, plannedStart: start.toISOString(), plannedEnd: new Date(start.getTime() + 3 * 3_600_000).toISOString() };
  };
  const parse = (text: string) => {
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  };
  notes.push(`createIncident, transitionIncident (NEW -> IN_PROGRESS), createChangeRequest${canSchedule ? ', scheduleChangeRequest (2-3 h slot, conflict detection)' : ''}; as its own tenant`);
  const requests: Workload['autocannonRequests'] = (d) => [
    {
      method: 'POST',
      setupRequest: (req) => ({ ...req, body: body({ query: createIncident, variables: { input: incidentInput() } }) }),
      onResponse: (_status, text, context: any) => {
        context.incident = parse(text)?.data?.createIncident?.incident;
      },
    },
    {
      method: 'POST',
      // A falsy return restarts the sequence: nothing to transition when the create failed.
      setupRequest: (req, context: any) =>
        context.incident ? { ...req, body: body({ query: transition, variables: { input: { id: context.incident.id, version: context.incident.version, to: 'IN_PROGRESS' } } }) } : (undefined as never),
    },
    {
      method: 'POST',
      setupRequest: (req) => ({ ...req, body: body({ query: createChange, variables: { input: changeInput() } }) }),
      onResponse: (_status, text, context: any) => {
        context.change = parse(text)?.data?.createChangeRequest?.changeRequest;
      },
    },
    ...(canSchedule
      ? [
          {
            method: 'POST' as const,
            setupRequest: (req: any, context: any) =>
              context.change ? { ...req, body: body({ query: schedule, variables: { input: scheduleInput(d.scheduleBase, context.change) } }) } : (undefined as never),
          },
        ]
      : []),
  ];
  return {
    name: 'write-mix',
    title: canSchedule ? 'write mix (create incident, transition, raise + schedule change)' : 'write mix (create incident, transition, raise change)',
    notes,
    available: true,
    sized: false,
    writes: true,
    sample: (d) => [
      { query: createIncident, variables: { input: incidentInput() }, write: true },
      { query: createChange, variables: { input: changeInput() }, write: true },
    ],
    autocannonRequests: requests,
    floor: [
      async (client, _d, context) => {
        const created = await client.query('incident', createIncident, { input: incidentInput() }, true);
        context.incident = created.createIncident.incident;
        return created;
      },
      (client, _d, context) => client.query('incident', transition, { input: { id: context.incident.id, version: context.incident.version, to: 'IN_PROGRESS' } }, true),
      async (client, _d, context) => {
        const created = await client.query('change', createChange, { input: changeInput() }, true);
        context.change = created.createChangeRequest.changeRequest;
        return created;
      },
      ...(canSchedule ? [(client: SubgraphClient, d: BenchData, context: Record<string, any>) => client.query('change', schedule, { input: scheduleInput(d.scheduleBase, context.change) }, true)] : []),
    ],
  };
}

/**
 * Tuning only: open incidents with their problem's changes. Incidents share problems, so the Problem representations
 * sent to the change subgraph repeat (what deduplication removes).
 */
function problemChangesList(s: SchemaInfo): Workload {
  const query = `query ProblemChanges($first: Int!) { incidents(first: $first, filter: { state: [NEW, IN_PROGRESS, ON_HOLD] }) { edges { node { id number problem { number changes { number${s.has('ChangeRequest', 'riskLevel') ? ' riskLevel' : ''} } } } } } }`;
  const request = (size = 100): GraphQLRequest => ({ query, variables: { first: size } });
  return {
    name: 'problem-changes-list',
    title: 'open incidents with their problem and its changes (repeated Problem entities)',
    notes: ['tuning only'],
    available: s.has('Incident', 'problem') && s.has('Problem', 'changes'),
    sized: true,
    tuningOnly: true,
    sample: (_d, size) => [request(size)],
    autocannonRequests: (_d, size) => [{ method: 'POST', body: body(request(size)) }],
    floor: [],
  };
}

/** Every workload, built against what the schema has now. */
export function buildWorkloads(schema: SchemaInfo): Workload[] {
  return [serviceDeskList(schema), serviceDeskList(schema, false), incidentDetail(schema), changeCalendar(schema), writeMix(schema), problemChangesList(schema)];
}
