import DataLoader from 'dataloader';
import { manyByKey, oneByKey, type BaseSubgraphContext, type Db } from '@itsm/kit';
import { countLinksByProblemIds, getLinksByProblemIds, getProblemsByIds, getProblemsByIncidentIds } from './db/queries.js';
import type { ProblemIncidentRow, ProblemRow } from './db/schema.js';

/** Per-request context of the problem subgraph. */
export interface ProblemContext extends BaseSubgraphContext {
  db: Db;
  loaders: ReturnType<typeof createLoaders>;
}

/** DataLoaders live for one request, so caches never cross callers or tenants. */
export function createLoaders(db: Db, tenantId: string) {
  return {
    problemById: new DataLoader<string, ProblemRow | null>(async (ids) => {
      return oneByKey(ids, await getProblemsByIds(db, tenantId, ids), (r) => r.id);
    }),
    linksByProblemId: new DataLoader<string, ProblemIncidentRow[]>(async (ids) => {
      return manyByKey(ids, await getLinksByProblemIds(db, tenantId, ids), (r) => r.problemId);
    }),
    incidentCountByProblemId: new DataLoader<string, number>(async (ids) => {
      const counts = oneByKey(ids, await countLinksByProblemIds(db, tenantId, ids), (r) => r.problemId);
      return counts.map((c) => c?.n ?? 0);
    }),
    problemsByIncidentId: new DataLoader<string, ProblemRow[]>(async (ids) => {
      const groups = manyByKey(ids, await getProblemsByIncidentIds(db, tenantId, ids), (r) => r.incidentId);
      return groups.map((links) => links.map((l) => l.problem));
    }),
  };
}
