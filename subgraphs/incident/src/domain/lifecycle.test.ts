import { describe, expect, it } from 'vitest';
import {
  INCIDENT_STATES,
  autoCloseDue,
  checkIncidentTransition,
  isOpenState,
  isReopen,
  isTerminalState,
  type IncidentState,
} from './lifecycle.js';

const FULL_INPUT = {
  holdReason: 'AWAITING_CALLER',
  resolutionCode: 'RESOLVED_BY_SUPPORT',
  resolutionNotes: 'Reset the VPN profile.',
};

const ALLOWED = new Set([
  'NEW->IN_PROGRESS',
  'NEW->ON_HOLD',
  'NEW->RESOLVED',
  'NEW->CANCELLED',
  'IN_PROGRESS->ON_HOLD',
  'IN_PROGRESS->RESOLVED',
  'IN_PROGRESS->CANCELLED',
  'ON_HOLD->IN_PROGRESS',
  'ON_HOLD->RESOLVED',
  'ON_HOLD->CANCELLED',
  'RESOLVED->IN_PROGRESS',
  'RESOLVED->CLOSED',
]);

const pairs = INCIDENT_STATES.flatMap((from) => INCIDENT_STATES.map((to) => [from, to] as const));

describe('checkIncidentTransition', () => {
  it('covers all 36 pairs', () => expect(pairs).toHaveLength(36));

  it.each(pairs)('%s -> %s', (from, to) => {
    const result = checkIncidentTransition(from, to, FULL_INPUT);
    if (ALLOWED.has(`${from}->${to}`)) {
      expect(result).toBeNull();
    } else {
      expect(result).toMatchObject({ code: 'INVALID_TRANSITION', field: 'state' });
    }
  });

  it('requires a hold reason for ON_HOLD', () => {
    expect(checkIncidentTransition('IN_PROGRESS', 'ON_HOLD', {})).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'holdReason',
      rule: 'required',
    });
  });

  it('rejects an unknown hold reason', () => {
    expect(checkIncidentTransition('IN_PROGRESS', 'ON_HOLD', { holdReason: 'LUNCH' })).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'holdReason',
      rule: 'oneOf',
    });
  });

  it.each(['AWAITING_CALLER', 'AWAITING_PROBLEM', 'AWAITING_CHANGE', 'AWAITING_VENDOR'])('accepts hold reason %s', (holdReason) => {
    expect(checkIncidentTransition('NEW', 'ON_HOLD', { holdReason })).toBeNull();
  });

  it('requires a resolution code for RESOLVED', () => {
    expect(checkIncidentTransition('IN_PROGRESS', 'RESOLVED', { resolutionNotes: 'done' })).toMatchObject({
      code: 'VALIDATION_FAILED',
      field: 'resolutionCode',
      rule: 'required',
    });
  });

  it('rejects an unknown resolution code', () => {
    expect(
      checkIncidentTransition('IN_PROGRESS', 'RESOLVED', { resolutionCode: 'MAGIC', resolutionNotes: 'done' }),
    ).toMatchObject({ field: 'resolutionCode', rule: 'oneOf' });
  });

  it('requires non-blank resolution notes for RESOLVED', () => {
    for (const resolutionNotes of [undefined, null, '', '   ']) {
      expect(
        checkIncidentTransition('ON_HOLD', 'RESOLVED', { resolutionCode: 'USER_ERROR', resolutionNotes }),
      ).toMatchObject({ code: 'VALIDATION_FAILED', field: 'resolutionNotes', rule: 'required' });
    }
  });

  it('reports a disallowed transition before missing input', () => {
    expect(checkIncidentTransition('CLOSED', 'RESOLVED', {})).toMatchObject({ code: 'INVALID_TRANSITION' });
  });

  it('needs no input for transitions without requirements', () => {
    expect(checkIncidentTransition('NEW', 'IN_PROGRESS')).toBeNull();
    expect(checkIncidentTransition('RESOLVED', 'CLOSED')).toBeNull();
  });
});

describe('state predicates', () => {
  it('counts only RESOLVED -> IN_PROGRESS as a reopen', () => {
    const reopens = pairs.filter(([from, to]) => isReopen(from, to));
    expect(reopens).toEqual([['RESOLVED', 'IN_PROGRESS']]);
  });

  it('treats NEW, IN_PROGRESS and ON_HOLD as open', () => {
    expect(INCIDENT_STATES.filter(isOpenState)).toEqual<IncidentState[]>(['NEW', 'IN_PROGRESS', 'ON_HOLD']);
  });

  it('treats CLOSED and CANCELLED as terminal', () => {
    expect(INCIDENT_STATES.filter(isTerminalState)).toEqual<IncidentState[]>(['CLOSED', 'CANCELLED']);
  });
});

describe('autoCloseDue', () => {
  it('adds whole days of real time', () => {
    expect(autoCloseDue(new Date('2026-03-01T10:00:00Z'), 7).toISOString()).toBe('2026-03-08T10:00:00.000Z');
  });

  it('rejects negative days', () => {
    expect(() => autoCloseDue(new Date(), -1)).toThrow(RangeError);
  });
});
