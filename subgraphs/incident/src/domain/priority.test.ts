import { describe, expect, it } from 'vitest';
import {
  ITIL_5X5,
  PRIORITY_LABELS,
  SERVICENOW_3X3,
  priorityOf,
  validateImpactUrgency,
  validateMatrix,
} from './priority.js';

describe('ITIL 5x5', () => {
  const expected = [
    [1, 2, 2, 3, 3],
    [2, 2, 3, 3, 4],
    [2, 3, 3, 4, 4],
    [3, 3, 4, 4, 5],
    [3, 4, 4, 5, 5],
  ];
  const cases = expected.flatMap((row, i) => row.map((priority, j) => [i + 1, j + 1, priority] as const));

  it('has 25 cells', () => expect(cases).toHaveLength(25));

  it.each(cases)('impact %i, urgency %i -> P%i', (impact, urgency, priority) => {
    expect(priorityOf(ITIL_5X5, impact, urgency)).toBe(priority);
  });

  it('raising impact from 3 to 5 at urgency 3 moves priority from 3 to 4', () => {
    expect(priorityOf(ITIL_5X5, 3, 3)).toBe(3);
    expect(priorityOf(ITIL_5X5, 5, 3)).toBe(4);
  });
});

describe('ServiceNow 3x3', () => {
  const HIGH = 1;
  const MEDIUM = 2;
  const LOW = 3;
  // Written as the data README states it: impact/urgency = priority.
  const cases = [
    [HIGH, HIGH, 1],
    [HIGH, MEDIUM, 2],
    [HIGH, LOW, 3],
    [MEDIUM, HIGH, 2],
    [MEDIUM, MEDIUM, 3],
    [MEDIUM, LOW, 4],
    [LOW, HIGH, 3],
    [LOW, MEDIUM, 4],
    [LOW, LOW, 4],
  ] as const;

  it.each(cases)('impact %i, urgency %i -> P%i', (impact, urgency, priority) => {
    expect(priorityOf(SERVICENOW_3X3, impact, urgency)).toBe(priority);
  });
});

describe('priorityOf', () => {
  it('throws outside the matrix', () => {
    expect(() => priorityOf(SERVICENOW_3X3, 4, 1)).toThrow(RangeError);
    expect(() => priorityOf(ITIL_5X5, 0, 1)).toThrow(RangeError);
  });

  it('labels priorities', () => {
    expect(PRIORITY_LABELS[priorityOf(ITIL_5X5, 1, 1)]).toBe('Critical');
    expect(PRIORITY_LABELS[5]).toBe('Planning');
  });
});

describe('validateMatrix', () => {
  it('accepts both built-in profiles', () => {
    expect(validateMatrix(ITIL_5X5)).toEqual([]);
    expect(validateMatrix(SERVICENOW_3X3)).toEqual([]);
  });

  it('rejects an unsupported size', () => {
    expect(validateMatrix({ size: 4, cells: [] })).toEqual([expect.objectContaining({ field: 'size', rule: 'range' })]);
  });

  it('names the out-of-range and non-integer cells', () => {
    const cells = ITIL_5X5.cells.map((row) => [...row]);
    cells[2]![4] = 6;
    cells[0]![0] = 1.5;
    expect(validateMatrix({ size: 5, cells })).toEqual([
      expect.objectContaining({ field: 'cells[0][0]', rule: 'integer' }),
      expect.objectContaining({ field: 'cells[2][4]', rule: 'range' }),
    ]);
  });

  it('rejects a missing row and a short row', () => {
    const problems = validateMatrix({ size: 3, cells: [[1, 2, 3], [2, 3]] });
    expect(problems).toEqual([
      expect.objectContaining({ field: 'cells', rule: 'shape' }),
      expect.objectContaining({ field: 'cells[1]', rule: 'shape' }),
    ]);
  });

  it('rejects zero as a priority', () => {
    expect(validateMatrix({ size: 3, cells: [[0, 2, 3], [2, 3, 4], [3, 4, 4]] })).toEqual([
      expect.objectContaining({ field: 'cells[0][0]', rule: 'range' }),
    ]);
  });
});

describe('validateImpactUrgency', () => {
  it('accepts values inside the matrix', () => {
    expect(validateImpactUrgency(ITIL_5X5, 5, 1)).toEqual([]);
  });

  it('bounds values by the matrix size', () => {
    expect(validateImpactUrgency(SERVICENOW_3X3, 4, 3)).toEqual([
      expect.objectContaining({ field: 'impact', rule: 'range' }),
    ]);
    expect(validateImpactUrgency(ITIL_5X5, 0, 6)).toEqual([
      expect.objectContaining({ field: 'impact', rule: 'range' }),
      expect.objectContaining({ field: 'urgency', rule: 'range' }),
    ]);
  });

  it('rejects fractions', () => {
    expect(validateImpactUrgency(ITIL_5X5, 2, 2.5)).toEqual([
      expect.objectContaining({ field: 'urgency', rule: 'range' }),
    ]);
  });
});
