import { payloadErrors, type Db, type PayloadError, type Role } from '@itsm/kit';
import type { ValidationProblem } from '../domain/validation.js';

/** Payload errors this subgraph adds to the shared ones (their GraphQL types live in schema.graphql). */
export type ChangePayloadError =
  | PayloadError
  | { __typename: 'CabVoteRefused'; code: 'FORBIDDEN' | 'CONFLICT'; message: string; reason: 'NOT_A_MEMBER' | 'ALREADY_VOTED' }
  | { __typename: 'BlackoutRefusal'; code: 'CONFLICT'; message: string; windowId: string; occurrenceStart: Date; occurrenceEnd: Date };

/** Who may run the change manager's operations (admin holds every role). */
export const CHANGE_MANAGER_ROLES: readonly Role[] = ['change_manager'];
/** Who may cast CAB votes; membership of the board is checked as well. */
export const CAB_VOTER_ROLES: readonly Role[] = ['cab_member'];
export const ADMIN_ROLES: readonly Role[] = ['admin'];

/** Thrown inside a transaction to roll it back and answer with payload errors: nothing is written. */
export class Refusal extends Error {
  constructor(readonly errors: ChangePayloadError[]) {
    super(errors.map((e) => e.message).join('; '));
  }
}

/** Runs `work` in a transaction; a Refusal thrown inside rolls it back and becomes the payload's errors. */
export async function transact<T>(db: Db, work: (tx: Db) => Promise<T>): Promise<T | { refused: ChangePayloadError[] }> {
  try {
    return await db.transaction((tx) => work(tx as Db));
  } catch (error) {
    if (error instanceof Refusal) return { refused: error.errors };
    throw error;
  }
}

/** True when transact() answered with a refusal. */
export function isRefused<T>(result: T | { refused: ChangePayloadError[] }): result is { refused: ChangePayloadError[] } {
  return typeof result === 'object' && result !== null && 'refused' in result;
}

/** Domain validation problems as payload errors, with the field path the client sent (e.g. input.factors.businessImpact). */
export function validationErrors(problems: readonly ValidationProblem[], prefix = 'input'): PayloadError[] {
  return problems.map((p) => payloadErrors.validation({ field: `${prefix}.${p.field}`, rule: p.rule, message: p.message }));
}

const MAX_ITEMS = 50;
const MAX_ITEM_LENGTH = 200;

/** Trims and de-duplicates a list of item names, or says what is wrong with it. */
export function normaliseItems(values: readonly string[] | null | undefined, field: string): { items: string[] } | { error: PayloadError } {
  const items = [...new Set((values ?? []).map((v) => v.trim()))];
  if (items.some((v) => v === '' || v.length > MAX_ITEM_LENGTH)) {
    return { error: payloadErrors.validation({ field, rule: 'format', message: `each name must be 1 to ${MAX_ITEM_LENGTH} characters` }) };
  }
  if (items.length > MAX_ITEMS) return { error: payloadErrors.validation({ field, rule: 'maxItems', message: `at most ${MAX_ITEMS} names` }) };
  return { items };
}

/** Checks an optional free-text field's length; returns the trimmed text or null. */
export function optionalText(value: string | null | undefined, field: string, max: number): { text: string | null } | { error: PayloadError } {
  if (value == null) return { text: null };
  const text = value.trim();
  if (text.length > max) return { error: payloadErrors.validation({ field, rule: 'maxLength', message: `${field.split('.').pop()} must be at most ${max} characters` }) };
  return { text: text === '' ? null : text };
}
