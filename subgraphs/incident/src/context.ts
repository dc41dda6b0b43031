import DataLoader from 'dataloader';
import { manyByKey, oneByKey, type BaseSubgraphContext, type Db } from '@itsm/kit';
import { getHistoryByIncidentIds, getIncidentsByIds } from './db/queries.js';
import type { BusinessCalendarRow, IncidentHistoryRow, IncidentRow, SlaPolicyRow, SlaPolicyTargetRow, TaskSlaRow } from './db/schema.js';
import { getCalendarsByIds, getPoliciesByIds, getSlasByIncidentIds, getTargetsByPolicyIds } from './db/sla-queries.js';

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
    slasByIncidentId: new DataLoader<string, TaskSlaRow[]>(async (ids) => {
      return manyByKey(ids, await getSlasByIncidentIds(db, tenantId, ids), (r) => r.incidentId);
    }),
    calendarById: new DataLoader<string, BusinessCalendarRow | null>(async (ids) => {
      return oneByKey(ids, await getCalendarsByIds(db, tenantId, ids), (r) => r.id);
    }),
    policyById: new DataLoader<string, SlaPolicyRow | null>(async (ids) => {
      return oneByKey(ids, await getPoliciesByIds(db, tenantId, ids), (r) => r.id);
    }),
    targetsByPolicyId: new DataLoader<string, SlaPolicyTargetRow[]>(async (ids) => {
      return manyByKey(ids, await getTargetsByPolicyIds(db, tenantId, ids), (r) => r.policyId);
    }),
  };
}
