import DataLoader from 'dataloader';
import { manyByKey, oneByKey, type BaseSubgraphContext, type Db } from '@itsm/kit';
import {
  getHistoryByProblemIds,
  getKnownErrorLinksByIds,
  getKnownErrorsByIds,
  getKnownErrorsByIncidentIds,
  getKnownErrorsByProblemIds,
  getLinksByProblemIds,
  getProblemsByIds,
  getProblemsByIncidentIds,
  rankKnownErrors,
  type RankedKnownError,
} from './db/queries.js';
import type { KnownErrorRow, ProblemHistoryRow, ProblemIncidentRow, ProblemRow } from './db/schema.js';
import { anyWordQuery } from './domain/search.js';

/** Most matches `Incident.knownErrorMatches` returns. */
export const MAX_KNOWN_ERROR_MATCHES = 20;

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
    problemsByIncidentId: new DataLoader<string, ProblemRow[]>(async (ids) => {
      const groups = manyByKey(ids, await getProblemsByIncidentIds(db, tenantId, ids), (r) => r.incidentId);
      return groups.map((links) => links.map((l) => l.problem));
    }),
    historyByProblemId: new DataLoader<string, ProblemHistoryRow[]>(async (ids) => {
      return manyByKey(ids, await getHistoryByProblemIds(db, tenantId, ids), (r) => r.problemId);
    }),
    knownErrorById: new DataLoader<string, KnownErrorRow | null>(async (ids) => {
      return oneByKey(ids, await getKnownErrorsByIds(db, tenantId, ids), (r) => r.id);
    }),
    knownErrorsByProblemId: new DataLoader<string, KnownErrorRow[]>(async (ids) => {
      return manyByKey(ids, await getKnownErrorsByProblemIds(db, tenantId, ids), (r) => r.problemId!);
    }),
    incidentIdsByKnownErrorId: new DataLoader<string, string[]>(async (ids) => {
      const groups = manyByKey(ids, await getKnownErrorLinksByIds(db, tenantId, ids), (r) => r.knownErrorId);
      return groups.map((links) => links.map((l) => l.incidentId));
    }),
    knownErrorsByIncidentId: new DataLoader<string, KnownErrorRow[]>(async (ids) => {
      const groups = manyByKey(ids, await getKnownErrorsByIncidentIds(db, tenantId, ids), (r) => r.incidentId);
      return groups.map((links) => links.map((l) => l.knownError));
    }),
    /** Active known errors matching a text (an incident's title and description), best first: one statement per batch. */
    knownErrorMatchesByText: new DataLoader<string, RankedKnownError[]>(async (texts) => {
      const probes = texts.map((text, i) => ({ key: String(i), text, words: anyWordQuery(text) }));
      const ranked = await rankKnownErrors(db, tenantId, probes, { limit: MAX_KNOWN_ERROR_MATCHES, filter: { active: true } });
      return manyByKey(
        probes.map((p) => p.key),
        ranked,
        (r) => r.key,
      );
    }),
  };
}
