import { describe, expect, it } from 'vitest';
import { isLevel, problemPriority } from './priority.js';

describe('problemPriority', () => {
  it('follows the ITIL 5x5 matrix of the design', () => {
    expect(problemPriority(1, 1)).toBe(1);
    expect(problemPriority(1, 2)).toBe(2);
    expect(problemPriority(2, 3)).toBe(3);
    expect(problemPriority(3, 3)).toBe(3);
    expect(problemPriority(4, 3)).toBe(4);
    expect(problemPriority(5, 5)).toBe(5);
    expect(problemPriority(5, 1)).toBe(3);
  });

  it('refuses values outside the matrix', () => {
    expect(() => problemPriority(0, 3)).toThrow(RangeError);
    expect(() => problemPriority(3, 6)).toThrow(RangeError);
  });
});

describe('isLevel', () => {
  it('accepts integers 1..5 only', () => {
    expect([0, 1, 5, 6, 2.5].map(isLevel)).toEqual([false, true, true, false, false]);
  });
});
