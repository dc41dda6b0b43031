import { internalNote, readsInternalNotes } from '@itsm/kit';
import type { ChangeContext } from '../context.js';
import type { CabAgendaItemRow, CabMeetingRow, CabVoteRow, ChangeApprovalRow } from '../db/schema.js';
import { tallyAgendaItem, type CabBoardView } from '../services/cab.js';

type AgendaItem = CabAgendaItemRow & { meeting: CabMeetingRow };

export const cabResolvers = {
  CabBoard: {
    members: (view: CabBoardView) => view.members,
    quorum: (view: CabBoardView) => view.policy.quorum,
    anyMemberApproves: (view: CabBoardView) => view.policy.mode === 'ANY_MEMBER_APPROVES',
  },
  CabMeeting: {
    agenda: async (meeting: CabMeetingRow, _: unknown, ctx: ChangeContext): Promise<AgendaItem[]> =>
      (await ctx.loaders.agendaByMeetingId.load(meeting.id)).map((item) => ({ ...item, meeting })),
  },
  CabAgendaItem: {
    changeRequest: (item: AgendaItem, _: unknown, ctx: ChangeContext) => ctx.loaders.changeById.load(item.changeId),
    votes: async (item: AgendaItem, _: unknown, ctx: ChangeContext) =>
      (await ctx.loaders.votesByMeetingId.load(item.meetingId)).filter((vote) => vote.changeId === item.changeId),
    tally: (item: AgendaItem, _: unknown, ctx: ChangeContext) => tallyAgendaItem(ctx.db, ctx.identity.tenantId, item.meeting, item.changeId),
  },
  CabVote: {
    meeting: (vote: CabVoteRow, _: unknown, ctx: ChangeContext) => ctx.loaders.meetingById.load(vote.meetingId),
    changeRequest: (vote: CabVoteRow, _: unknown, ctx: ChangeContext) => ctx.loaders.changeById.load(vote.changeId),
    // CAB members' comments are internal notes: null for a read-only partner.
    comment: (vote: CabVoteRow, _: unknown, ctx: ChangeContext) => internalNote(ctx.identity, vote.comment),
  },
  ChangeApproval: {
    meeting: (approval: ChangeApprovalRow, _: unknown, ctx: ChangeContext) => (approval.meetingId ? ctx.loaders.meetingById.load(approval.meetingId) : null),
    // The change manager's comment is an internal note: a read-only partner sees neither it nor its copy in the reason.
    comment: (approval: ChangeApprovalRow, _: unknown, ctx: ChangeContext) => internalNote(ctx.identity, approval.comment),
    reason: (approval: ChangeApprovalRow, _: unknown, ctx: ChangeContext) =>
      readsInternalNotes(ctx.identity) || !approval.comment ? approval.reason : approval.reason.replace(`: ${approval.comment}`, ''),
  },
};
