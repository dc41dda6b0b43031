import type { GraphQLDataSourceProcessOptions, RemoteGraphQLDataSource } from '@apollo/gateway';

type GatewayGraphQLResponse = Awaited<ReturnType<RemoteGraphQLDataSource['process']>>;

type Process<TContext extends Record<string, any>> = (options: GraphQLDataSourceProcessOptions<TContext>) => Promise<GatewayGraphQLResponse>;

/**
 * Sends each distinct entity representation once: 50 incidents pointing at 10 problems become 10 representations,
 * and the answer is fanned back out to the positions the query planner expects (errors on `_entities.i` included).
 */
export function dedupeRepresentations<TContext extends Record<string, any>>(process: Process<TContext>): Process<TContext> {
  return async (options) => {
    const variables = options.request.variables;
    const representations = variables?.representations;
    if (!Array.isArray(representations) || representations.length < 2) return process(options);
    const slotOf = new Map<string, number>();
    const unique: unknown[] = [];
    const slots = representations.map((representation) => {
      const key = JSON.stringify(representation);
      let slot = slotOf.get(key);
      if (slot === undefined) {
        slot = unique.push(representation) - 1;
        slotOf.set(key, slot);
      }
      return slot;
    });
    if (unique.length === representations.length) return process(options);
    const response = await process({ ...options, request: { ...options.request, variables: { ...variables, representations: unique } } });
    const entities = (response.data as { _entities?: unknown[] } | null | undefined)?._entities;
    if (Array.isArray(entities)) {
      const used = new Set<number>();
      // The gateway merges into what it gets; a repeated entity gets its own copy so merges never alias.
      (response.data as { _entities: unknown[] })._entities = slots.map((slot) => (used.has(slot) ? structuredClone(entities[slot]) : (used.add(slot), entities[slot])));
    }
    if (response.errors?.length) {
      response.errors = response.errors.flatMap((error: NonNullable<GatewayGraphQLResponse['errors']>[number]) => {
        const path = error.path;
        if (!path || path[0] !== '_entities' || typeof path[1] !== 'number') return [error];
        return slots.flatMap((slot, index) => (slot === path[1] ? [{ ...error, path: ['_entities', index, ...path.slice(2)] }] : []));
      });
    }
    return response;
  };
}
