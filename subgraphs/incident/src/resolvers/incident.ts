import { decodeCursor, encodeCursor, graphqlError, internalNote, isUuid, pageSize, toConnection } from '@itsm/kit';
import {
  countIncidents,
  countIncidentsByStateAndPriority,
  getIncidentByNumber,
  listIncidents,
  sortKeys,
  type IncidentListFilter,
  type IncidentSortField,
  type SortDirection,
} from '../db/queries.js';
import type { IncidentRow } from '../db/schema.js';
import { INCIDENT_STATES } from '../domain/lifecycle.js';
import { PRIORITY_LABELS, type Priority } from '../domain/priority.js';
import { toBusinessCalendar } from '../services/sla-engine.js';
import { viewTaskSla } from '../services/sla-reports.js';
import type { IncidentContext } from '../context.js';

type Sort = { field: IncidentSortField; direction: SortDirection };

function resolveSort(sort: { field: IncidentSortField; direction?: SortDirection | null } | null | undefined): Sort {
  const field = sort?.field ?? 'OPENED_AT';
  return { field, direction: sort?.direction ?? (field === 'PRIORITY' ? 'ASC' : 'DESC') };
}

// A cursor names its sort, so it cannot be replayed against another order.
function cursorOf(sort: Sort) {
  return (row: IncidentRow) =>
    encodeCursor([
      `${sort.field}:${sort.direction}`,
      ...sortKeys(sort.field, sort.direction).map(({ field }) => {
        const value = row[field];
        return value instanceof Date ? value.toISOString() : value;
      }),
    ]);
}

function decodeAfter(after: string | null | undefined, sort: Sort): unknown[] | undefined {
  if (!after) return undefined;
  const keys = sortKeys(sort.field, sort.direction);
  const [tag, ...values] = decodeCursor(after, keys.length + 1);
  if (tag !== `${sort.field}:${sort.direction}`) {
    throw graphqlError('VALIDATION_FAILED', 'after is a cursor of another sort order', { field: 'after', rule: 'cursor' });
  }
  return values.map((value, i) => (keys[i]!.field === 'openedAt' || keys[i]!.field === 'updatedAt' ? new Date(value as string) : value));
}

/** Loads by id through the request's loader; an id that is not a uuid simply finds nothing. */
export function loadIncident(ctx: IncidentContext, id: string): Promise<IncidentRow | null> {
  return isUuid(id) ? ctx.loaders.incidentById.load(id) : Promise.resolve(null);
}

async function incidentPage(
  ctx: IncidentContext,
  args: { first?: number | null; after?: string | null; filter?: IncidentListFilter | null; sort?: { field: IncidentSortField; direction?: SortDirection | null } | null },
) {
  const first = pageSize(args.first);
  const sort = resolveSort(args.sort);
  const rows = await listIncidents(ctx.db, ctx.identity.tenantId, { filter: args.filter, sort, after: decodeAfter(args.after, sort), limit: first });
  for (const row of rows) ctx.loaders.incidentById.prime(row.id, row);
  return toConnection(rows, first, cursorOf(sort), () => countIncidents(ctx.db, ctx.identity.tenantId, args.filter));
}

export const incidentQueries = {
  incident: async (_: unknown, args: { id?: string | null; number?: string | null }, ctx: IncidentContext) => {
    if (args.id) return loadIncident(ctx, args.id);
    if (args.number) return (await getIncidentByNumber(ctx.db, ctx.identity.tenantId, args.number)) ?? null;
    throw graphqlError('VALIDATION_FAILED', 'give id or number', { field: 'id', rule: 'required' });
  },
  incidents: (_: unknown, args: Parameters<typeof incidentPage>[1], ctx: IncidentContext) => incidentPage(ctx, args),
  majorIncidents: (_: unknown, args: { first?: number | null; after?: string | null; includeClosed?: boolean | null }, ctx: IncidentContext) =>
    incidentPage(ctx, {
      first: args.first,
      after: args.after,
      filter: { major: true, ...(args.includeClosed ? {} : { state: ['NEW', 'IN_PROGRESS', 'ON_HOLD', 'RESOLVED'] }) },
    }),
  incidentCounts: async (_: unknown, args: { filter?: IncidentListFilter | null }, ctx: IncidentContext) => {
    const rows = await countIncidentsByStateAndPriority(ctx.db, ctx.identity.tenantId, args.filter);
    const sum = (keep: (r: (typeof rows)[number]) => boolean) => rows.filter(keep).reduce((n, r) => n + Number(r.n), 0);
    return {
      total: sum(() => true),
      byState: INCIDENT_STATES.map((state) => ({ state, count: sum((r) => r.state === state) })),
      byPriority: [1, 2, 3, 4, 5].map((priority) => ({ priority, count: sum((r) => r.priority === priority) })),
    };
  },
};

export const Incident = {
  __resolveReference: (ref: { id: string }, ctx: IncidentContext) => loadIncident(ctx, ref.id),
  priorityLabel: (row: IncidentRow) => PRIORITY_LABELS[row.priority as Priority],
  autoCategorization: (row: IncidentRow) =>
    row.categoryKeywords && row.category && row.subcategory
      ? { category: row.category, subcategory: row.subcategory, matchedKeywords: row.categoryKeywords }
      : null,
  // Resolution notes and the reasons kept in the history are internal notes: null for a read-only partner.
  resolutionNotes: (row: IncidentRow, _: unknown, ctx: IncidentContext) => internalNote(ctx.identity, row.resolutionNotes),
  history: async (row: IncidentRow, _: unknown, ctx: IncidentContext) =>
    (await ctx.loaders.historyByIncidentId.load(row.id)).map((h) => ({ ...h, from: h.fromValue, to: h.toValue, reason: internalNote(ctx.identity, h.reason) })),
  slas: async (row: IncidentRow, args: { asOf?: Date | null }, ctx: IncidentContext) => {
    const asOf = args.asOf ?? new Date();
    const slas = await ctx.loaders.slasByIncidentId.load(row.id);
    return Promise.all(
      slas.map(async (sla) => {
        const calendar = await ctx.loaders.calendarById.load(sla.calendarId);
        return viewTaskSla(sla, toBusinessCalendar(calendar!), asOf);
      }),
    );
  },
  escalationLevel: async (row: IncidentRow, _: unknown, ctx: IncidentContext) =>
    Math.max(0, ...(await ctx.loaders.slasByIncidentId.load(row.id)).map((s) => s.escalationLevel)),
};
