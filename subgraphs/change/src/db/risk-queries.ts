import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '@itsm/kit';
import { riskAssessmentFactors, riskAssessments, riskPolicies, type RiskAssessmentFactorRow, type RiskAssessmentRow, type RiskPolicyRow } from './schema.js';

/** The tenant's stored risk policy, or undefined when it uses the defaults. */
export async function getRiskPolicy(db: Db, tenantId: string): Promise<RiskPolicyRow | undefined> {
  const [row] = await db.select().from(riskPolicies).where(eq(riskPolicies.tenantId, tenantId));
  return row;
}

/** Stores the tenant's risk policy (insert or replace), bumping its version. */
export async function upsertRiskPolicy(db: Db, values: Omit<typeof riskPolicies.$inferInsert, 'version'>): Promise<RiskPolicyRow> {
  const [row] = await db
    .insert(riskPolicies)
    .values(values)
    .onConflictDoUpdate({
      target: riskPolicies.tenantId,
      set: {
        weights: values.weights,
        lowBelow: values.lowBelow,
        mediumBelow: values.mediumBelow,
        updatedBy: values.updatedBy,
        updatedAt: values.updatedAt,
        version: sql`${riskPolicies.version} + 1`,
      },
    })
    .returning();
  return row!;
}

/** Inserts an assessment with its factors. */
export async function insertRiskAssessment(
  db: Db,
  assessment: typeof riskAssessments.$inferInsert,
  factors: Omit<typeof riskAssessmentFactors.$inferInsert, 'assessmentId' | 'tenantId'>[],
): Promise<RiskAssessmentRow> {
  const [row] = await db.insert(riskAssessments).values(assessment).returning();
  await db.insert(riskAssessmentFactors).values(factors.map((f) => ({ ...f, tenantId: row!.tenantId, assessmentId: row!.id })));
  return row!;
}

/** Assessments of several changes, newest first. */
export async function getRiskAssessmentsByChangeIds(db: Db, tenantId: string, changeIds: readonly string[]): Promise<RiskAssessmentRow[]> {
  if (!changeIds.length) return [];
  return db
    .select()
    .from(riskAssessments)
    .where(and(eq(riskAssessments.tenantId, tenantId), inArray(riskAssessments.changeId, [...changeIds])))
    .orderBy(desc(riskAssessments.assessedAt), desc(riskAssessments.id));
}

/** Factors of several assessments. */
export async function getFactorsByAssessmentIds(db: Db, tenantId: string, assessmentIds: readonly string[]): Promise<RiskAssessmentFactorRow[]> {
  if (!assessmentIds.length) return [];
  return db
    .select()
    .from(riskAssessmentFactors)
    .where(and(eq(riskAssessmentFactors.tenantId, tenantId), inArray(riskAssessmentFactors.assessmentId, [...assessmentIds])))
    .orderBy(asc(riskAssessmentFactors.assessmentId));
}
