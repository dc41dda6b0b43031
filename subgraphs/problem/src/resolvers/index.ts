import { DateTimeScalar, decodeCursor, encodeCursor, graphqlError, isUuid, mutationErrorResolvers, pageSize, toConnection } from '@itsm/kit';
import type { ProblemContext } from '../context.js';
import { countProblems, getProblemBy, listProblems, type ProblemListFilter } from '../db/queries.js';
import type { ProblemRow } from '../db/schema.js';
import { createProblem, linkIncident, type CreateProblemInput } from '../services/problems.js';

function cursorOf(row: ProblemRow): string {
  return encodeCursor([row.openedAt.toISOString(), row.id]);
}

function loadProblem(ctx: ProblemContext, id: string) {
  return isUuid(id) ? ctx.loaders.problemById.load(id) : Promise.resolve(null);
}

export const resolvers = {
  DateTime: DateTimeScalar,
  ...mutationErrorResolvers,
  Query: {
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
  },
  Mutation: {
    createProblem: (_: unknown, { input }: { input: CreateProblemInput }, ctx: ProblemContext) =>
      createProblem(ctx.db, ctx.identity, { ...input, externalRef: undefined }),
    linkIncidentToProblem: (_: unknown, { input }: { input: { problemId: string; incidentId: string; relation: string } }, ctx: ProblemContext) =>
      linkIncident(ctx.db, ctx.identity, input),
  },
  Problem: {
    __resolveReference: (ref: { id: string }, ctx: ProblemContext) => loadProblem(ctx, ref.id),
    incidentCount: (row: ProblemRow, _: unknown, ctx: ProblemContext) => ctx.loaders.incidentCountByProblemId.load(row.id),
    incidents: async (row: ProblemRow, _: unknown, ctx: ProblemContext) =>
      (await ctx.loaders.linksByProblemId.load(row.id)).map((link) => ({ id: link.incidentId })),
    incidentLinks: async (row: ProblemRow, _: unknown, ctx: ProblemContext) =>
      (await ctx.loaders.linksByProblemId.load(row.id)).map((link) => ({ ...link, incident: { id: link.incidentId } })),
  },
  Incident: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    problem: async (ref: { id: string }, _: unknown, ctx: ProblemContext) =>
      isUuid(ref.id) ? ((await ctx.loaders.problemsByIncidentId.load(ref.id))[0] ?? null) : null,
    problems: (ref: { id: string }, _: unknown, ctx: ProblemContext) =>
      isUuid(ref.id) ? ctx.loaders.problemsByIncidentId.load(ref.id) : [],
  },
};
