import { and, asc, eq, inArray, isNull } from 'drizzle-orm';
import type { Db } from '@itsm/kit';
import { changeWindows, type ChangeWindowRow } from './schema.js';

/** The tenant's calendar windows that are not deleted, by name. */
export async function getActiveWindows(db: Db, tenantId: string): Promise<ChangeWindowRow[]> {
  return db
    .select()
    .from(changeWindows)
    .where(and(eq(changeWindows.tenantId, tenantId), isNull(changeWindows.deletedAt)))
    .orderBy(asc(changeWindows.name), asc(changeWindows.id));
}

/** Windows by id, deleted ones included (conflicts keep naming them). */
export async function getWindowsByIds(db: Db, tenantId: string, ids: readonly string[]): Promise<ChangeWindowRow[]> {
  if (!ids.length) return [];
  return db.select().from(changeWindows).where(and(eq(changeWindows.tenantId, tenantId), inArray(changeWindows.id, [...ids])));
}

/** Inserts a calendar window. */
export async function insertWindow(db: Db, values: typeof changeWindows.$inferInsert): Promise<ChangeWindowRow> {
  const [row] = await db.insert(changeWindows).values(values).returning();
  return row!;
}

/** Soft-deletes a window; undefined when it does not exist or is already deleted. */
export async function markWindowDeleted(db: Db, tenantId: string, id: string, at: Date): Promise<ChangeWindowRow | undefined> {
  const [row] = await db
    .update(changeWindows)
    .set({ deletedAt: at })
    .where(and(eq(changeWindows.tenantId, tenantId), eq(changeWindows.id, id), isNull(changeWindows.deletedAt)))
    .returning();
  return row;
}
