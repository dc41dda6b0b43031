import { hasRole, isUuid, payloadErrors, type Db, type Identity, type PayloadError } from '@itsm/kit';
import { checkVote, EMERGENCY_CAB_POLICY, tallyCabVotes, type CabPolicy, type CabTally, type CabVoteChoice } from '../domain/cab.js';
import {
  appendAgendaItems,
  closeCabMeetingRow,
  deleteCabMember,
  getAgendaItem,
  getAgendaItemsByMeetingIds,
  getCabBoard,
  getCabMembers,
  getVotesForAgendaItem,
  insertCabMeeting,
  insertCabVote,
  lockCabMeeting,
  setAgendaDecision,
  upsertCabBoard,
  upsertCabMember,
} from '../db/cab-queries.js';
import { getChangeForUpdate, getChangesAwaitingApproval, getChangesByIds } from '../db/queries.js';
import type { CabMeetingRow, CabMemberRow, CabVoteRow, ChangeRequestRow } from '../db/schema.js';
import { applyApprovalDecision } from './approvals.js';
import { CAB_VOTER_ROLES, CHANGE_MANAGER_ROLES, optionalText, Refusal, isRefused, transact, type ChangePayloadError } from './common.js';

export const CAB_BOARDS = ['CAB', 'EMERGENCY_CAB'] as const;
export type CabBoardKind = (typeof CAB_BOARDS)[number];

/** A board as the API shows it: members and the policy in force. */
export interface CabBoardView {
  board: CabBoardKind;
  members: CabMemberRow[];
  policy: CabPolicy;
  /** The stored threshold (0.5 by default); only weighted boards use it. */
  approvalThreshold: number;
  customised: boolean;
}

const MAX_NAME = 200;
const MAX_TITLE = 255;
const MAX_COMMENT = 4000;
const MAX_WEIGHT = 1000;

/** More than half of the members: the default quorum of the CAB. */
function majority(memberCount: number): number {
  return Math.floor(memberCount / 2) + 1;
}

/** The board's members and the rules in force (stored, or the defaults: CAB majority and > 50 %, ECAB any member). */
export async function getCabBoardView(db: Db, tenantId: string, board: CabBoardKind): Promise<CabBoardView> {
  const [row, members] = await Promise.all([getCabBoard(db, tenantId, board), getCabMembers(db, tenantId, board)]);
  if (!row) {
    const policy: CabPolicy = board === 'EMERGENCY_CAB' ? EMERGENCY_CAB_POLICY : { mode: 'WEIGHTED_THRESHOLD', quorum: majority(members.length), approvalThreshold: 0.5 };
    return { board, members, policy, approvalThreshold: 0.5, customised: false };
  }
  const quorum = row.quorum ?? majority(members.length);
  const policy: CabPolicy =
    row.mode === 'ANY_MEMBER_APPROVES' ? { mode: 'ANY_MEMBER_APPROVES', quorum } : { mode: 'WEIGHTED_THRESHOLD', quorum, approvalThreshold: row.approvalThreshold };
  return { board, members, policy, approvalThreshold: row.approvalThreshold, customised: true };
}

type BoardResult = { cabBoard: CabBoardView; errors: [] } | { cabBoard: null; errors: PayloadError[] };

/** Adds a member to a board or changes their name and weight (change manager). */
export async function setCabMember(
  db: Db,
  identity: Identity,
  input: { board: CabBoardKind; userId: string; name: string; weight: number },
  now = new Date(),
): Promise<BoardResult> {
  if (!hasRole(identity, CHANGE_MANAGER_ROLES)) return { cabBoard: null, errors: [payloadErrors.forbidden(CHANGE_MANAGER_ROLES)] };
  const userId = input.userId.trim();
  const name = input.name.trim();
  const errors: PayloadError[] = [];
  if (!userId || userId.length > MAX_NAME) errors.push(payloadErrors.validation({ field: 'input.userId', rule: 'required', message: `userId must be 1 to ${MAX_NAME} characters` }));
  if (!name || name.length > MAX_NAME) errors.push(payloadErrors.validation({ field: 'input.name', rule: 'required', message: `name must be 1 to ${MAX_NAME} characters` }));
  if (!(Number.isFinite(input.weight) && input.weight > 0 && input.weight <= MAX_WEIGHT)) {
    errors.push(payloadErrors.validation({ field: 'input.weight', rule: 'range', message: `weight must be greater than 0 and at most ${MAX_WEIGHT}` }));
  }
  if (errors.length) return { cabBoard: null, errors };
  await upsertCabMember(db, { tenantId: identity.tenantId, board: input.board, userId, name, weight: input.weight, addedBy: identity.userId, addedAt: now });
  return { cabBoard: await getCabBoardView(db, identity.tenantId, input.board), errors: [] };
}

/** Removes a member from a board (change manager); the votes they cast stay. */
export async function removeCabMember(db: Db, identity: Identity, input: { board: CabBoardKind; userId: string }): Promise<BoardResult> {
  if (!hasRole(identity, CHANGE_MANAGER_ROLES)) return { cabBoard: null, errors: [payloadErrors.forbidden(CHANGE_MANAGER_ROLES)] };
  const removed = await deleteCabMember(db, identity.tenantId, input.board, input.userId);
  if (!removed) return { cabBoard: null, errors: [payloadErrors.notFound(`${input.board} member`, input.userId)] };
  return { cabBoard: await getCabBoardView(db, identity.tenantId, input.board), errors: [] };
}

/** Sets a board's quorum (null: majority) and threshold (change manager); a quorum above the member count is refused. */
export async function setCabPolicy(
  db: Db,
  identity: Identity,
  input: { board: CabBoardKind; quorum?: number | null; approvalThreshold: number; anyMemberApproves?: boolean | null },
  now = new Date(),
): Promise<BoardResult> {
  if (!hasRole(identity, CHANGE_MANAGER_ROLES)) return { cabBoard: null, errors: [payloadErrors.forbidden(CHANGE_MANAGER_ROLES)] };
  const members = await getCabMembers(db, identity.tenantId, input.board);
  const errors: PayloadError[] = [];
  if (input.quorum != null && !(Number.isInteger(input.quorum) && input.quorum >= 1 && input.quorum <= Math.max(1, members.length))) {
    errors.push(payloadErrors.validation({ field: 'input.quorum', rule: 'range', message: `quorum must be a whole number from 1 to the ${members.length} members of the board` }));
  }
  if (!(input.approvalThreshold >= 0 && input.approvalThreshold < 1)) {
    errors.push(payloadErrors.validation({ field: 'input.approvalThreshold', rule: 'range', message: 'approvalThreshold must be at least 0 and below 1' }));
  }
  if (errors.length) return { cabBoard: null, errors };
  const anyMember = input.anyMemberApproves ?? input.board === 'EMERGENCY_CAB';
  await upsertCabBoard(db, {
    tenantId: identity.tenantId,
    board: input.board,
    mode: anyMember ? 'ANY_MEMBER_APPROVES' : 'WEIGHTED_THRESHOLD',
    quorum: input.quorum ?? null,
    approvalThreshold: input.approvalThreshold,
    updatedBy: identity.userId,
    updatedAt: now,
  });
  return { cabBoard: await getCabBoardView(db, identity.tenantId, input.board), errors: [] };
}

type MeetingResult = { cabMeeting: CabMeetingRow; errors: [] } | { cabMeeting: null; errors: ChangePayloadError[] };

/** Convenes a meeting whose agenda is every change awaiting this board's authorisation (change manager). */
export async function createCabMeeting(
  db: Db,
  identity: Identity,
  input: { board: CabBoardKind; title: string; scheduledAt: Date },
  now = new Date(),
): Promise<MeetingResult> {
  if (!hasRole(identity, CHANGE_MANAGER_ROLES)) return { cabMeeting: null, errors: [payloadErrors.forbidden(CHANGE_MANAGER_ROLES)] };
  const title = input.title.trim();
  if (!title || title.length > MAX_TITLE) {
    return { cabMeeting: null, errors: [payloadErrors.validation({ field: 'input.title', rule: 'required', message: `title must be 1 to ${MAX_TITLE} characters` })] };
  }
  return db.transaction(async (tx) => {
    const meeting = await insertCabMeeting(tx, {
      tenantId: identity.tenantId,
      board: input.board,
      title,
      scheduledAt: input.scheduledAt,
      state: 'OPEN',
      createdBy: identity.userId,
      createdAt: now,
    });
    const awaiting = await getChangesAwaitingApproval(tx, identity.tenantId, input.board);
    await appendAgendaItems(tx, identity.tenantId, meeting.id, awaiting.map((c) => c.id));
    return { cabMeeting: meeting, errors: [] as [] };
  });
}

/** Puts a change awaiting this board's authorisation on an open meeting's agenda (change manager). */
export async function addChangeToCabAgenda(db: Db, identity: Identity, input: { meetingId: string; changeRequestId: string }): Promise<MeetingResult> {
  if (!hasRole(identity, CHANGE_MANAGER_ROLES)) return { cabMeeting: null, errors: [payloadErrors.forbidden(CHANGE_MANAGER_ROLES)] };
  const result = await transact(db, async (tx) => {
    const meeting = await openMeeting(tx, identity.tenantId, input.meetingId);
    const [change] = isUuid(input.changeRequestId) ? await getChangesByIds(tx, identity.tenantId, [input.changeRequestId]) : [];
    if (!change) throw new Refusal([payloadErrors.notFound('change request', input.changeRequestId)]);
    assertAwaiting(change, meeting);
    await appendAgendaItems(tx, identity.tenantId, meeting.id, [change.id]);
    return { cabMeeting: meeting, errors: [] as [] };
  });
  return isRefused(result) ? { cabMeeting: null, errors: result.refused } : result;
}

async function openMeeting(tx: Db, tenantId: string, meetingId: string): Promise<CabMeetingRow> {
  const meeting = isUuid(meetingId) ? await lockCabMeeting(tx, tenantId, meetingId) : undefined;
  if (!meeting) throw new Refusal([payloadErrors.notFound('CAB meeting', meetingId)]);
  if (meeting.state !== 'OPEN') throw new Refusal([payloadErrors.conflict(`meeting "${meeting.title}" is closed`)]);
  return meeting;
}

function assertAwaiting(change: ChangeRequestRow, meeting: CabMeetingRow): void {
  if (change.state !== 'AUTHORIZE' || change.approvalStatus !== 'PENDING' || change.approvalPath !== meeting.board) {
    throw new Refusal([
      payloadErrors.conflict(`${change.number} is not awaiting ${meeting.board === 'CAB' ? 'CAB' : 'emergency CAB'} authorisation (${change.state}, ${change.approvalStatus}, ${change.approvalPath ?? 'no approval path'})`),
    ]);
  }
}

function votesForTally(votes: readonly CabVoteRow[]) {
  return votes.map((v) => ({ memberId: v.memberId, vote: v.vote as CabVoteChoice }));
}

/** The tally of one agenda item's votes under the board's current members and rules. */
export async function tallyAgendaItem(db: Db, tenantId: string, meeting: CabMeetingRow, changeId: string): Promise<CabTally> {
  const view = await getCabBoardView(db, tenantId, meeting.board as CabBoardKind);
  const votes = await getVotesForAgendaItem(db, tenantId, meeting.id, changeId);
  return tallyCabVotes(view.members.map((m) => ({ memberId: m.userId, weight: m.weight })), votesForTally(votes), view.policy);
}

export type CastVoteResult =
  | { vote: CabVoteRow; tally: CabTally; decision: CabTally['decision'] | null; changeRequest: ChangeRequestRow; errors: [] }
  | { vote: null; tally: null; decision: null; changeRequest: null; errors: ChangePayloadError[] };

/**
 * A member's vote on a change on an open meeting's agenda: members only, once per change and meeting. The board
 * decides when every member has voted, or for an any-member board at the first approval; otherwise at closing.
 */
export async function castCabVote(
  db: Db,
  identity: Identity,
  input: { meetingId: string; changeRequestId: string; vote: CabVoteChoice; comment?: string | null },
  now = new Date(),
): Promise<CastVoteResult> {
  const failed = (...errors: ChangePayloadError[]): CastVoteResult => ({ vote: null, tally: null, decision: null, changeRequest: null, errors });
  if (!hasRole(identity, CAB_VOTER_ROLES)) return failed(payloadErrors.forbidden(CAB_VOTER_ROLES));
  const comment = optionalText(input.comment, 'input.comment', MAX_COMMENT);
  if ('error' in comment) return failed(comment.error);
  const tenantId = identity.tenantId;
  const result = await transact(db, async (tx) => {
    // The meeting row lock serialises votes and closing, so exactly one vote takes the decision.
    const meeting = await openMeeting(tx, tenantId, input.meetingId);
    const item = isUuid(input.changeRequestId) ? await getAgendaItem(tx, tenantId, meeting.id, input.changeRequestId) : undefined;
    if (!item) throw new Refusal([payloadErrors.notFound(`agenda item of meeting "${meeting.title}"`, input.changeRequestId)]);
    const change = (await getChangeForUpdate(tx, tenantId, item.changeId))!;
    if (item.decision !== null && item.decision !== 'NO_DECISION') throw new Refusal([payloadErrors.conflict(`${change.number} was already decided: ${item.decision}`)]);
    assertAwaiting(change, meeting);

    const view = await getCabBoardView(tx, tenantId, meeting.board as CabBoardKind);
    const members = view.members.map((m) => ({ memberId: m.userId, weight: m.weight }));
    const existing = await getVotesForAgendaItem(tx, tenantId, meeting.id, change.id);
    const refusal = checkVote(members, votesForTally(existing), identity.userId);
    if (refusal) throw new Refusal([voteRefused(refusal, change.number, meeting.board)]);
    const member = members.find((m) => m.memberId === identity.userId)!;
    const vote = await insertCabVote(tx, {
      tenantId,
      meetingId: meeting.id,
      changeId: change.id,
      memberId: identity.userId,
      vote: input.vote,
      comment: comment.text,
      weight: member.weight,
      castAt: now,
    });
    if (!vote) throw new Refusal([voteRefused('ALREADY_VOTED', change.number, meeting.board)]);

    const tally = tallyCabVotes(members, votesForTally([...existing, vote]), view.policy);
    const everyoneVoted = tally.votersCount === members.length;
    const final =
      tally.decision !== 'NO_DECISION' && (everyoneVoted || (view.policy.mode === 'ANY_MEMBER_APPROVES' && tally.decision === 'APPROVED'));
    let changeRequest = change;
    if (final) {
      changeRequest = await decideAgendaItem(tx, meeting, change, tally, identity.userId, now);
    }
    return { vote, tally, decision: final ? tally.decision : null, changeRequest, errors: [] as [] };
  });
  return isRefused(result) ? failed(...result.refused) : result;
}

function voteRefused(reason: 'NOT_A_MEMBER' | 'ALREADY_VOTED', changeNumber: string, board: string): ChangePayloadError {
  return reason === 'NOT_A_MEMBER'
    ? { __typename: 'CabVoteRefused', code: 'FORBIDDEN', reason, message: `you are not a member of the ${board === 'CAB' ? 'CAB' : 'emergency CAB'}` }
    : { __typename: 'CabVoteRefused', code: 'CONFLICT', reason, message: `you already voted on ${changeNumber} in this meeting` };
}

async function decideAgendaItem(tx: Db, meeting: CabMeetingRow, change: ChangeRequestRow, tally: CabTally, decidedBy: string, now: Date): Promise<ChangeRequestRow> {
  await setAgendaDecision(tx, meeting.tenantId, meeting.id, change.id, tally.decision, now);
  return applyApprovalDecision(tx, change, { path: meeting.board, decision: tally.decision, decidedBy, reason: tally.reason, meetingId: meeting.id, tally }, now);
}

/** Closes a meeting, deciding every undecided agenda item from the votes cast (no quorum: NO_DECISION, still waiting). */
export async function closeCabMeeting(db: Db, identity: Identity, input: { meetingId: string }, now = new Date()): Promise<MeetingResult> {
  if (!hasRole(identity, CHANGE_MANAGER_ROLES)) return { cabMeeting: null, errors: [payloadErrors.forbidden(CHANGE_MANAGER_ROLES)] };
  const tenantId = identity.tenantId;
  const result = await transact(db, async (tx) => {
    const meeting = await openMeeting(tx, tenantId, input.meetingId);
    const items = await getAgendaItemsByMeetingIds(tx, tenantId, [meeting.id]);
    for (const item of items) {
      if (item.decision !== null) continue;
      const change = (await getChangeForUpdate(tx, tenantId, item.changeId))!;
      // Decided elsewhere (another meeting, cancelled, withdrawn): nothing for this board to decide any more.
      if (change.state !== 'AUTHORIZE' || change.approvalStatus !== 'PENDING' || change.approvalPath !== meeting.board) continue;
      const tally = await tallyAgendaItem(tx, tenantId, meeting, change.id);
      await decideAgendaItem(tx, meeting, change, tally, identity.userId, now);
    }
    return { cabMeeting: await closeCabMeetingRow(tx, tenantId, meeting.id, identity.userId, now), errors: [] as [] };
  });
  return isRefused(result) ? { cabMeeting: null, errors: result.refused } : result;
}
