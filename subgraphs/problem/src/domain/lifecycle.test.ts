import { describe, expect, it } from 'vitest';
import {
  PROBLEM_STATES,
  checkProblemTransition,
  isIncidentRelationType,
  isOpenProblemState,
  isProblemReopen,
  type ProblemState,
} from './lifecycle.js';

const ALLOWED = new Set([
  'NEW->ASSESS',
  'NEW->CANCELLED',
  'ASSESS->ROOT_CAUSE_ANALYSIS',
  'ASSESS->CANCELLED',
  'ROOT_CAUSE_ANALYSIS->FIX_IN_PROGRESS',
  'ROOT_CAUSE_ANALYSIS->RESOLVED',
  'ROOT_CAUSE_ANALYSIS->CANCELLED',
  'FIX_IN_PROGRESS->RESOLVED',
  'FIX_IN_PROGRESS->ROOT_CAUSE_ANALYSIS',
  'FIX_IN_PROGRESS->CANCELLED',
  'RESOLVED->CLOSED',
  'RESOLVED->ROOT_CAUSE_ANALYSIS',
]);

const pairs = PROBLEM_STATES.flatMap((from) => PROBLEM_STATES.map((to) => [from, to] as const));

describe('checkProblemTransition', () => {
  it('covers all 49 pairs', () => expect(pairs).toHaveLength(49));

  it.each(pairs)('%s -> %s', (from, to) => {
    const result = checkProblemTransition(from, to, { rootCause: 'Expired TLS certificate on the print server' });
    if (ALLOWED.has(`${from}->${to}`)) {
      expect(result).toBeNull();
    } else {
      expect(result).toMatchObject({ code: 'INVALID_TRANSITION', field: 'state', rule: 'transition' });
    }
  });

  it('requires a non-blank root cause to resolve', () => {
    for (const rootCause of [undefined, null, '', '  ']) {
      expect(checkProblemTransition('FIX_IN_PROGRESS', 'RESOLVED', { rootCause })).toEqual({
        code: 'VALIDATION_FAILED',
        field: 'rootCause',
        rule: 'required',
        message: expect.any(String),
      });
    }
  });

  it('needs no root cause for other transitions', () => {
    expect(checkProblemTransition('NEW', 'ASSESS')).toBeNull();
    expect(checkProblemTransition('RESOLVED', 'CLOSED')).toBeNull();
  });
});

describe('state predicates', () => {
  it('counts only RESOLVED -> ROOT_CAUSE_ANALYSIS as a reopen', () => {
    expect(pairs.filter(([from, to]) => isProblemReopen(from, to))).toEqual([['RESOLVED', 'ROOT_CAUSE_ANALYSIS']]);
  });

  it('treats states before RESOLVED as open', () => {
    expect(PROBLEM_STATES.filter(isOpenProblemState)).toEqual<ProblemState[]>([
      'NEW',
      'ASSESS',
      'ROOT_CAUSE_ANALYSIS',
      'FIX_IN_PROGRESS',
    ]);
  });
});

describe('incident relation types', () => {
  it('accepts the three link types only', () => {
    expect(['CAUSED_BY', 'RELATED_TO', 'SYMPTOM_OF', 'DUPLICATE_OF'].filter(isIncidentRelationType)).toEqual([
      'CAUSED_BY',
      'RELATED_TO',
      'SYMPTOM_OF',
    ]);
  });
});
