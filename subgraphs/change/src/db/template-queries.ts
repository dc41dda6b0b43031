import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '@itsm/kit';
import { standardChangeTemplates, type StandardChangeTemplateRow } from './schema.js';

/** Standard-change templates by id. */
export async function getTemplatesByIds(db: Db, tenantId: string, ids: readonly string[]): Promise<StandardChangeTemplateRow[]> {
  if (!ids.length) return [];
  return db.select().from(standardChangeTemplates).where(and(eq(standardChangeTemplates.tenantId, tenantId), inArray(standardChangeTemplates.id, [...ids])));
}

/** The tenant's templates by name, optionally only those in some states. */
export async function listTemplates(db: Db, tenantId: string, states?: readonly string[] | null): Promise<StandardChangeTemplateRow[]> {
  return db
    .select()
    .from(standardChangeTemplates)
    .where(and(eq(standardChangeTemplates.tenantId, tenantId), states?.length ? inArray(standardChangeTemplates.state, [...states]) : undefined))
    .orderBy(asc(standardChangeTemplates.name));
}

/** Inserts a template; undefined when the name is taken. */
export async function insertTemplate(db: Db, values: typeof standardChangeTemplates.$inferInsert): Promise<StandardChangeTemplateRow | undefined> {
  const [row] = await db.insert(standardChangeTemplates).values(values).onConflictDoNothing().returning();
  return row;
}

/** Compare-and-set update of a template; undefined when the version moved on. */
export async function updateTemplate(
  db: Db,
  tenantId: string,
  id: string,
  expectedVersion: number,
  values: Partial<Pick<typeof standardChangeTemplates.$inferInsert, 'state' | 'approvedBy' | 'approvedAt'>>,
): Promise<StandardChangeTemplateRow | undefined> {
  const [row] = await db
    .update(standardChangeTemplates)
    .set({ ...values, version: sql`${standardChangeTemplates.version} + 1` })
    .where(and(eq(standardChangeTemplates.tenantId, tenantId), eq(standardChangeTemplates.id, id), eq(standardChangeTemplates.version, expectedVersion)))
    .returning();
  return row;
}
