import { and, asc, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Db } from '@itsm/kit';
import { changeConflicts, type ChangeConflictRow } from './schema.js';

/** Open conflicts of several changes. */
export async function getOpenConflictsByChangeIds(db: Db, tenantId: string, changeIds: readonly string[]): Promise<ChangeConflictRow[]> {
  if (!changeIds.length) return [];
  return db
    .select()
    .from(changeConflicts)
    .where(and(eq(changeConflicts.tenantId, tenantId), inArray(changeConflicts.changeId, [...changeIds]), isNull(changeConflicts.resolvedAt)))
    .orderBy(asc(changeConflicts.detectedAt), asc(changeConflicts.kind), asc(changeConflicts.id));
}

/** Every conflict of several changes, resolved ones included, oldest first. */
export async function getConflictsByChangeIds(db: Db, tenantId: string, changeIds: readonly string[]): Promise<ChangeConflictRow[]> {
  if (!changeIds.length) return [];
  return db
    .select()
    .from(changeConflicts)
    .where(and(eq(changeConflicts.tenantId, tenantId), inArray(changeConflicts.changeId, [...changeIds])))
    .orderBy(asc(changeConflicts.detectedAt), asc(changeConflicts.kind), asc(changeConflicts.id));
}

/** Ids of the changes with an open conflict naming `otherChangeId`. */
export async function getChangeIdsWithOpenConflictsAgainst(db: Db, tenantId: string, otherChangeId: string): Promise<string[]> {
  const rows = await db
    .selectDistinct({ changeId: changeConflicts.changeId })
    .from(changeConflicts)
    .where(and(eq(changeConflicts.tenantId, tenantId), eq(changeConflicts.otherChangeId, otherChangeId), isNull(changeConflicts.resolvedAt)));
  return rows.map((r) => r.changeId);
}

/** The tenant's open conflicts, newest first. */
export async function getOpenConflicts(db: Db, tenantId: string, limit: number): Promise<ChangeConflictRow[]> {
  return db
    .select()
    .from(changeConflicts)
    .where(and(eq(changeConflicts.tenantId, tenantId), isNull(changeConflicts.resolvedAt)))
    .orderBy(desc(changeConflicts.detectedAt), asc(changeConflicts.id))
    .limit(limit);
}

/**
 * Inserts conflicts that are not open yet; a conflict another transaction opened first is skipped, so only the
 * rows returned are new.
 */
export async function insertOpenConflicts(db: Db, values: (typeof changeConflicts.$inferInsert)[]): Promise<ChangeConflictRow[]> {
  if (!values.length) return [];
  return db
    .insert(changeConflicts)
    .values(values)
    .onConflictDoNothing({ target: [changeConflicts.tenantId, changeConflicts.changeId, changeConflicts.conflictKey], where: sql`resolved_at is null` })
    .returning();
}

/** Marks conflicts resolved (detection no longer finds them). */
export async function resolveConflicts(db: Db, tenantId: string, ids: readonly string[], at: Date): Promise<void> {
  if (!ids.length) return;
  await db
    .update(changeConflicts)
    .set({ resolvedAt: at })
    .where(and(eq(changeConflicts.tenantId, tenantId), inArray(changeConflicts.id, [...ids]), isNull(changeConflicts.resolvedAt)));
}

/** Updates what an open conflict says (the other change moved, its severity changed with the change's type). */
export async function updateConflictText(db: Db, tenantId: string, id: string, values: { severity: string; message: string }): Promise<void> {
  await db.update(changeConflicts).set(values).where(and(eq(changeConflicts.tenantId, tenantId), eq(changeConflicts.id, id)));
}
