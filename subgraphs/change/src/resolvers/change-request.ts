import { internalNote, isUuid } from '@itsm/kit';
import type { ChangeContext } from '../context.js';
import { allowedTransitions, type ChangeState, type ChangeType } from '../domain/lifecycle.js';
import { RISK_FACTORS } from '../domain/risk.js';
import type { ChangeRequestRow, ChangeTransitionRow, RiskAssessmentRow } from '../db/schema.js';
import { loadChange } from './query.js';

/** Scores are shown with two decimals: 3.25, not 3.2499999999999996. */
function twoDecimals(value: number): number {
  return Math.round(value * 100) / 100;
}

/** technicalComplexity -> TECHNICAL_COMPLEXITY */
function factorEnum(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
}

export const changeRequestResolvers = {
  ChangeRequest: {
    __resolveReference: (ref: { id: string }, ctx: ChangeContext) => loadChange(ctx, ref.id),
    incidents: async (row: ChangeRequestRow, _: unknown, ctx: ChangeContext) => (await ctx.loaders.incidentIdsByChangeId.load(row.id)).map((id) => ({ id })),
    problems: async (row: ChangeRequestRow, _: unknown, ctx: ChangeContext) => (await ctx.loaders.problemIdsByChangeId.load(row.id)).map((id) => ({ id })),
    template: (row: ChangeRequestRow, _: unknown, ctx: ChangeContext) => (row.templateId ? ctx.loaders.templateById.load(row.templateId) : null),
    dependsOn: (row: ChangeRequestRow, _: unknown, ctx: ChangeContext) => ctx.loaders.dependenciesByChangeId.load(row.id),
    riskScore: (row: ChangeRequestRow) => (row.riskScore === null ? null : twoDecimals(row.riskScore)),
    riskAssessment: async (row: ChangeRequestRow, _: unknown, ctx: ChangeContext) => (await ctx.loaders.riskAssessmentsByChangeId.load(row.id))[0] ?? null,
    riskAssessments: (row: ChangeRequestRow, _: unknown, ctx: ChangeContext) => ctx.loaders.riskAssessmentsByChangeId.load(row.id),
    approvals: (row: ChangeRequestRow, _: unknown, ctx: ChangeContext) => ctx.loaders.approvalsByChangeId.load(row.id),
    cabVotes: (row: ChangeRequestRow, _: unknown, ctx: ChangeContext) => ctx.loaders.votesByChangeId.load(row.id),
    transitions: (row: ChangeRequestRow, _: unknown, ctx: ChangeContext) => ctx.loaders.transitionsByChangeId.load(row.id),
    allowedTransitions: (row: ChangeRequestRow) => allowedTransitions(row.type as ChangeType, row.state as ChangeState),
    conflicts: async (row: ChangeRequestRow, args: { includeResolved?: boolean | null }, ctx: ChangeContext) => {
      const conflicts = await ctx.loaders.conflictsByChangeId.load(row.id);
      return args.includeResolved ? conflicts : conflicts.filter((c) => c.resolvedAt === null);
    },
  },
  ChangeTransition: {
    from: (row: ChangeTransitionRow) => row.fromState,
    to: (row: ChangeTransitionRow) => row.toState,
    // An internal note: null for a read-only partner.
    comment: (row: ChangeTransitionRow, _: unknown, ctx: ChangeContext) => internalNote(ctx.identity, row.comment),
  },
  RiskAssessment: {
    score: (row: RiskAssessmentRow) => twoDecimals(row.score),
    factors: async (row: RiskAssessmentRow, _: unknown, ctx: ChangeContext) => {
      const factors = await ctx.loaders.factorsByAssessmentId.load(row.id);
      return RISK_FACTORS.flatMap((name) => factors.filter((f) => f.factor === name).map((f) => ({ ...f, factor: factorEnum(f.factor) })));
    },
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
