/** Named matrix profiles; CUSTOM is a tenant-edited grid. */
export type PriorityProfile = 'ITIL_5X5' | 'SERVICENOW_3X3' | 'CUSTOM';

/** Priority 1 (Critical) .. 5 (Planning). */
export type Priority = 1 | 2 | 3 | 4 | 5;

/** Impact x urgency grid: cells[impact - 1][urgency - 1] is the priority (1 = highest). */
export interface PriorityMatrix {
  profile: PriorityProfile;
  size: 3 | 5;
  cells: number[][];
}

/** One reason a matrix or an impact/urgency pair is unacceptable. */
export interface PriorityProblem {
  field: string;
  rule: 'range' | 'shape' | 'integer';
  message: string;
}

/** Display names of priorities. */
export const PRIORITY_LABELS: Readonly<Record<Priority, string>> = {
  1: 'Critical',
  2: 'High',
  3: 'Medium',
  4: 'Low',
  5: 'Planning',
};

/** The default: the ITIL 5x5 matrix from the design. */
export const ITIL_5X5: PriorityMatrix = {
  profile: 'ITIL_5X5',
  size: 5,
  cells: [
    [1, 2, 2, 3, 3],
    [2, 2, 3, 3, 4],
    [2, 3, 3, 4, 4],
    [3, 3, 4, 4, 5],
    [3, 4, 4, 5, 5],
  ],
};

/** ServiceNow's 3x3 matrix (1 = High, 2 = Medium, 3 = Low), as the imported event log obeys it. */
export const SERVICENOW_3X3: PriorityMatrix = {
  profile: 'SERVICENOW_3X3',
  size: 3,
  cells: [
    [1, 2, 3],
    [2, 3, 4],
    [3, 4, 4],
  ],
};

/** Priority for an impact and urgency; throws RangeError outside the matrix (validate input first). */
export function priorityOf(matrix: PriorityMatrix, impact: number, urgency: number): Priority {
  const priority = matrix.cells[impact - 1]?.[urgency - 1];
  if (priority === undefined || !isPriority(priority)) {
    throw new RangeError(`no priority for impact ${impact}, urgency ${urgency} in a ${matrix.size}x${matrix.size} matrix`);
  }
  return priority;
}

/** Problems with a tenant-supplied matrix: a full size x size grid of integers 1..5 (field indices are 0-based). */
export function validateMatrix(input: { size: number; cells: readonly (readonly number[])[] }): PriorityProblem[] {
  const { size, cells } = input;
  if (size !== 3 && size !== 5) {
    return [{ field: 'size', rule: 'range', message: 'size must be 3 or 5' }];
  }
  const problems: PriorityProblem[] = [];
  if (cells.length !== size) {
    problems.push({ field: 'cells', rule: 'shape', message: `expected ${size} rows, got ${cells.length}` });
  }
  cells.forEach((row, i) => {
    if (row.length !== size) {
      problems.push({ field: `cells[${i}]`, rule: 'shape', message: `expected ${size} cells, got ${row.length}` });
    }
    row.forEach((cell, j) => {
      const field = `cells[${i}][${j}]`;
      if (!Number.isInteger(cell)) {
        problems.push({ field, rule: 'integer', message: `priority must be an integer, got ${cell}` });
      } else if (!isPriority(cell)) {
        problems.push({ field, rule: 'range', message: `priority must be 1 to 5, got ${cell}` });
      }
    });
  });
  return problems;
}

/** Problems with an impact/urgency pair for this matrix: each must be an integer 1..size. */
export function validateImpactUrgency(matrix: PriorityMatrix, impact: number, urgency: number): PriorityProblem[] {
  const problems: PriorityProblem[] = [];
  for (const [field, value] of [['impact', impact], ['urgency', urgency]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > matrix.size) {
      problems.push({ field, rule: 'range', message: `${field} must be an integer from 1 to ${matrix.size}, got ${value}` });
    }
  }
  return problems;
}

function isPriority(value: number): value is Priority {
  return Number.isInteger(value) && value >= 1 && value <= 5;
}
