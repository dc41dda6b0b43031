import { graphqlError, isUuid } from '@itsm/kit';
import { MAX_KNOWN_ERROR_MATCHES, type ProblemContext } from '../context.js';
import { incidentSearchText } from '../domain/search.js';

/** The incident entity as the gateway sends it: its key, plus title and description where a field @requires them. */
interface IncidentRef {
  id: string;
  title?: string;
  description?: string | null;
}

export const incidentResolvers = {
  __resolveReference: (ref: IncidentRef) => ref,
  problem: async (ref: IncidentRef, _: unknown, ctx: ProblemContext) =>
    isUuid(ref.id) ? ((await ctx.loaders.problemsByIncidentId.load(ref.id))[0] ?? null) : null,
  problems: (ref: IncidentRef, _: unknown, ctx: ProblemContext) => (isUuid(ref.id) ? ctx.loaders.problemsByIncidentId.load(ref.id) : []),
  knownErrors: (ref: IncidentRef, _: unknown, ctx: ProblemContext) => (isUuid(ref.id) ? ctx.loaders.knownErrorsByIncidentId.load(ref.id) : []),
  knownErrorMatches: async (ref: IncidentRef, args: { first: number }, ctx: ProblemContext) => {
    if (!Number.isInteger(args.first) || args.first < 1 || args.first > MAX_KNOWN_ERROR_MATCHES) {
      throw graphqlError('VALIDATION_FAILED', `first must be between 1 and ${MAX_KNOWN_ERROR_MATCHES}`, { field: 'first', rule: 'range' });
    }
    if (ref.title === undefined) return [];
    const matches = await ctx.loaders.knownErrorMatchesByText.load(incidentSearchText(ref.title, ref.description));
    for (const m of matches) ctx.loaders.knownErrorById.prime(m.knownError.id, m.knownError);
    return matches.slice(0, args.first);
  },
};
