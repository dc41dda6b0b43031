import type { SchemaInfo } from './lib/schema-info.js';

/**
 * Seeds the read tenant through the graph's own mutations (our gateway -> domain services), so every row the
 * workloads read (SLA records, risk, history, links) is what the services write. The scale case uses bulk SQL instead.
 */
export interface SeedResult {
  incidentNumbers: string[];
  incidentIds: string[];
  problems: number;
  changes: number;
  links: number;
  knownErrors: number;
  scheduled: number;
  /** Planned starts of the scheduled changes, ascending (ms). */
  plannedStarts: number[];
  seconds: number;
  notes: string[];
}

export type Gql = <T = any>(query: string, variables?: Record<string, unknown>) => Promise<T>;

/** A GraphQL client for one gateway URL and token that throws on GraphQL or payload errors. */
export function gqlClient(url: string, token: string): Gql {
  return async (query, variables = {}) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const text = await response.text();
    if (response.status !== 200 || text.includes('"errors":[{')) throw new Error(`seed request failed (${response.status}): ${text.slice(0, 500)}\n${query}`);
    return JSON.parse(text).data;
  };
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function inParallel<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

const SUBJECTS = [
  ['Mail relay rejects outbound mail', 'SMTP relay returns 451 temporary failure for every outbound message', 'mail-relay-01'],
  ['VPN drops every few minutes', 'Remote users lose the VPN tunnel; client shows handshake timeout', 'vpn-gw-02'],
  ['Printer queue stuck on floor 3', 'Jobs stay pending in the print spooler', 'printer-f3'],
  ['Laptop will not boot after update', 'Blue screen after the monthly operating system update', 'laptop-fleet'],
  ['Payroll application slow', 'Payroll screens take 30 seconds to load during month end', 'payroll-app'],
  ['Password reset portal error', 'Self-service password reset shows error 500', 'sso-portal'],
  ['Database disk almost full', 'Data volume of the CRM database at 95 percent', 'crm-db-01'],
  ['Wi-Fi authentication fails', 'Corporate SSID rejects certificates after renewal', 'wifi-controller'],
] as const;

export const SEED_SIZES = { incidents: 300, problems: 40, changes: 100, knownErrors: 40 };

/**
 * Seeds the read tenant; what it can seed depends on what the schema has today. Changes are scheduled over the two
 * weeks from `calendarStart`, 3-hour slots on 8 configuration items, so that some overlap and conflicts are recorded.
 */
export async function seedReadTenant(gql: Gql, schema: SchemaInfo, calendarStart: Date): Promise<SeedResult> {
  const started = Date.now();
  const notes: string[] = [];
  const incidents = await inParallel(Array.from({ length: SEED_SIZES.incidents }, (_, i) => i), 8, async (i) => {
    const [title, description, ci] = SUBJECTS[i % SUBJECTS.length]!;
    const data = await gql(
      `mutation ($input: CreateIncidentInput!) { createIncident(input: $input) { incident { id number version } errors { code message } } }`,
      { input: { title: `${title} (${i})`, description, impact: 1 + (i % 5), urgency: 1 + ((i * 7) % 5), configurationItem: ci, assignmentGroup: `Group ${i % 12}`, caller: `caller-${i}` } },
    );
    const incident = data.createIncident.incident as { id: string; number: string; version: number };
    if (i % 3 === 0) {
      await gql(`mutation ($input: TransitionIncidentInput!) { transitionIncident(input: $input) { incident { id } errors { code message } } }`, {
        input: { id: incident.id, version: incident.version, to: 'IN_PROGRESS', reason: 'picked up' },
      });
    }
    return incident;
  });

  const problems = await inParallel(Array.from({ length: SEED_SIZES.problems }, (_, i) => i), 8, async (i) => {
    const [title, description] = SUBJECTS[i % SUBJECTS.length]!;
    const data = await gql(`mutation ($input: CreateProblemInput!) { createProblem(input: $input) { problem { id number } errors { code message } } }`, {
      input: { title: `Root cause: ${title} (${i})`, description },
    });
    return data.createProblem.problem as { id: string; number: string };
  });
  let links = 0;
  await inParallel(incidents.filter((_, i) => i % 2 === 0), 8, async (incident, k) => {
    const problem = problems[k % problems.length]!;
    await gql(`mutation ($p: ID!, $i: ID!) { linkIncidentToProblem(input: { problemId: $p, incidentId: $i }) { errors { code message } } }`, { p: problem.id, i: incident.id });
    links++;
  });

  const withItems = schema.inputHas('CreateChangeRequestInput', 'configurationItems');
  const changes = await inParallel(Array.from({ length: SEED_SIZES.changes }, (_, i) => i), 8, async (i) => {
    const data = await gql(
      `mutation ($input: CreateChangeRequestInput!) { createChangeRequest(input: $input) { changeRequest { id number version } errors { code message } } }`,
      {
        input: {
          title: `Fix ${SUBJECTS[i % SUBJECTS.length]![0]} (${i})`,
          type: i % 10 === 0 ? 'EMERGENCY' : 'NORMAL',
          ...(withItems ? { configurationItems: [SUBJECTS[i % SUBJECTS.length]![2]], assigneeId: `engineer-${i % 6}` } : {}),
        },
      },
    );
    return data.createChangeRequest.changeRequest as { id: string; number: string; version: number };
  });
  await inParallel(changes, 8, async (change, j) => {
    for (const k of [0, 1, 2]) {
      const incident = incidents[(j * 3 + k * 7) % incidents.length]!;
      await gql(`mutation ($c: ID!, $i: ID!) { linkChangeToIncident(input: { changeRequestId: $c, incidentId: $i }) { errors { code message } } }`, { c: change.id, i: incident.id });
      links++;
    }
    await gql(`mutation ($c: ID!, $p: ID!) { linkChangeToProblem(input: { changeRequestId: $c, problemId: $p }) { errors { code message } } }`, { c: change.id, p: problems[j % problems.length]!.id });
    links++;
  });

  const plannedStarts: number[] = [];
  /** Optional parts of the seed (windows, schedule, known errors) land with other engineers' work; a failure is noted, not fatal. */
  const optional = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (error) {
      notes.push(`${what} failed: ${String(error).slice(0, 200)}`);
    }
  };
  if (schema.has('Mutation', 'createChangeWindow')) await optional('change windows', async () => {
    // A weekly Sunday-night maintenance window on every item and a one-off blackout on the payroll application.
    const day = calendarStart.toISOString().slice(0, 10);
    await gql(`mutation ($input: CreateChangeWindowInput!) { createChangeWindow(input: $input) { window { id } errors { code message } } }`, {
      input: { name: 'Sunday night', kind: 'MAINTENANCE', timeZone: 'Europe/Berlin', start: `${day}T22:00`, durationMinutes: 240, rrule: 'FREQ=WEEKLY;BYDAY=SU', scope: { configurationItems: ['crm-db-01'] } },
    });
    await gql(`mutation ($input: CreateChangeWindowInput!) { createChangeWindow(input: $input) { window { id } errors { code message } } }`, {
      input: { name: 'Month-end payroll freeze', kind: 'BLACKOUT', timeZone: 'Europe/Berlin', start: `${day}T08:00`, durationMinutes: 2 * 24 * 60, scope: { configurationItems: ['payroll-app'] } },
    });
  });
  else notes.push('no change windows (no Mutation.createChangeWindow yet)');
  if (schema.has('Mutation', 'scheduleChangeRequest')) await optional('scheduling', async () => {
    // Sequential: conflict detection looks at the changes scheduled before; 100 changes over 14 days on 8 items.
    for (const [j, change] of changes.entries()) {
      const start = calendarStart.getTime() + Math.floor((j * 14 * 24) / changes.length) * 3_600_000 + (j % 3) * 1_800_000;
      // Emergencies may go into the blackout; normal changes on the frozen item are scheduled after it instead.
      await gql(
        `mutation ($input: ScheduleChangeRequestInput!) { scheduleChangeRequest(input: $input) { changeRequest { id } errors { code message } } }`,
        { input: { changeRequestId: change.id, version: change.version, plannedStart: new Date(start).toISOString(), plannedEnd: new Date(start + 3 * 3_600_000 + (j % 4) * 3_600_000).toISOString() } },
      ).then(
        () => plannedStarts.push(start),
        (error) => {
          // A coded refusal (a blackout) is part of the data; anything else stops the scheduling.
          if (!String(error).includes('"code":"') || String(error).includes('INTERNAL_SERVER_ERROR')) throw error;
          notes.push(`change ${j} not scheduled: ${String(error).slice(0, 160)}`);
        },
      );
    }
  });
  else notes.push('changes not scheduled (no Mutation.scheduleChangeRequest yet)');

  let knownErrors = 0;
  if (schema.has('Mutation', 'createKnownError')) await optional('known errors', async () => {
    await inParallel(Array.from({ length: SEED_SIZES.knownErrors }, (_, i) => i), 8, async (i) => {
      const [title, description] = SUBJECTS[i % SUBJECTS.length]!;
      await gql(`mutation ($input: CreateKnownErrorInput!) { createKnownError(input: $input) { knownError { id } errors { code message } } }`, {
        input: { title: `${title} known error ${i}`, symptoms: description, description, workaround: `Workaround ${i}: restart the affected service`, problemId: problems[i % problems.length]!.id },
      });
      knownErrors++;
    });
  });
  else notes.push('no known errors (no Mutation.createKnownError yet)');

  return {
    incidentNumbers: incidents.map((i) => i.number),
    incidentIds: incidents.map((i) => i.id),
    problems: problems.length,
    changes: changes.length,
    links,
    knownErrors,
    scheduled: plannedStarts.length,
    plannedStarts: plannedStarts.sort((a, b) => a - b),
    seconds: (Date.now() - started) / 1000,
    notes,
  };
}
