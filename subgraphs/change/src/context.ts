import DataLoader from 'dataloader';
import { manyByKey, oneByKey, type BaseSubgraphContext, type Db } from '@itsm/kit';
import { getApprovalsByChangeIds, getAgendaItemsByMeetingIds, getCabMeetingsByIds, getVotesByChangeIds, getVotesByMeetingIds } from './db/cab-queries.js';
import { getConflictsByChangeIds } from './db/conflict-queries.js';
import {
  getChangesByIds,
  getChangesByIncidentIds,
  getChangesByProblemIds,
  getDependenciesByChangeIds,
  getIncidentLinksByChangeIds,
  getProblemLinksByChangeIds,
  getTransitionsByChangeIds,
} from './db/queries.js';
import { getFactorsByAssessmentIds, getRiskAssessmentsByChangeIds } from './db/risk-queries.js';
import type {
  CabAgendaItemRow,
  CabMeetingRow,
  CabVoteRow,
  ChangeApprovalRow,
  ChangeConflictRow,
  ChangeRequestRow,
  ChangeTransitionRow,
  ChangeWindowRow,
  RiskAssessmentFactorRow,
  RiskAssessmentRow,
  StandardChangeTemplateRow,
} from './db/schema.js';
import { getTemplatesByIds } from './db/template-queries.js';
import { getWindowsByIds } from './db/window-queries.js';

/** Per-request context of the change subgraph. */
export interface ChangeContext extends BaseSubgraphContext {
  db: Db;
  loaders: ReturnType<typeof createLoaders>;
}

/** DataLoaders live for one request, so caches never cross callers or tenants. */
export function createLoaders(db: Db, tenantId: string) {
  const many = <K, R>(load: (keys: readonly K[]) => Promise<R[]>, keyOf: (row: R) => K) =>
    new DataLoader<K, R[]>(async (keys) => manyByKey(keys, await load(keys), keyOf));
  const one = <R extends { id: string }>(load: (keys: readonly string[]) => Promise<R[]>) =>
    new DataLoader<string, R | null>(async (keys) => oneByKey(keys, await load(keys), (r) => r.id));
  return {
    changeById: one<ChangeRequestRow>((ids) => getChangesByIds(db, tenantId, ids)),
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
    dependenciesByChangeId: new DataLoader<string, ChangeRequestRow[]>(async (ids) =>
      manyByKey(ids, await getDependenciesByChangeIds(db, tenantId, ids), (r) => r.changeId).map((g) => g.map((d) => d.dependency)),
    ),
    transitionsByChangeId: many<string, ChangeTransitionRow>((ids) => getTransitionsByChangeIds(db, tenantId, ids), (r) => r.changeId),
    riskAssessmentsByChangeId: many<string, RiskAssessmentRow>((ids) => getRiskAssessmentsByChangeIds(db, tenantId, ids), (r) => r.changeId),
    factorsByAssessmentId: many<string, RiskAssessmentFactorRow>((ids) => getFactorsByAssessmentIds(db, tenantId, ids), (r) => r.assessmentId),
    approvalsByChangeId: many<string, ChangeApprovalRow>((ids) => getApprovalsByChangeIds(db, tenantId, ids), (r) => r.changeId),
    votesByChangeId: many<string, CabVoteRow>((ids) => getVotesByChangeIds(db, tenantId, ids), (r) => r.changeId),
    votesByMeetingId: many<string, CabVoteRow>((ids) => getVotesByMeetingIds(db, tenantId, ids), (r) => r.meetingId),
    conflictsByChangeId: many<string, ChangeConflictRow>((ids) => getConflictsByChangeIds(db, tenantId, ids), (r) => r.changeId),
    agendaByMeetingId: many<string, CabAgendaItemRow>((ids) => getAgendaItemsByMeetingIds(db, tenantId, ids), (r) => r.meetingId),
    templateById: one<StandardChangeTemplateRow>((ids) => getTemplatesByIds(db, tenantId, ids)),
    windowById: one<ChangeWindowRow>((ids) => getWindowsByIds(db, tenantId, ids)),
    meetingById: one<CabMeetingRow>((ids) => getCabMeetingsByIds(db, tenantId, ids)),
  };
}
