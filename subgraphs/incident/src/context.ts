import DataLoader from 'dataloader';
import { manyByKey, oneByKey, type BaseSubgraphContext, type Db } from '@itsm/kit';
import { getHistoryByIncidentIds, getIncidentsByIds } from './db/queries.js';
import type { IncidentHistoryRow, IncidentRow } from './db/schema.js';

/** Per-request context of the incident subgraph: identity, database and this request's loaders. */
export interface IncidentContext extends BaseSubgraphContext {
  db: Db;
  loaders: ReturnType<typeof createLoaders>;
}

/** DataLoaders live for one request, so caches never cross callers or tenants. */
export function createLoaders(db: Db, tenantId: string) {
  return {
    incidentById: new DataLoader<string, IncidentRow | null>(async (ids) => {
      return oneByKey(ids, await getIncidentsByIds(db, tenantId, ids), (r) => r.id);
    }),
    historyByIncidentId: new DataLoader<string, IncidentHistoryRow[]>(async (ids) => {
      return manyByKey(ids, await getHistoryByIncidentIds(db, tenantId, ids), (r) => r.incidentId);
    }),
  };
}
