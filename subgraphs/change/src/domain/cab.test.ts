import { describe, expect, it } from 'vitest';
import { checkVote, EMERGENCY_CAB_POLICY, tallyCabVotes, validateCabSetup, type CabMember, type CabPolicy, type CabVote } from './cab.js';

const members: CabMember[] = [
  { memberId: 'A', weight: 2 },
  { memberId: 'B', weight: 1 },
  { memberId: 'C', weight: 1 },
];
const policy: CabPolicy = { mode: 'WEIGHTED_THRESHOLD', quorum: 3, approvalThreshold: 0.5 };

describe('tallyCabVotes', () => {
  it('approves when A and B approve and C abstains (3/4 is over 50 %)', () => {
    const votes: CabVote[] = [
      { memberId: 'A', vote: 'APPROVE' },
      { memberId: 'B', vote: 'APPROVE' },
      { memberId: 'C', vote: 'ABSTAIN' },
    ];
    expect(tallyCabVotes(members, votes, policy)).toEqual({
      decision: 'APPROVED',
      reason: 'Approved: approve weight 3 of 4 voted (75 %) is over 50 %',
      approveWeight: 3,
      rejectWeight: 0,
      abstainWeight: 1,
      votedWeight: 4,
      votersCount: 3,
    });
  });

  it('rejects when A rejects and B and C approve (2/4 is not over 50 %)', () => {
    const votes: CabVote[] = [
      { memberId: 'A', vote: 'REJECT' },
      { memberId: 'B', vote: 'APPROVE' },
      { memberId: 'C', vote: 'APPROVE' },
    ];
    expect(tallyCabVotes(members, votes, policy)).toMatchObject({
      decision: 'REJECTED',
      approveWeight: 2,
      rejectWeight: 2,
      votedWeight: 4,
      votersCount: 3,
    });
  });

  it('decides nothing without quorum when only A and B vote', () => {
    const votes: CabVote[] = [
      { memberId: 'A', vote: 'APPROVE' },
      { memberId: 'B', vote: 'APPROVE' },
    ];
    expect(tallyCabVotes(members, votes, policy)).toMatchObject({
      decision: 'NO_DECISION',
      reason: 'No quorum: 2 of 3 required members have voted',
      approveWeight: 3,
      votersCount: 2,
    });
  });

  it('ignores votes from non-members and second votes', () => {
    const votes: CabVote[] = [
      { memberId: 'A', vote: 'REJECT' },
      { memberId: 'A', vote: 'APPROVE' },
      { memberId: 'Z', vote: 'APPROVE' },
      { memberId: 'B', vote: 'APPROVE' },
    ];
    expect(tallyCabVotes(members, votes, policy)).toMatchObject({ decision: 'NO_DECISION', approveWeight: 1, rejectWeight: 2, votersCount: 2 });
  });

  it('lets one member approve for the emergency CAB', () => {
    expect(tallyCabVotes(members, [{ memberId: 'C', vote: 'APPROVE' }], EMERGENCY_CAB_POLICY)).toMatchObject({
      decision: 'APPROVED',
      approveWeight: 1,
      votersCount: 1,
    });
    expect(tallyCabVotes(members, [{ memberId: 'A', vote: 'REJECT' }], EMERGENCY_CAB_POLICY)).toMatchObject({ decision: 'REJECTED' });
    expect(tallyCabVotes(members, [], EMERGENCY_CAB_POLICY)).toMatchObject({ decision: 'NO_DECISION' });
  });
});

describe('checkVote', () => {
  const votes: CabVote[] = [{ memberId: 'A', vote: 'APPROVE' }];

  it('lets a member who has not voted vote', () => {
    expect(checkVote(members, votes, 'B')).toBeNull();
  });

  it('refuses a vote from someone who is not a member', () => {
    expect(checkVote(members, votes, 'Z')).toBe('NOT_A_MEMBER');
  });

  it('refuses a second vote', () => {
    expect(checkVote(members, votes, 'A')).toBe('ALREADY_VOTED');
  });
});

describe('validateCabSetup', () => {
  it('accepts the example board and the emergency policy', () => {
    expect(validateCabSetup(members, policy)).toEqual([]);
    expect(validateCabSetup(members, EMERGENCY_CAB_POLICY)).toEqual([]);
  });

  it('refuses non-positive weights, duplicate members, an unreachable quorum and a threshold of 1', () => {
    const bad = [...members, { memberId: 'D', weight: 0 }, { memberId: 'A', weight: 1 }];
    expect(validateCabSetup(bad, { mode: 'WEIGHTED_THRESHOLD', quorum: 6, approvalThreshold: 1 })).toMatchObject([
      { field: 'members[3].weight', rule: 'range' },
      { field: 'members[4].memberId', rule: 'unique' },
      { field: 'policy.quorum', rule: 'range' },
      { field: 'policy.approvalThreshold', rule: 'range' },
    ]);
  });
});
