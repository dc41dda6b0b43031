import { describe, expect, it } from 'vitest';
import { allowedTransitions, approvalPath, checkTransition, CLOSE_CODES, type ChangeState, type ChangeType } from './lifecycle.js';

const paths: Record<ChangeType, ChangeState[]> = {
  STANDARD: ['NEW', 'SCHEDULED', 'IMPLEMENT', 'REVIEW', 'CLOSED'],
  NORMAL: ['NEW', 'ASSESS', 'AUTHORIZE', 'SCHEDULED', 'IMPLEMENT', 'REVIEW', 'CLOSED'],
  EMERGENCY: ['NEW', 'AUTHORIZE', 'SCHEDULED', 'IMPLEMENT', 'REVIEW', 'CLOSED'],
};
const types = Object.keys(paths) as ChangeType[];

describe('checkTransition: legal moves', () => {
  for (const type of types) {
    const path = paths[type];

    it(`walks a ${type} change along ${path.join(' -> ')}`, () => {
      for (let i = 1; i < path.length; i++) {
        const to = path[i]!;
        const input = to === 'CLOSED' ? { closeCode: 'SUCCESSFUL' } : {};
        expect(checkTransition(type, path[i - 1]!, to, input), `${path[i - 1]} -> ${to}`).toBeNull();
      }
    });

    const cancellable = path.slice(0, path.indexOf('IMPLEMENT') + 1);
    it(`cancels a ${type} change from ${cancellable.join(', ')}`, () => {
      for (const from of cancellable) expect(checkTransition(type, from, 'CANCELLED'), from).toBeNull();
    });
  }

  it('sends a rejected change back to NEW from ASSESS and AUTHORIZE', () => {
    expect(checkTransition('NORMAL', 'ASSESS', 'NEW')).toBeNull();
    expect(checkTransition('NORMAL', 'AUTHORIZE', 'NEW')).toBeNull();
    expect(checkTransition('EMERGENCY', 'AUTHORIZE', 'NEW')).toBeNull();
  });

  it('accepts every close code', () => {
    for (const closeCode of CLOSE_CODES) expect(checkTransition('NORMAL', 'REVIEW', 'CLOSED', { closeCode })).toBeNull();
  });

  it('lists the allowed next states', () => {
    expect(allowedTransitions('NORMAL', 'AUTHORIZE')).toEqual(['SCHEDULED', 'NEW', 'CANCELLED']);
    expect(allowedTransitions('NORMAL', 'REVIEW')).toEqual(['CLOSED']);
    expect(allowedTransitions('NORMAL', 'CLOSED')).toEqual([]);
    expect(allowedTransitions('STANDARD', 'ASSESS')).toEqual([]);
  });
});

describe('checkTransition: illegal moves', () => {
  const illegal: [ChangeType, ChangeState, ChangeState][] = [
    ['STANDARD', 'NEW', 'ASSESS'],
    ['STANDARD', 'NEW', 'AUTHORIZE'],
    ['STANDARD', 'NEW', 'IMPLEMENT'],
    ['NORMAL', 'NEW', 'AUTHORIZE'],
    ['NORMAL', 'NEW', 'SCHEDULED'],
    ['NORMAL', 'ASSESS', 'SCHEDULED'],
    ['NORMAL', 'SCHEDULED', 'NEW'],
    ['NORMAL', 'IMPLEMENT', 'SCHEDULED'],
    ['NORMAL', 'REVIEW', 'CANCELLED'],
    ['NORMAL', 'CLOSED', 'REVIEW'],
    ['NORMAL', 'CLOSED', 'CANCELLED'],
    ['NORMAL', 'CANCELLED', 'NEW'],
    ['NORMAL', 'NEW', 'NEW'],
    ['EMERGENCY', 'NEW', 'ASSESS'],
    ['EMERGENCY', 'NEW', 'SCHEDULED'],
    ['EMERGENCY', 'IMPLEMENT', 'CLOSED'],
    ['EMERGENCY', 'REVIEW', 'CANCELLED'],
  ];
  for (const [type, from, to] of illegal) {
    it(`refuses ${type} ${from} -> ${to}`, () => {
      expect(checkTransition(type, from, to, { closeCode: 'SUCCESSFUL' })).toMatchObject({
        code: 'INVALID_TRANSITION',
        field: 'state',
        rule: 'transition',
      });
    });
  }

  it('refuses to close without a close code or with an unknown one', () => {
    expect(checkTransition('NORMAL', 'REVIEW', 'CLOSED')).toMatchObject({ code: 'VALIDATION_FAILED', field: 'closeCode', rule: 'required' });
    expect(checkTransition('NORMAL', 'REVIEW', 'CLOSED', { closeCode: null })).toMatchObject({ rule: 'required' });
    expect(checkTransition('NORMAL', 'REVIEW', 'CLOSED', { closeCode: 'DONE' })).toMatchObject({ code: 'VALIDATION_FAILED', rule: 'oneOf' });
  });
});

describe('approvalPath', () => {
  it('routes each type and risk to its approver', () => {
    expect(approvalPath('STANDARD', 'HIGH')).toBe('NONE');
    expect(approvalPath('NORMAL', 'LOW')).toBe('CHANGE_MANAGER');
    expect(approvalPath('NORMAL', 'MEDIUM')).toBe('CAB');
    expect(approvalPath('NORMAL', 'HIGH')).toBe('CAB');
    expect(approvalPath('EMERGENCY', 'LOW')).toBe('EMERGENCY_CAB');
  });
});
