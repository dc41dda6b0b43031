import { appendEvents, hasRole, isUuid, payloadErrors, type Db, type FieldProblem, type Identity, type OutboxEvent, type PayloadError } from '@itsm/kit';
import {
  getClusterMemberships,
  getObservedIncidentsNear,
  getProblemsByIncidentIds,
  getRecurrenceSettings as getStoredSettings,
  insertCluster,
  insertClusterMembers,
  lockProblem,
  lockTenantRecurrence,
  refreshProblemIncidentStats,
  saveRecurrenceSettings,
  setLinkOccurrence,
  upsertObservedIncident,
} from '../db/queries.js';
import { SCHEMA_NAME, type ObservedIncidentRow, type ProblemRow } from '../db/schema.js';
import { isOpenProblemState, type ProblemState } from '../domain/lifecycle.js';
import { DEFAULT_RECURRENCE_OPTIONS, findCluster, type RecurrenceIncident } from '../domain/recurrence.js';
import { insertNewProblem, linkIncidentsInTx, PROBLEM_EVENTS, STATE_ROLES } from './problems.js';

/** Who the history names for what the detector does. */
export const DETECTOR_ACTOR = 'recurrence-detector';

export interface RecurrenceSettings {
  enabled: boolean;
  threshold: number;
  windowDays: number;
  minSimilarity: number;
}

const DEFAULT_SETTINGS: RecurrenceSettings = { enabled: true, ...DEFAULT_RECURRENCE_OPTIONS };
const MAX_TITLE = 255;

/** A tenant's thresholds: the stored ones or the defaults (3 incidents, 7 days, half the words shared). */
export async function getRecurrenceSettings(db: Db, tenantId: string): Promise<RecurrenceSettings> {
  const stored = await getStoredSettings(db, tenantId);
  if (!stored) return DEFAULT_SETTINGS;
  return { enabled: stored.enabled, threshold: stored.threshold, windowDays: stored.windowDays, minSimilarity: stored.minSimilarity };
}

export type RecurrenceSettingsResult = { recurrenceSettings: RecurrenceSettings; errors: [] } | { recurrenceSettings: null; errors: PayloadError[] };

/** Changes a tenant's thresholds (managers only); omitted fields keep their value. */
export async function setRecurrenceSettings(
  db: Db,
  identity: Identity,
  input: Partial<{ [K in keyof RecurrenceSettings]: RecurrenceSettings[K] | null }>,
  now = new Date(),
): Promise<RecurrenceSettingsResult> {
  if (!hasRole(identity, STATE_ROLES)) return { recurrenceSettings: null, errors: [payloadErrors.forbidden(STATE_ROLES)] };
  const problems: FieldProblem[] = [];
  const { threshold, windowDays, minSimilarity } = input;
  if (threshold != null && (!Number.isInteger(threshold) || threshold < 2 || threshold > 100)) {
    problems.push({ field: 'input.threshold', rule: 'range', message: 'threshold must be an integer from 2 to 100' });
  }
  if (windowDays != null && (!Number.isInteger(windowDays) || windowDays < 1 || windowDays > 365)) {
    problems.push({ field: 'input.windowDays', rule: 'range', message: 'windowDays must be an integer from 1 to 365' });
  }
  if (minSimilarity != null && !(minSimilarity > 0 && minSimilarity <= 1)) {
    problems.push({ field: 'input.minSimilarity', rule: 'range', message: 'minSimilarity must be above 0 and at most 1' });
  }
  if (problems.length) return { recurrenceSettings: null, errors: problems.map(payloadErrors.validation) };
  const current = await getRecurrenceSettings(db, identity.tenantId);
  const next: RecurrenceSettings = {
    enabled: input.enabled ?? current.enabled,
    threshold: threshold ?? current.threshold,
    windowDays: windowDays ?? current.windowDays,
    minSimilarity: minSimilarity ?? current.minSimilarity,
  };
  await saveRecurrenceSettings(db, { tenantId: identity.tenantId, ...next, updatedAt: now });
  return { recurrenceSettings: next, errors: [] };
}

/** What an incident event of the incident subgraph carries (INCIDENT_CREATED, INCIDENT_UPDATED, ...). */
export interface IncidentEventPayload {
  incidentId: string;
  number: string | null;
  title: string;
  description: string | null;
  category: string | null;
  subcategory: string | null;
  configurationItem: string | null;
  state: string | null;
  priority: number | null;
  openedAt: Date;
}

/** Reads an incident event's payload; undefined when it does not describe an incident. */
export function parseIncidentPayload(payload: Record<string, unknown>): IncidentEventPayload | undefined {
  const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value : null);
  const incidentId = payload.incidentId;
  const title = payload.title;
  const openedAt = typeof payload.openedAt === 'string' ? new Date(payload.openedAt) : undefined;
  if (typeof incidentId !== 'string' || !isUuid(incidentId) || typeof title !== 'string' || !openedAt || Number.isNaN(openedAt.getTime())) {
    return undefined;
  }
  return {
    incidentId,
    number: text(payload.number),
    title,
    description: text(payload.description),
    category: text(payload.category),
    subcategory: text(payload.subcategory),
    configurationItem: text(payload.configurationItem),
    state: text(payload.state),
    priority: typeof payload.priority === 'number' ? payload.priority : null,
    openedAt,
  };
}

export type RecurrenceOutcome =
  | { kind: 'ignored' }
  | { kind: 'observed' }
  | { kind: 'detected'; problem: ProblemRow; incidentIds: string[] }
  | { kind: 'joined'; problem: ProblemRow; incidentIds: string[] };

/**
 * Applies one incident event inside the caller's transaction: records what it says about the
 * incident, then opens a problem for a new cluster of recurring incidents or adds the incident
 * to the open problem of its cluster. Decisions of one tenant are serialised on an advisory
 * lock and an incident belongs to one cluster at most, so replays and concurrent replicas
 * never open a second problem for a cluster.
 */
export async function applyIncidentEvent(tx: Db, event: Pick<OutboxEvent, 'tenantId' | 'cursor' | 'type' | 'payload'>, now = new Date()): Promise<RecurrenceOutcome> {
  const incident = event.type.startsWith('INCIDENT_') ? parseIncidentPayload(event.payload) : undefined;
  if (!incident) return { kind: 'ignored' };
  const tenantId = event.tenantId;
  await lockTenantRecurrence(tx, tenantId);
  const observed = await upsertObservedIncident(tx, {
    tenantId,
    incidentId: incident.incidentId,
    number: incident.number,
    title: incident.title,
    description: incident.description,
    category: incident.category,
    subcategory: incident.subcategory,
    configurationItem: incident.configurationItem,
    state: incident.state,
    priority: incident.priority,
    openedAt: incident.openedAt,
    eventCursor: event.cursor,
  });
  await correctOccurrenceTimes(tx, tenantId, observed);

  const settings = await getRecurrenceSettings(tx, tenantId);
  const windowMs = settings.windowDays * 86_400_000;
  // Recurrence is about incidents arriving now: history loaded by an import opens nothing.
  if (!settings.enabled || observed.openedAt.getTime() < now.getTime() - windowMs) return { kind: 'observed' };

  const near = await getObservedIncidentsNear(tx, tenantId, {
    category: observed.category,
    configurationItem: observed.configurationItem,
    from: new Date(observed.openedAt.getTime() - windowMs),
    to: new Date(observed.openedAt.getTime() + windowMs),
  });
  const similar = findCluster(asRecurrence(observed), near.map(asRecurrence), { ...settings, threshold: 1 }) ?? [];
  const memberships = await getClusterMemberships(
    tx,
    tenantId,
    similar.map((i) => i.id),
  );
  if (memberships.some((m) => m.incidentId === observed.incidentId)) return { kind: 'observed' };
  const clustered = new Set(memberships.map((m) => m.incidentId));
  const unclustered = similar.filter((i) => !clustered.has(i.id));

  const open = memberships
    .filter((m) => isOpenProblemState(m.problem.state as ProblemState))
    .sort((a, b) => a.detectedAt.getTime() - b.detectedAt.getTime())[0];
  if (open) {
    const problem = (await lockProblem(tx, tenantId, open.problem.id))!;
    const added = await insertClusterMembers(tx, tenantId, open.clusterId, unclustered.map((i) => i.id), now);
    const linked = await linkIncidentsInTx(tx, tenantId, problem, unclustered.filter((i) => added.includes(i.id)).map(asLink), 'RELATED_TO', now);
    return { kind: 'joined', problem: linked, incidentIds: added };
  }
  if (unclustered.length < settings.threshold) return { kind: 'observed' };

  const byId = new Map(near.map((n) => [n.incidentId, n]));
  byId.set(observed.incidentId, observed);
  const members = unclustered.map((i) => byId.get(i.id)!);
  const shared = sharedBasis(members);
  const first = members[0]!;
  const problem = await insertNewProblem(
    tx,
    tenantId,
    DETECTOR_ACTOR,
    {
      title: truncate(`Recurring incidents: ${first.title}`, MAX_TITLE),
      description:
        `Opened by recurrence detection: ${members.length} similar incidents within ${settings.windowDays} days` +
        `${shared.category ? ` in category ${shared.category}` : ''}${shared.configurationItem ? ` on ${shared.configurationItem}` : ''}` +
        `: ${members.map((m) => m.number ?? m.incidentId).join(', ')}.`,
      type: 'REACTIVE',
      category: shared.category,
      configurationItem: shared.configurationItem,
      origin: 'RECURRENCE_DETECTION',
    },
    now,
  );
  const cluster = await insertCluster(tx, { tenantId, problemId: problem.id, detectedAt: now, basis: shared });
  const added = await insertClusterMembers(tx, tenantId, cluster.id, members.map((m) => m.incidentId), now);
  const linked = await linkIncidentsInTx(tx, tenantId, problem, members.map((m) => ({ incidentId: m.incidentId, occurredAt: m.openedAt })), 'RELATED_TO', now);
  await appendEvents(tx, SCHEMA_NAME, [
    {
      tenantId,
      type: PROBLEM_EVENTS.detected,
      payload: {
        problemId: problem.id,
        number: problem.number,
        clusterId: cluster.id,
        incidentIds: added,
        category: shared.category,
        configurationItem: shared.configurationItem,
        threshold: settings.threshold,
        windowDays: settings.windowDays,
      },
      occurredAt: now,
    },
  ]);
  return { kind: 'detected', problem: linked, incidentIds: added };
}

/** Links made before this subgraph saw the incident counted from their link time: use its real opening time. */
async function correctOccurrenceTimes(tx: Db, tenantId: string, incident: ObservedIncidentRow): Promise<void> {
  const linked = await getProblemsByIncidentIds(tx, tenantId, [incident.incidentId]);
  if (!linked.length) return;
  // Problem rows first, in a fixed order, as every writer of links does: no deadlock with them.
  for (const problemId of linked.map((l) => l.problem.id).sort()) await lockProblem(tx, tenantId, problemId);
  for (const problemId of await setLinkOccurrence(tx, tenantId, incident.incidentId, incident.openedAt)) {
    await refreshProblemIncidentStats(tx, tenantId, problemId);
  }
}

function asRecurrence(row: ObservedIncidentRow): RecurrenceIncident {
  return {
    id: row.incidentId,
    openedAt: row.openedAt,
    category: row.category,
    configurationItem: row.configurationItem,
    title: row.title,
    description: row.description,
  };
}

function asLink(incident: RecurrenceIncident) {
  return { incidentId: incident.id, occurredAt: incident.openedAt };
}

/** The category and configuration item every member shares (null where they differ). */
function sharedBasis(members: readonly ObservedIncidentRow[]): { category: string | null; configurationItem: string | null } {
  const all = <T>(pick: (m: ObservedIncidentRow) => T | null): T | null => {
    const first = pick(members[0]!);
    return members.every((m) => pick(m) === first) ? first : null;
  };
  return { category: all((m) => m.category), configurationItem: all((m) => m.configurationItem) };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
