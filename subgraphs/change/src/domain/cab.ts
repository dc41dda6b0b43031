import type { ValidationProblem } from './validation.js';

/** A CAB member and the weight of their vote. */
export interface CabMember {
  memberId: string;
  weight: number;
}

export type CabVoteChoice = 'APPROVE' | 'REJECT' | 'ABSTAIN';

/** One member's vote on a change. */
export interface CabVote {
  memberId: string;
  vote: CabVoteChoice;
}

/**
 * How a board decides. WEIGHTED_THRESHOLD: the approving share of the weight of everyone who voted
 * (abstainers included) must be strictly over `approvalThreshold`. ANY_MEMBER_APPROVES: one approval
 * is enough, as an emergency CAB that cannot wait for a meeting works.
 * `quorum` is the number of members who must have voted (abstaining counts) before anything is decided.
 */
export type CabPolicy =
  | { mode: 'WEIGHTED_THRESHOLD'; quorum: number; approvalThreshold: number }
  | { mode: 'ANY_MEMBER_APPROVES'; quorum: number };

export type CabDecision = 'APPROVED' | 'REJECTED' | 'NO_DECISION';

/** The decision the votes cast so far produce, with the weights behind it. */
export interface CabTally {
  decision: CabDecision;
  reason: string;
  approveWeight: number;
  rejectWeight: number;
  abstainWeight: number;
  votedWeight: number;
  votersCount: number;
}

export type VoteRefusal = 'NOT_A_MEMBER' | 'ALREADY_VOTED';

/** The emergency CAB: a single member's approval decides. */
export const EMERGENCY_CAB_POLICY: CabPolicy = { mode: 'ANY_MEMBER_APPROVES', quorum: 1 };

// Fractional weights make shares like 0.1 + 0.2 inexact; a share this close to the threshold is not over it.
const EPSILON = 1e-9;

/** Problems with a board's members and policy; empty when votes can be tallied. */
export function validateCabSetup(members: readonly CabMember[], policy: CabPolicy): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  if (members.length === 0) {
    problems.push({ field: 'members', rule: 'required', message: 'A CAB needs at least one member' });
  }
  const seen = new Set<string>();
  members.forEach((member, index) => {
    if (!(Number.isFinite(member.weight) && member.weight > 0)) {
      problems.push({ field: `members[${index}].weight`, rule: 'range', message: 'Vote weight must be greater than 0' });
    }
    if (seen.has(member.memberId)) {
      problems.push({ field: `members[${index}].memberId`, rule: 'unique', message: `${member.memberId} is listed twice` });
    }
    seen.add(member.memberId);
  });
  if (!Number.isInteger(policy.quorum) || policy.quorum < 1 || policy.quorum > members.length) {
    problems.push({ field: 'policy.quorum', rule: 'range', message: `Quorum must be a whole number from 1 to ${members.length}` });
  }
  if (policy.mode === 'WEIGHTED_THRESHOLD' && !(policy.approvalThreshold >= 0 && policy.approvalThreshold < 1)) {
    problems.push({ field: 'policy.approvalThreshold', rule: 'range', message: 'Approval threshold must be at least 0 and below 1' });
  }
  return problems;
}

/** Why a member may not cast this vote, or null when they may. */
export function checkVote(members: readonly CabMember[], existingVotes: readonly CabVote[], memberId: string): VoteRefusal | null {
  if (!members.some((m) => m.memberId === memberId)) return 'NOT_A_MEMBER';
  if (existingVotes.some((v) => v.memberId === memberId)) return 'ALREADY_VOTED';
  return null;
}

/** Tallies the votes cast so far; the caller decides when the tally is final (meeting closed, everyone voted). */
export function tallyCabVotes(members: readonly CabMember[], votes: readonly CabVote[], policy: CabPolicy): CabTally {
  const weightOf = new Map(members.map((m) => [m.memberId, m.weight]));
  const counted = new Set<string>();
  const weights: Record<CabVoteChoice, number> = { APPROVE: 0, REJECT: 0, ABSTAIN: 0 };
  for (const { memberId, vote } of votes) {
    const weight = weightOf.get(memberId);
    // checkVote keeps these out; a stray row must not add weight, and a member's first vote stands.
    if (weight === undefined || counted.has(memberId)) continue;
    counted.add(memberId);
    weights[vote] += weight;
  }
  const votersCount = counted.size;
  const votedWeight = weights.APPROVE + weights.REJECT + weights.ABSTAIN;
  const tally = { approveWeight: weights.APPROVE, rejectWeight: weights.REJECT, abstainWeight: weights.ABSTAIN, votedWeight, votersCount };

  if (votersCount === 0 || votersCount < policy.quorum) {
    return { decision: 'NO_DECISION', reason: `No quorum: ${votersCount} of ${policy.quorum} required members have voted`, ...tally };
  }
  if (policy.mode === 'ANY_MEMBER_APPROVES') {
    return weights.APPROVE > 0
      ? { decision: 'APPROVED', reason: 'Approved by an emergency CAB member', ...tally }
      : { decision: 'REJECTED', reason: `None of the ${votersCount} members who voted approved`, ...tally };
  }
  const share = weights.APPROVE / votedWeight;
  const shareText = `approve weight ${weights.APPROVE} of ${votedWeight} voted (${percent(share)})`;
  const thresholdText = percent(policy.approvalThreshold);
  return share > policy.approvalThreshold + EPSILON
    ? { decision: 'APPROVED', reason: `Approved: ${shareText} is over ${thresholdText}`, ...tally }
    : { decision: 'REJECTED', reason: `Rejected: ${shareText} is not over ${thresholdText}`, ...tally };
}

function percent(share: number): string {
  return `${Math.round(share * 1000) / 10} %`;
}
