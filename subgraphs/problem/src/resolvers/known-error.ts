import { decodeCursor, encodeCursor, graphqlError, isUuid, pageSize, toConnection } from '@itsm/kit';
import type { ProblemContext } from '../context.js';
import { countKnownErrors, countRankedKnownErrors, getKnownErrorByNumber, listKnownErrors, rankKnownErrors, type KnownErrorListFilter } from '../db/queries.js';
import type { KnownErrorRow } from '../db/schema.js';
import { anyWordQuery } from '../domain/search.js';

const MAX_SEARCH_LENGTH = 1_000;

/** A known error of the caller's tenant by id; ids that are not uuids find nothing. */
export function loadKnownError(ctx: ProblemContext, id: string) {
  return isUuid(id) ? ctx.loaders.knownErrorById.load(id) : Promise.resolve(null);
}

function checkFilter(filter: KnownErrorListFilter | null | undefined): KnownErrorListFilter | null | undefined {
  if (filter?.problemId && !isUuid(filter.problemId)) {
    throw graphqlError('VALIDATION_FAILED', 'filter.problemId is not a problem id', { field: 'filter.problemId', rule: 'uuid' });
  }
  return filter;
}

/** Ranked search: cursors are positions in the ranking (it has no stable key to resume from). */
async function searchKnownErrors(ctx: ProblemContext, search: string, first: number, after: string | null | undefined, filter: KnownErrorListFilter | null | undefined) {
  if (search.length > MAX_SEARCH_LENGTH) {
    throw graphqlError('VALIDATION_FAILED', `search must be at most ${MAX_SEARCH_LENGTH} characters`, { field: 'search', rule: 'maxLength' });
  }
  const offset = after ? Number(decodeCursor(after, 1)[0]) : 0;
  if (!Number.isInteger(offset) || offset < 0) throw graphqlError('VALIDATION_FAILED', 'after is not a cursor returned by this API', { field: 'after', rule: 'cursor' });
  const probe = { key: 'search', text: search, words: anyWordQuery(search) };
  const ranked = await rankKnownErrors(ctx.db, ctx.identity.tenantId, [probe], { limit: first + 1, offset, filter });
  const page = ranked.slice(0, first);
  for (const r of page) ctx.loaders.knownErrorById.prime(r.knownError.id, r.knownError);
  return {
    edges: page.map((r, i) => ({ cursor: encodeCursor([offset + i + 1]), node: r.knownError, score: r.score })),
    pageInfo: { hasNextPage: ranked.length > first, endCursor: page.length ? encodeCursor([offset + page.length]) : null },
    totalCount: () => countRankedKnownErrors(ctx.db, ctx.identity.tenantId, probe, filter),
  };
}

export const knownErrorQueries = {
  knownError: async (_: unknown, args: { id?: string | null; number?: string | null }, ctx: ProblemContext) => {
    if (args.id) return loadKnownError(ctx, args.id);
    if (args.number) return (await getKnownErrorByNumber(ctx.db, ctx.identity.tenantId, args.number)) ?? null;
    throw graphqlError('VALIDATION_FAILED', 'give id or number', { field: 'id', rule: 'required' });
  },
  knownErrors: async (
    _: unknown,
    args: { search?: string | null; first?: number | null; after?: string | null; filter?: KnownErrorListFilter | null },
    ctx: ProblemContext,
  ) => {
    const first = pageSize(args.first);
    const filter = checkFilter(args.filter);
    if (args.search?.trim()) return searchKnownErrors(ctx, args.search.trim(), first, args.after, filter);
    const after = args.after ? decodeCursor(args.after, 2) : undefined;
    const rows = await listKnownErrors(ctx.db, ctx.identity.tenantId, {
      filter,
      limit: first,
      after: after ? { createdAt: new Date(after[0] as string), id: String(after[1]) } : undefined,
    });
    for (const row of rows) ctx.loaders.knownErrorById.prime(row.id, row);
    const connection = toConnection(
      rows,
      first,
      (row) => encodeCursor([row.createdAt.toISOString(), row.id]),
      () => countKnownErrors(ctx.db, ctx.identity.tenantId, filter),
    );
    return { ...connection, edges: connection.edges.map((edge) => ({ ...edge, score: null })) };
  },
};

export const knownErrorResolvers = {
  __resolveReference: (ref: { id: string }, ctx: ProblemContext) => loadKnownError(ctx, ref.id),
  problem: (row: KnownErrorRow, _: unknown, ctx: ProblemContext) => (row.problemId ? ctx.loaders.problemById.load(row.problemId) : null),
  incidents: async (row: KnownErrorRow, _: unknown, ctx: ProblemContext) =>
    (await ctx.loaders.incidentIdsByKnownErrorId.load(row.id)).map((id) => ({ id })),
};
