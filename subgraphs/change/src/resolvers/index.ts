import { DateTimeScalar, decodeCursor, encodeCursor, graphqlError, isUuid, mutationErrorResolvers, pageSize, toConnection } from '@itsm/kit';
import type { ChangeContext } from '../context.js';
import { countChanges, getChangeBy, listChanges, type ChangeListFilter } from '../db/queries.js';
import type { ChangeRequestRow } from '../db/schema.js';
import { createChangeRequest, linkChange, type CreateChangeInput } from '../services/changes.js';

function cursorOf(row: ChangeRequestRow): string {
  return encodeCursor([row.openedAt.toISOString(), row.id]);
}

function loadChange(ctx: ChangeContext, id: string) {
  return isUuid(id) ? ctx.loaders.changeById.load(id) : Promise.resolve(null);
}

export const resolvers = {
  DateTime: DateTimeScalar,
  ...mutationErrorResolvers,
  Query: {
    changeRequest: async (_: unknown, args: { id?: string | null; number?: string | null }, ctx: ChangeContext) => {
      if (args.id) return loadChange(ctx, args.id);
      if (args.number) return (await getChangeBy(ctx.db, ctx.identity.tenantId, { number: args.number })) ?? null;
      throw graphqlError('VALIDATION_FAILED', 'give id or number', { field: 'id', rule: 'required' });
    },
    changeRequests: async (_: unknown, args: { first?: number | null; after?: string | null; filter?: ChangeListFilter | null }, ctx: ChangeContext) => {
      const first = pageSize(args.first);
      const after = args.after ? decodeCursor(args.after, 2) : undefined;
      const rows = await listChanges(ctx.db, ctx.identity.tenantId, {
        filter: args.filter,
        limit: first,
        after: after ? { openedAt: new Date(after[0] as string), id: String(after[1]) } : undefined,
      });
      for (const row of rows) ctx.loaders.changeById.prime(row.id, row);
      return toConnection(rows, first, cursorOf, () => countChanges(ctx.db, ctx.identity.tenantId, args.filter));
    },
  },
  Mutation: {
    createChangeRequest: (_: unknown, { input }: { input: CreateChangeInput }, ctx: ChangeContext) =>
      createChangeRequest(ctx.db, ctx.identity, { ...input, externalRef: undefined }),
    linkChangeToIncident: (_: unknown, { input }: { input: { changeRequestId: string; incidentId: string } }, ctx: ChangeContext) =>
      linkChange(ctx.db, ctx.identity, input),
    linkChangeToProblem: (_: unknown, { input }: { input: { changeRequestId: string; problemId: string } }, ctx: ChangeContext) =>
      linkChange(ctx.db, ctx.identity, input),
  },
  ChangeRequest: {
    __resolveReference: (ref: { id: string }, ctx: ChangeContext) => loadChange(ctx, ref.id),
    incidents: async (row: ChangeRequestRow, _: unknown, ctx: ChangeContext) =>
      (await ctx.loaders.incidentIdsByChangeId.load(row.id)).map((id) => ({ id })),
    problems: async (row: ChangeRequestRow, _: unknown, ctx: ChangeContext) =>
      (await ctx.loaders.problemIdsByChangeId.load(row.id)).map((id) => ({ id })),
  },
  Incident: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    relatedChanges: (ref: { id: string }, _: unknown, ctx: ChangeContext) => (isUuid(ref.id) ? ctx.loaders.changesByIncidentId.load(ref.id) : []),
  },
  Problem: {
    __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
    changes: (ref: { id: string }, _: unknown, ctx: ChangeContext) => (isUuid(ref.id) ? ctx.loaders.changesByProblemId.load(ref.id) : []),
  },
};
