import { hasRole, WRITER_ROLES, type Identity } from './identity.js';

/**
 * Whether the caller reads internal notes (resolution notes, history reasons, transition and approval comments,
 * CAB vote comments): staff roles do; a read-only partner does not.
 */
export function readsInternalNotes(identity: Identity): boolean {
  return hasRole(identity, WRITER_ROLES);
}

/** An internal note as the caller may see it: the note for staff, null for read-only callers. */
export function internalNote(identity: Identity, note: string | null | undefined): string | null {
  return readsInternalNotes(identity) ? (note ?? null) : null;
}
