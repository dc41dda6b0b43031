import { performance } from 'node:perf_hooks';
import { raiseCounter, type Db, type Identity, type PayloadError, type SubgraphName } from '@itsm/kit';
import { getChangeBy } from '../../subgraphs/change/src/db/queries.js';
import { createChangeRequest, linkChange } from '../../subgraphs/change/src/services/changes.js';
import { getIncidentByNumber } from '../../subgraphs/incident/src/db/queries.js';
import { SCHEMA_NAME as INCIDENT_SCHEMA, type IncidentRow } from '../../subgraphs/incident/src/db/schema.js';
import type { IncidentState } from '../../subgraphs/incident/src/domain/lifecycle.js';
import { recordImportedIncidentFacts } from '../../subgraphs/incident/src/services/import.js';
import { getSlaReport } from '../../subgraphs/incident/src/services/sla-reports.js';
import {
  createIncident,
  getPriorityMatrix,
  setPriorityMatrix,
  transitionIncident,
  updateIncident,
  type IncidentResult,
} from '../../subgraphs/incident/src/services/incidents.js';
import { getProblemBy } from '../../subgraphs/problem/src/db/queries.js';
import { createProblem, linkIncident } from '../../subgraphs/problem/src/services/problems.js';
import {
  parseServiceNowLog,
  type ImportedChange,
  type ImportedIncident,
  type ImportedIncidentUpdate,
  type ImportedProblem,
  type RejectedRow,
} from './servicenow-log.js';

/**
 * The source's closed_code values ("code 5") are anonymised, so none maps to a specific code of ours: every
 * imported resolution is RESOLVED_BY_SUPPORT (the source's incidents were resolved by its service desk), and the
 * source's code is kept in the resolution notes.
 */
export const IMPORTED_RESOLUTION_CODE = 'RESOLVED_BY_SUPPORT';

/** Who the importer acts as: it writes through the services, which check these roles. */
export function importIdentity(tenantId: string): Identity {
  return { userId: 'servicenow-import', tenantId, roles: ['admin', 'manager', 'agent'] };
}

/** The database handles the importer writes to (the graph's own, or a test graph's). */
export type ImportDatabases = Record<SubgraphName, { db: Db; kind?: 'postgres' | 'pglite' }>;

export interface ServiceNowImportOptions {
  tenantId: string;
  /** The event log's text (CSV with header). */
  csvText: string;
  /** Incidents replayed at once; PGlite has one connection, so it always runs one at a time. */
  concurrency?: number;
  /** Progress lines for a terminal; silent when absent. */
  log?: (message: string) => void;
}

/** An incident the importer could not load, and why (nothing of it was written). */
export interface FailedIncident {
  number: string;
  line: number;
  reason: string;
}

/** What one import run did. */
export interface ServiceNowImportReport {
  tenantId: string;
  rowsRead: number;
  rowsRejected: number;
  /** Malformed rows, by line number (header = line 1), skipped. */
  rejected: RejectedRow[];
  incidentsInFile: number;
  incidentsCreated: number;
  /** Incidents whose number already existed in the tenant: left as they are. */
  incidentsSkipped: number;
  incidentsFailed: FailedIncident[];
  problemsCreated: number;
  problemsExisting: number;
  changesCreated: number;
  changesExisting: number;
  problemLinks: number;
  changeLinks: number;
  /** Incidents whose computed priority differs from the file's final priority (expected empty). */
  priorityMismatches: string[];
  /** True when the tenant's priority matrix was switched to SERVICENOW_3X3 by this run. */
  matrixChanged: boolean;
  seconds: number;
  rowsPerSecond: number;
  /** SLA results of the replayed incidents under the tenant's policies, beside what the source judged. */
  sla: ImportedSlaSummary;
}

/** Compliance of the imported incidents: ours per kind, and the source's own made_sla verdict. */
export interface ImportedSlaSummary {
  byKind: { kind: string; priority: number; met: number; breached: number; percentMet: number | null }[];
  resolution: { met: number; breached: number; percentMet: number | null };
  sourceMadeSla: { met: number; total: number; percentMet: number | null };
}

const percent = (part: number, whole: number) => (whole ? (part / whole) * 100 : null);

/** SLA compliance over the file's time span, as getSlaReport computes it for the tenant. */
async function summariseImportedSlas(db: Db, identity: Identity, incidents: { openedAt: Date; madeSla: boolean | null }[]): Promise<ImportedSlaSummary> {
  const opened = incidents.map((i) => i.openedAt.getTime());
  const from = new Date(Math.min(...opened));
  const to = new Date(Math.max(...opened) + 365 * 86_400_000);
  const report = await getSlaReport(db, identity, { from, to }, to);
  const byKind = report.compliance
    .map(({ kind, priority, met, breached, percentMet }) => ({ kind, priority, met, breached, percentMet }))
    .sort((a, b) => a.kind.localeCompare(b.kind) || a.priority - b.priority);
  const resolutionRows = byKind.filter((r) => r.kind === 'RESOLUTION');
  const met = resolutionRows.reduce((sum, r) => sum + r.met, 0);
  const breached = resolutionRows.reduce((sum, r) => sum + r.breached, 0);
  const judged = incidents.filter((i) => i.madeSla !== null);
  const sourceMet = judged.filter((i) => i.madeSla).length;
  return {
    byKind,
    resolution: { met, breached, percentMet: percent(met, met + breached) },
    sourceMadeSla: { met: sourceMet, total: judged.length, percentMet: percent(sourceMet, judged.length) },
  };
}

class ReplayFailure extends Error {
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(reason);
  }
}

/**
 * Imports a ServiceNow incident event log into a tenant through the domain services: each incident is created,
 * its rows replayed as updates and transitions at their own instants, then its source counters and times are
 * recorded; problems and change requests are found by external reference or created, and linked. Idempotent:
 * incidents whose number exists are skipped, links are kept once.
 */
export async function importServiceNowLog(databases: ImportDatabases, options: ServiceNowImportOptions): Promise<ServiceNowImportReport> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const identity = importIdentity(options.tenantId);
  const parsed = parseServiceNowLog(options.csvText);
  const rowsLoaded = parsed.incidents.reduce((sum, incident) => sum + incident.history.length, 0);
  log(`parsed ${rowsLoaded + parsed.rejected.length} rows: ${parsed.incidents.length} incidents, ${parsed.problems.length} problems, ${parsed.changes.length} changes, ${parsed.rejected.length} malformed rows`);

  const incidentDb = databases.incident.db;
  const matrixChanged = await useServiceNowMatrix(incidentDb, identity);

  const openedAtByNumber = new Map(parsed.incidents.map((incident) => [incident.number, incident.openedAt]));
  const problems = await findOrCreateProblems(databases.problem.db, identity, parsed.problems, openedAtByNumber);
  const changes = await findOrCreateChanges(databases.change.db, identity, parsed.changes, openedAtByNumber);

  const report: ServiceNowImportReport = {
    tenantId: options.tenantId,
    rowsRead: rowsLoaded + parsed.rejected.length,
    rowsRejected: parsed.rejected.length,
    rejected: parsed.rejected,
    incidentsInFile: parsed.incidents.length,
    incidentsCreated: 0,
    incidentsSkipped: 0,
    incidentsFailed: [],
    problemsCreated: problems.created,
    problemsExisting: problems.ids.size - problems.created,
    changesCreated: changes.created,
    changesExisting: changes.ids.size - changes.created,
    problemLinks: 0,
    changeLinks: 0,
    priorityMismatches: [],
    matrixChanged,
    seconds: 0,
    rowsPerSecond: 0,
    sla: { byKind: [], resolution: { met: 0, breached: 0, percentMet: null }, sourceMadeSla: { met: 0, total: 0, percentMet: null } },
  };

  const pglite = Object.values(databases).some((d) => d.kind === 'pglite');
  const concurrency = pglite ? 1 : Math.max(1, options.concurrency ?? 8);
  let done = 0;
  await forEachConcurrently(parsed.incidents, concurrency, async (incident) => {
    const loaded = await loadIncident(incidentDb, identity, incident);
    if ('failure' in loaded) {
      report.incidentsFailed.push(loaded.failure);
    } else {
      if (loaded.created) report.incidentsCreated += 1;
      else report.incidentsSkipped += 1;
      if (loaded.created && loaded.incident.priority !== incident.priority) {
        report.priorityMismatches.push(`${incident.number}: file ${incident.priority}, computed ${loaded.incident.priority}`);
      }
      const linkedAt = lastInstant(incident);
      for (const ref of incident.problemIds) {
        await must(linkIncident(databases.problem.db, identity, { problemId: problems.ids.get(ref)!, incidentId: loaded.incident.id, relation: 'CAUSED_BY' }, linkedAt), `link ${incident.number} to ${ref}`);
        report.problemLinks += 1;
      }
      for (const ref of incident.changeIds) {
        await must(linkChange(databases.change.db, identity, { changeRequestId: changes.ids.get(ref)!, incidentId: loaded.incident.id }, linkedAt), `link ${incident.number} to ${ref}`);
        report.changeLinks += 1;
      }
    }
    done += 1;
    if (done % 100 === 0) log(`  ${done}/${parsed.incidents.length} incidents`);
  });

  const highest = Math.max(0, ...parsed.incidents.map((incident) => numberValue(incident.number)));
  if (highest > 0) await raiseCounter(incidentDb, INCIDENT_SCHEMA, options.tenantId, 'incident', highest);

  report.incidentsFailed.sort((a, b) => a.line - b.line);
  report.seconds = (performance.now() - started) / 1000;
  report.rowsPerSecond = report.rowsRead / Math.max(report.seconds, 0.001);
  if (parsed.incidents.length) report.sla = await summariseImportedSlas(incidentDb, identity, parsed.incidents);
  return report;
}

/** Lines a terminal shows after an import. */
export function formatImportReport(report: ServiceNowImportReport): string[] {
  const lines = [
    `tenant ${report.tenantId}`,
    `rows: ${report.rowsRead} read, ${report.rowsRejected} malformed (skipped)`,
    `incidents: ${report.incidentsCreated} created, ${report.incidentsSkipped} already there, ${report.incidentsFailed.length} failed (of ${report.incidentsInFile} in the file)`,
    `problems: ${report.problemsCreated} created, ${report.problemsExisting} already there; ${report.problemLinks} incident links`,
    `change requests: ${report.changesCreated} created, ${report.changesExisting} already there; ${report.changeLinks} incident links`,
    `priority matrix: ${report.matrixChanged ? 'switched to SERVICENOW_3X3' : 'SERVICENOW_3X3 already'}; priority mismatches: ${report.priorityMismatches.length}`,
    `time: ${report.seconds.toFixed(1)} s, ${Math.round(report.rowsPerSecond)} rows/s`,
    `SLA (resolution, default policies): ${report.sla.resolution.met} met, ${report.sla.resolution.breached} breached (${report.sla.resolution.percentMet?.toFixed(1) ?? '-'} %); the source's made_sla: ${report.sla.sourceMadeSla.met} of ${report.sla.sourceMadeSla.total} (${report.sla.sourceMadeSla.percentMet?.toFixed(1) ?? '-'} %)`,
    ...report.sla.byKind.map((r) => `  ${r.kind} P${r.priority}: ${r.met} met, ${r.breached} breached (${r.percentMet?.toFixed(1) ?? '-'} %)`),
  ];
  for (const row of report.rejected) lines.push(`  line ${row.line}: ${row.reason}`);
  for (const failure of report.incidentsFailed) lines.push(`  ${failure.number} (line ${failure.line}): ${failure.reason}`);
  for (const mismatch of report.priorityMismatches) lines.push(`  priority ${mismatch}`);
  return lines;
}

async function useServiceNowMatrix(db: Db, identity: Identity): Promise<boolean> {
  const matrix = await getPriorityMatrix(db, identity.tenantId);
  if (matrix.profile === 'SERVICENOW_3X3') return false;
  const result = await setPriorityMatrix(db, identity, { profile: 'SERVICENOW_3X3' });
  if (result.errors.length) throw new Error(`cannot set the priority matrix: ${describe(result.errors)}`);
  return true;
}

/** A problem opens when the first incident that names it opened (the log does not say when it was raised). */
async function findOrCreateProblems(db: Db, identity: Identity, imported: ImportedProblem[], openedAt: Map<string, Date>) {
  const ids = new Map<string, string>();
  let created = 0;
  for (const problem of imported) {
    const existing = await getProblemBy(db, identity.tenantId, { externalRef: problem.externalRef });
    if (existing) {
      ids.set(problem.externalRef, existing.id);
      continue;
    }
    const result = await createProblem(
      db,
      identity,
      {
        title: `${problem.externalRef} (imported from ServiceNow)`,
        description: `Problem referenced by ServiceNow incidents ${problem.incidentNumbers.join(', ')}.`,
        externalRef: problem.externalRef,
      },
      earliest(problem.incidentNumbers, openedAt),
    );
    if (!result.problem) throw new Error(`cannot create problem ${problem.externalRef}: ${describe(result.errors)}`);
    ids.set(problem.externalRef, result.problem.id);
    created += 1;
  }
  return { ids, created };
}

async function findOrCreateChanges(db: Db, identity: Identity, imported: ImportedChange[], openedAt: Map<string, Date>) {
  const ids = new Map<string, string>();
  let created = 0;
  for (const change of imported) {
    const existing = await getChangeBy(db, identity.tenantId, { externalRef: change.externalRef });
    if (existing) {
      ids.set(change.externalRef, existing.id);
      continue;
    }
    const result = await createChangeRequest(
      db,
      identity,
      {
        title: `${change.externalRef} (imported from ServiceNow)`,
        description: `Change request referenced by ServiceNow incidents ${change.incidentNumbers.join(', ')}.`,
        type: 'NORMAL',
        externalRef: change.externalRef,
      },
      earliest(change.incidentNumbers, openedAt),
    );
    if (!result.changeRequest) throw new Error(`cannot create change request ${change.externalRef}: ${describe(result.errors)}`);
    ids.set(change.externalRef, result.changeRequest.id);
    created += 1;
  }
  return { ids, created };
}

type LoadedIncident = { incident: IncidentRow; created: boolean } | { failure: FailedIncident };

/** Loads one incident in one transaction, so a failure leaves nothing of it behind. */
async function loadIncident(db: Db, identity: Identity, imported: ImportedIncident): Promise<LoadedIncident> {
  const existing = await getIncidentByNumber(db, identity.tenantId, imported.number);
  if (existing) return { incident: existing, created: false };
  try {
    const incident = await db.transaction((tx) => replayIncident(tx, identity, imported));
    return { incident, created: true };
  } catch (error) {
    const line = error instanceof ReplayFailure ? error.line : (imported.history[0]?.line ?? 0);
    return { failure: { number: imported.number, line, reason: error instanceof Error ? error.message : String(error) } };
  }
}

async function replayIncident(tx: Db, identity: Identity, imported: ImportedIncident): Promise<IncidentRow> {
  const first = imported.history[0]!;
  let at = imported.openedAt;
  let current = await step(
    first.line,
    createIncident(
      tx,
      identity,
      {
        number: imported.number,
        externalRef: imported.number,
        title: incidentTitle(imported),
        description: incidentDescription(imported),
        impact: first.impact,
        urgency: first.urgency,
        // The log repeats these on every row but the parser keeps only the final ones; they rarely change.
        category: imported.category,
        subcategory: imported.subcategory,
        configurationItem: imported.configurationItem,
        caller: imported.caller,
        assignmentGroup: first.assignmentGroup,
        assignee: first.assignedTo,
      },
      at,
    ),
  );

  for (const row of imported.history) {
    // A few rows are stamped before the incident's opened_at or before the previous row; history stays in order.
    if (row.at > at) at = row.at;
    if (fieldsChanged(current, row)) {
      current = await step(
        row.line,
        updateIncident(
          tx,
          identity,
          { id: current.id, version: current.version, impact: row.impact, urgency: row.urgency, assignmentGroup: row.assignmentGroup, assignee: row.assignedTo },
          at,
        ),
      );
    }
    for (const to of transitionsTo(current, row)) {
      current = await step(
        row.line,
        transitionIncident(
          tx,
          identity,
          {
            id: current.id,
            version: current.version,
            to,
            holdReason: to === 'ON_HOLD' ? row.holdReason : null,
            resolutionCode: to === 'RESOLVED' ? IMPORTED_RESOLUTION_CODE : null,
            resolutionNotes: to === 'RESOLVED' ? resolutionNotes(imported) : null,
            reason: `ServiceNow state "${row.sourceState}"`,
          },
          at,
        ),
      );
    }
  }

  const last = imported.history[imported.history.length - 1]!;
  current = await step(
    last.line,
    recordImportedIncidentFacts(
      tx,
      identity,
      {
        id: current.id,
        version: current.version,
        reassignmentCount: imported.reassignmentCount,
        reopenCount: imported.reopenCount,
        resolvedAt: imported.resolvedAt && ['RESOLVED', 'CLOSED'].includes(current.state) ? imported.resolvedAt : undefined,
        closedAt: imported.closedAt && current.state === 'CLOSED' ? imported.closedAt : undefined,
      },
      at,
    ),
  );
  return current;
}

function fieldsChanged(current: IncidentRow, row: ImportedIncidentUpdate): boolean {
  return (
    current.impact !== row.impact ||
    current.urgency !== row.urgency ||
    current.assignmentGroup !== row.assignmentGroup ||
    current.assignee !== row.assignedTo
  );
}

/** The transitions that take the incident to the row's state; closing an open incident resolves it first. */
function transitionsTo(current: IncidentRow, row: ImportedIncidentUpdate): IncidentState[] {
  const from = current.state as IncidentState;
  if (from === row.state) return from === 'ON_HOLD' && current.holdReason !== row.holdReason ? ['ON_HOLD'] : [];
  if (row.state === 'CLOSED' && (from === 'NEW' || from === 'IN_PROGRESS' || from === 'ON_HOLD')) return ['RESOLVED', 'CLOSED'];
  return [row.state];
}

async function step(line: number, pending: Promise<IncidentResult>): Promise<IncidentRow> {
  const result = await pending;
  if (!result.incident) throw new ReplayFailure(line, describe(result.errors));
  return result.incident;
}

async function must<T extends { errors: PayloadError[] }>(pending: Promise<T>, what: string): Promise<T> {
  const result = await pending;
  if (result.errors.length) throw new Error(`cannot ${what}: ${describe(result.errors)}`);
  return result;
}

function describe(errors: PayloadError[]): string {
  return errors.map((e) => ('field' in e ? `${e.field}: ${e.message}` : `${e.code}: ${e.message}`)).join('; ');
}

function incidentTitle(incident: ImportedIncident): string {
  const classification = [incident.category, incident.subcategory, incident.symptom].filter(Boolean).join(' / ');
  return classification ? `${classification} (${incident.number})` : `ServiceNow incident ${incident.number}`;
}

// No contact type ("Phone", "Email"): the incident service categorises an incident without a category from its
// text, and those words would file an uncategorised source incident under Mobile Device or Email.
function incidentDescription(incident: ImportedIncident): string {
  const facts: [string, string | boolean | null][] = [
    ['symptom', incident.symptom],
    ['location', incident.location],
    ['opened by', incident.openedBy],
    ['made SLA', incident.madeSla],
    ['knowledge', incident.knowledge],
  ];
  const known = facts.filter(([, value]) => value !== null).map(([name, value]) => `${name}: ${value}`);
  return [`Imported from the ServiceNow incident event log (${incident.number}).`, ...known].join('\n');
}

function resolutionNotes(incident: ImportedIncident): string {
  const code = incident.closeCode ? `closed_code "${incident.closeCode}"` : 'no closed_code';
  const by = incident.resolvedBy ? `, resolved_by "${incident.resolvedBy}"` : '';
  return `Imported from ServiceNow: ${code}${by}.`;
}

/** The instant the incident's last row was replayed at (rows never move history backwards). */
function lastInstant(incident: ImportedIncident): Date {
  let at = incident.openedAt;
  for (const row of incident.history) if (row.at > at) at = row.at;
  return at;
}

function earliest(numbers: string[], openedAt: Map<string, Date>): Date {
  const times = numbers.map((n) => openedAt.get(n)?.getTime()).filter((t): t is number => t !== undefined);
  return times.length ? new Date(Math.min(...times)) : new Date();
}

function numberValue(number: string): number {
  const match = /^INC(\d+)$/.exec(number);
  return match ? Number(match[1]) : 0;
}

async function forEachConcurrently<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
