/** Impact and urgency run from 1 (highest) to 5 (lowest), as on incidents. */
export const LEVELS = [1, 2, 3, 4, 5] as const;

/** Problem priority 1 (Critical) .. 5 (Planning). */
export type ProblemPriority = 1 | 2 | 3 | 4 | 5;

export const PRIORITY_LABELS: Readonly<Record<ProblemPriority, string>> = {
  1: 'Critical',
  2: 'High',
  3: 'Medium',
  4: 'Low',
  5: 'Planning',
};

// The design's ITIL 5x5 matrix: rows are impact, columns urgency. Problems are not bound to a
// tenant's incident matrix (that lives in the incident subgraph), so they always use this one.
const ITIL_5X5: readonly (readonly ProblemPriority[])[] = [
  [1, 2, 2, 3, 3],
  [2, 2, 3, 3, 4],
  [2, 3, 3, 4, 4],
  [3, 3, 4, 4, 5],
  [3, 4, 4, 5, 5],
];

/** Priority of a problem from its impact and urgency; throws RangeError outside 1..5 (validate first). */
export function problemPriority(impact: number, urgency: number): ProblemPriority {
  const priority = ITIL_5X5[impact - 1]?.[urgency - 1];
  if (priority === undefined) throw new RangeError(`no priority for impact ${impact}, urgency ${urgency}`);
  return priority;
}

/** True for an integer 1..5. */
export function isLevel(value: number): boolean {
  return Number.isInteger(value) && value >= 1 && value <= 5;
}
