import { hasRole, isUuid, payloadErrors, WRITER_ROLES, type Db, type Identity, type PayloadError } from '@itsm/kit';
import { assessRisk, DEFAULT_RISK_POLICY, RISK_FACTORS, validateRiskPolicy, type RiskFactorName, type RiskFactorsInput, type RiskPolicy } from '../domain/risk.js';
import { getChangeForUpdate, updateChange } from '../db/queries.js';
import { getRiskPolicy, insertRiskAssessment, upsertRiskPolicy } from '../db/risk-queries.js';
import type { RiskPolicyRow } from '../db/schema.js';
import { ADMIN_ROLES, Refusal, isRefused, transact, validationErrors } from './common.js';
import type { ChangeResult } from './changes.js';

const MAX_JUSTIFICATION = 2000;

/** A tenant's policy as stored, with whether it is the default. */
export interface EffectiveRiskPolicy extends RiskPolicy {
  customised: boolean;
  version: number;
}

/** The tenant's risk policy, or the design's defaults. */
export async function getEffectiveRiskPolicy(db: Db, tenantId: string): Promise<EffectiveRiskPolicy> {
  const row = await getRiskPolicy(db, tenantId);
  return row ? policyFromRow(row) : { ...DEFAULT_RISK_POLICY, customised: false, version: 0 };
}

function policyFromRow(row: RiskPolicyRow): EffectiveRiskPolicy {
  return { weights: row.weights as Record<RiskFactorName, number>, lowBelow: row.lowBelow, mediumBelow: row.mediumBelow, customised: true, version: row.version };
}

/**
 * Stores an assessment of all seven factors under the tenant's policy and sets the change's risk level and score.
 * A missing factor or justification is refused, not defaulted. Standard changes are assessed by their template.
 */
export async function assessChangeRisk(
  db: Db,
  identity: Identity,
  input: { changeRequestId: string; factors: RiskFactorsInput },
  now = new Date(),
): Promise<ChangeResult> {
  if (!hasRole(identity, WRITER_ROLES)) return { changeRequest: null, errors: [payloadErrors.forbidden(WRITER_ROLES)] };
  const long = RISK_FACTORS.find((name) => (input.factors?.[name]?.justification?.length ?? 0) > MAX_JUSTIFICATION);
  if (long) {
    return {
      changeRequest: null,
      errors: [payloadErrors.validation({ field: `input.factors.${long}.justification`, rule: 'maxLength', message: `justification must be at most ${MAX_JUSTIFICATION} characters` })],
    };
  }
  const tenantId = identity.tenantId;
  const result = await transact(db, async (tx) => {
    const change = isUuid(input.changeRequestId) ? await getChangeForUpdate(tx, tenantId, input.changeRequestId) : undefined;
    if (!change) throw new Refusal([payloadErrors.notFound('change request', input.changeRequestId)]);
    if (change.type === 'STANDARD') {
      throw new Refusal([payloadErrors.validation({ field: 'input.changeRequestId', rule: 'notStandard', message: 'standard changes are pre-assessed by their template' })]);
    }
    const assessable = change.state === 'NEW' || change.state === 'ASSESS' || (change.type === 'EMERGENCY' && change.state === 'AUTHORIZE');
    if (!assessable) throw new Refusal([payloadErrors.conflict(`${change.number} is ${change.state}; risk is assessed in NEW or ASSESS`)]);
    const policy = await getEffectiveRiskPolicy(tx, tenantId);
    const assessment = assessRisk(input.factors ?? {}, policy);
    if (!assessment.ok) throw new Refusal(validationErrors(assessment.problems));
    await insertRiskAssessment(
      tx,
      {
        tenantId,
        changeId: change.id,
        score: assessment.score,
        level: assessment.level,
        lowBelow: policy.lowBelow,
        mediumBelow: policy.mediumBelow,
        assessedBy: identity.userId,
        assessedAt: now,
      },
      RISK_FACTORS.map((factor) => ({
        factor,
        score: assessment.factors[factor].score,
        weight: policy.weights[factor],
        justification: assessment.factors[factor].justification.trim(),
      })),
    );
    const updated = await updateChange(tx, tenantId, change.id, change.version, { riskLevel: assessment.level, riskScore: assessment.score, updatedAt: now });
    return { changeRequest: updated!, errors: [] as [] };
  });
  return isRefused(result) ? { changeRequest: null, errors: result.refused } : result;
}

/** Replaces the tenant's weights and thresholds (admin); weights must add up to 1 and LOW's threshold sit below MEDIUM's. */
export async function setRiskPolicy(
  db: Db,
  identity: Identity,
  input: RiskPolicy,
  now = new Date(),
): Promise<{ riskPolicy: EffectiveRiskPolicy; errors: [] } | { riskPolicy: null; errors: PayloadError[] }> {
  if (!hasRole(identity, ADMIN_ROLES)) return { riskPolicy: null, errors: [payloadErrors.forbidden(ADMIN_ROLES)] };
  const problems = validateRiskPolicy(input).map((p) => ({ ...p, field: p.field.replace(/^policy\./, '') }));
  if (problems.length) return { riskPolicy: null, errors: validationErrors(problems) };
  const row = await upsertRiskPolicy(db, {
    tenantId: identity.tenantId,
    weights: Object.fromEntries(RISK_FACTORS.map((name) => [name, input.weights[name]])),
    lowBelow: input.lowBelow,
    mediumBelow: input.mediumBelow,
    updatedBy: identity.userId,
    updatedAt: now,
  });
  return { riskPolicy: policyFromRow(row), errors: [] };
}
