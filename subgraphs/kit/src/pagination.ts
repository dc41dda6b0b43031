import { graphqlError } from './errors.js';

/** Page size when a client names none, and the most one page may hold. */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 500;

/** Validates `first`, naming the argument and the rule when it is out of range. */
export function pageSize(first: number | null | undefined): number {
  if (first == null) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw graphqlError('VALIDATION_FAILED', `first must be between 1 and ${MAX_PAGE_SIZE}`, { field: 'first', rule: 'range' });
  }
  return first;
}

/** Opaque cursor over a keyset position (sort value and id). */
export function encodeCursor(values: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

/** Reads a cursor back; a cursor that was not made by encodeCursor is a validation error. */
export function decodeCursor(cursor: string, arity: number, field = 'after'): (string | number)[] {
  try {
    const values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(values) && values.length === arity && values.every((v) => typeof v === 'string' || typeof v === 'number')) {
      return values;
    }
  } catch {
    // fall through to the error below
  }
  throw graphqlError('VALIDATION_FAILED', `${field} is not a cursor returned by this API`, { field, rule: 'cursor' });
}

/** Builds a Relay connection from rows fetched with one extra row to detect the next page. */
export function toConnection<T>(rows: T[], first: number, cursorOf: (row: T) => string, totalCount: () => Promise<number>) {
  const page = rows.slice(0, first);
  return {
    edges: page.map((node) => ({ cursor: cursorOf(node), node })),
    pageInfo: { hasNextPage: rows.length > first, endCursor: page.length ? cursorOf(page[page.length - 1]!) : null },
    totalCount,
  };
}
