import DataLoader from 'dataloader';
import { manyByKey, oneByKey, type BaseSubgraphContext, type Db } from '@itsm/kit';
import {
  getChangesByIds,
  getChangesByIncidentIds,
  getChangesByProblemIds,
  getIncidentLinksByChangeIds,
  getProblemLinksByChangeIds,
} from './db/queries.js';
import type { ChangeRequestRow } from './db/schema.js';

/** Per-request context of the change subgraph. */
export interface ChangeContext extends BaseSubgraphContext {
  db: Db;
  loaders: ReturnType<typeof createLoaders>;
}

/** DataLoaders live for one request, so caches never cross callers or tenants. */
export function createLoaders(db: Db, tenantId: string) {
  return {
    changeById: new DataLoader<string, ChangeRequestRow | null>(async (ids) =>
      oneByKey(ids, await getChangesByIds(db, tenantId, ids), (r) => r.id),
    ),
    incidentIdsByChangeId: new DataLoader<string, string[]>(async (ids) =>
      manyByKey(ids, await getIncidentLinksByChangeIds(db, tenantId, ids), (r) => r.changeId).map((g) => g.map((l) => l.incidentId)),
    ),
    problemIdsByChangeId: new DataLoader<string, string[]>(async (ids) =>
      manyByKey(ids, await getProblemLinksByChangeIds(db, tenantId, ids), (r) => r.changeId).map((g) => g.map((l) => l.problemId)),
    ),
    changesByIncidentId: new DataLoader<string, ChangeRequestRow[]>(async (ids) =>
      manyByKey(ids, await getChangesByIncidentIds(db, tenantId, ids), (r) => r.incidentId).map((g) => g.map((l) => l.change)),
    ),
    changesByProblemId: new DataLoader<string, ChangeRequestRow[]>(async (ids) =>
      manyByKey(ids, await getChangesByProblemIds(db, tenantId, ids), (r) => r.problemId).map((g) => g.map((l) => l.change)),
    ),
  };
}
