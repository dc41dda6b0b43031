import { decodeCursor, isUuid, encodeCursor, graphqlError, pageSize, toConnection } from '@itsm/kit';
import { countIncidents, getIncidentByNumber, listIncidents, type IncidentListFilter } from '../db/queries.js';
import type { IncidentRow } from '../db/schema.js';
import { PRIORITY_LABELS, type Priority } from '../domain/priority.js';
import type { IncidentContext } from '../context.js';

function cursorOf(row: IncidentRow): string {
  return encodeCursor([row.openedAt.toISOString(), row.id]);
}

/** Loads by id through the request's loader; an id that is not a uuid simply finds nothing. */
export function loadIncident(ctx: IncidentContext, id: string): Promise<IncidentRow | null> {
  return isUuid(id) ? ctx.loaders.incidentById.load(id) : Promise.resolve(null);
}

export const incidentQueries = {
  incident: async (_: unknown, args: { id?: string | null; number?: string | null }, ctx: IncidentContext) => {
    if (args.id) return loadIncident(ctx, args.id);
    if (args.number) return (await getIncidentByNumber(ctx.db, ctx.identity.tenantId, args.number)) ?? null;
    throw graphqlError('VALIDATION_FAILED', 'give id or number', { field: 'id', rule: 'required' });
  },
  incidents: async (
    _: unknown,
    args: { first?: number | null; after?: string | null; filter?: IncidentListFilter | null },
    ctx: IncidentContext,
  ) => {
    const first = pageSize(args.first);
    const after = args.after ? decodeCursor(args.after, 2) : undefined;
    const rows = await listIncidents(ctx.db, ctx.identity.tenantId, {
      filter: args.filter,
      limit: first,
      after: after ? { openedAt: new Date(after[0] as string), id: String(after[1]) } : undefined,
    });
    for (const row of rows) ctx.loaders.incidentById.prime(row.id, row);
    return toConnection(rows, first, cursorOf, () => countIncidents(ctx.db, ctx.identity.tenantId, args.filter));
  },
};

export const Incident = {
  __resolveReference: (ref: { id: string }, ctx: IncidentContext) => loadIncident(ctx, ref.id),
  priorityLabel: (row: IncidentRow) => PRIORITY_LABELS[row.priority as Priority],
  history: async (row: IncidentRow, _: unknown, ctx: IncidentContext) =>
    (await ctx.loaders.historyByIncidentId.load(row.id)).map((h) => ({ ...h, from: h.fromValue, to: h.toValue })),
};
