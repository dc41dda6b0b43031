import { decodeCursor, encodeCursor, graphqlError, internalNote, isUuid, pageSize, toConnection } from '@itsm/kit';
import type { ProblemContext } from '../context.js';
import { countProblems, getProblemBy, listProblems, type ProblemListFilter } from '../db/queries.js';
import type { ProblemRow } from '../db/schema.js';
import { PRIORITY_LABELS, type ProblemPriority } from '../domain/priority.js';

function cursorOf(row: ProblemRow): string {
  return encodeCursor([row.openedAt.toISOString(), row.id]);
}

/** A problem of the caller's tenant by id; ids that are not uuids find nothing. */
export function loadProblem(ctx: ProblemContext, id: string) {
  return isUuid(id) ? ctx.loaders.problemById.load(id) : Promise.resolve(null);
}

export const problemQueries = {
  problem: async (_: unknown, args: { id?: string | null; number?: string | null }, ctx: ProblemContext) => {
    if (args.id) return loadProblem(ctx, args.id);
    if (args.number) return (await getProblemBy(ctx.db, ctx.identity.tenantId, { number: args.number })) ?? null;
    throw graphqlError('VALIDATION_FAILED', 'give id or number', { field: 'id', rule: 'required' });
  },
  problems: async (_: unknown, args: { first?: number | null; after?: string | null; filter?: ProblemListFilter | null }, ctx: ProblemContext) => {
    const first = pageSize(args.first);
    const after = args.after ? decodeCursor(args.after, 2) : undefined;
    const rows = await listProblems(ctx.db, ctx.identity.tenantId, {
      filter: args.filter,
      limit: first,
      after: after ? { openedAt: new Date(after[0] as string), id: String(after[1]) } : undefined,
    });
    for (const row of rows) ctx.loaders.problemById.prime(row.id, row);
    return toConnection(rows, first, cursorOf, () => countProblems(ctx.db, ctx.identity.tenantId, args.filter));
  },
};

export const problemResolvers = {
  __resolveReference: (ref: { id: string }, ctx: ProblemContext) => loadProblem(ctx, ref.id),
  priorityLabel: (row: ProblemRow) => PRIORITY_LABELS[row.priority as ProblemPriority],
  incidents: async (row: ProblemRow, _: unknown, ctx: ProblemContext) =>
    (await ctx.loaders.linksByProblemId.load(row.id)).map((link) => ({ id: link.incidentId })),
  incidentLinks: async (row: ProblemRow, _: unknown, ctx: ProblemContext) =>
    (await ctx.loaders.linksByProblemId.load(row.id)).map((link) => ({ ...link, incident: { id: link.incidentId } })),
  knownErrors: (row: ProblemRow, _: unknown, ctx: ProblemContext) => ctx.loaders.knownErrorsByProblemId.load(row.id),
  // The reasons kept in the history are internal notes: null for a read-only partner.
  history: async (row: ProblemRow, _: unknown, ctx: ProblemContext) =>
    (await ctx.loaders.historyByProblemId.load(row.id)).map((h) => ({ ...h, from: h.fromValue, to: h.toValue, reason: internalNote(ctx.identity, h.reason) })),
};
