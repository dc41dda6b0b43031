import type { ChangeContext } from '../context.js';
import type { CabVoteChoice } from '../domain/cab.js';
import type { RiskFactorsInput, RiskPolicy } from '../domain/risk.js';
import { decideChangeApproval } from '../services/approvals.js';
import { addChangeToCabAgenda, castCabVote, closeCabMeeting, createCabMeeting, removeCabMember, setCabMember, setCabPolicy, type CabBoardKind } from '../services/cab.js';
import { createChangeWindow, deleteChangeWindow, type CreateWindowInput } from '../services/calendar.js';
import { createChangeRequest, linkChange, updateChangeRequest, type ChangeFieldsInput, type CreateChangeInput } from '../services/changes.js';
import { assessChangeRisk, setRiskPolicy } from '../services/risk.js';
import { scheduleChangeRequest } from '../services/schedule.js';
import { changeTemplateState, createStandardChangeTemplate } from '../services/templates.js';
import { transitionChangeRequest, type TransitionChangeInput } from '../services/transitions.js';

type Input<T> = { input: T };

export const mutationResolvers = {
  // externalRef is for importers only: API clients cannot set it.
  createChangeRequest: (_: unknown, { input }: Input<CreateChangeInput>, ctx: ChangeContext) =>
    createChangeRequest(ctx.db, ctx.identity, { ...input, externalRef: undefined }),
  linkChangeToIncident: (_: unknown, { input }: Input<{ changeRequestId: string; incidentId: string }>, ctx: ChangeContext) =>
    linkChange(ctx.db, ctx.identity, input),
  linkChangeToProblem: (_: unknown, { input }: Input<{ changeRequestId: string; problemId: string }>, ctx: ChangeContext) =>
    linkChange(ctx.db, ctx.identity, input),
  updateChangeRequest: (_: unknown, { input }: Input<ChangeFieldsInput & { changeRequestId: string; version: number; title?: string | null }>, ctx: ChangeContext) =>
    updateChangeRequest(ctx.db, ctx.identity, input),
  transitionChangeRequest: (_: unknown, { input }: Input<TransitionChangeInput>, ctx: ChangeContext) => transitionChangeRequest(ctx.db, ctx.identity, input),
  scheduleChangeRequest: (_: unknown, { input }: Input<{ changeRequestId: string; version: number; plannedStart: Date; plannedEnd: Date }>, ctx: ChangeContext) =>
    scheduleChangeRequest(ctx.db, ctx.identity, input),
  assessChangeRisk: (_: unknown, { input }: Input<{ changeRequestId: string; factors: RiskFactorsInput }>, ctx: ChangeContext) =>
    assessChangeRisk(ctx.db, ctx.identity, input),
  decideChangeApproval: (
    _: unknown,
    { input }: Input<{ changeRequestId: string; version: number; decision: 'APPROVE' | 'REJECT'; comment?: string | null }>,
    ctx: ChangeContext,
  ) => decideChangeApproval(ctx.db, ctx.identity, input),
  setRiskPolicy: (_: unknown, { input }: Input<RiskPolicy>, ctx: ChangeContext) => setRiskPolicy(ctx.db, ctx.identity, input),
  setCabMember: (_: unknown, { input }: Input<{ board: CabBoardKind; userId: string; name: string; weight: number }>, ctx: ChangeContext) =>
    setCabMember(ctx.db, ctx.identity, input),
  removeCabMember: (_: unknown, { input }: Input<{ board: CabBoardKind; userId: string }>, ctx: ChangeContext) => removeCabMember(ctx.db, ctx.identity, input),
  setCabPolicy: (
    _: unknown,
    { input }: Input<{ board: CabBoardKind; quorum?: number | null; approvalThreshold: number; anyMemberApproves?: boolean | null }>,
    ctx: ChangeContext,
  ) => setCabPolicy(ctx.db, ctx.identity, input),
  createCabMeeting: (_: unknown, { input }: Input<{ board: CabBoardKind; title: string; scheduledAt: Date }>, ctx: ChangeContext) =>
    createCabMeeting(ctx.db, ctx.identity, input),
  addChangeToCabAgenda: (_: unknown, { input }: Input<{ meetingId: string; changeRequestId: string }>, ctx: ChangeContext) =>
    addChangeToCabAgenda(ctx.db, ctx.identity, input),
  castCabVote: (_: unknown, { input }: Input<{ meetingId: string; changeRequestId: string; vote: CabVoteChoice; comment?: string | null }>, ctx: ChangeContext) =>
    castCabVote(ctx.db, ctx.identity, input),
  closeCabMeeting: (_: unknown, { input }: Input<{ meetingId: string }>, ctx: ChangeContext) => closeCabMeeting(ctx.db, ctx.identity, input),
  createChangeWindow: (_: unknown, { input }: Input<CreateWindowInput>, ctx: ChangeContext) => createChangeWindow(ctx.db, ctx.identity, input),
  deleteChangeWindow: (_: unknown, { input }: Input<{ windowId: string }>, ctx: ChangeContext) => deleteChangeWindow(ctx.db, ctx.identity, input),
  createStandardChangeTemplate: (_: unknown, { input }: Input<Parameters<typeof createStandardChangeTemplate>[2]>, ctx: ChangeContext) =>
    createStandardChangeTemplate(ctx.db, ctx.identity, input),
  approveStandardChangeTemplate: (_: unknown, { input }: Input<{ templateId: string; version: number }>, ctx: ChangeContext) =>
    changeTemplateState(ctx.db, ctx.identity, input, 'APPROVED'),
  retireStandardChangeTemplate: (_: unknown, { input }: Input<{ templateId: string; version: number }>, ctx: ChangeContext) =>
    changeTemplateState(ctx.db, ctx.identity, input, 'RETIRED'),
};
