import type { ValidationProblem } from './validation.js';

/** The seven scored factors of a change risk assessment. */
export const RISK_FACTORS = [
  'technicalComplexity',
  'businessImpact',
  'implementationTimeline',
  'resourceDependencies',
  'testingCoverage',
  'rollbackComplexity',
  'externalDependencies',
] as const;

export type RiskFactorName = (typeof RISK_FACTORS)[number];
export type RiskLevel = 'LOW' | 'MEDIUM' | 'HIGH';

/** One factor: an integer score from 1 (lowest risk) to 5 and why the assessor chose it. */
export interface RiskFactor {
  score: number;
  justification: string;
}

/** Factors as a client sends them: any may be missing until validated. */
export type RiskFactorsInput = { [K in RiskFactorName]?: RiskFactor | null };
export type RiskFactors = Record<RiskFactorName, RiskFactor>;

/** Per-tenant weighting and level thresholds (score < lowBelow is LOW, < mediumBelow is MEDIUM). */
export interface RiskPolicy {
  weights: Record<RiskFactorName, number>;
  lowBelow: number;
  mediumBelow: number;
}

export type RiskAssessment =
  | { ok: true; score: number; displayScore: number; level: RiskLevel; factors: RiskFactors }
  | { ok: false; problems: ValidationProblem[] };

/** The weights and thresholds of the design: 25/20/15/15/10/10/5 %, LOW below 2.5, MEDIUM below 3.5. */
export const DEFAULT_RISK_POLICY: RiskPolicy = {
  weights: {
    technicalComplexity: 0.25,
    businessImpact: 0.2,
    implementationTimeline: 0.15,
    resourceDependencies: 0.15,
    testingCoverage: 0.1,
    rollbackComplexity: 0.1,
    externalDependencies: 0.05,
  },
  lowBelow: 2.5,
  mediumBelow: 3.5,
};

const MIN_SCORE = 1;
const MAX_SCORE = 5;
// Decimal weights are not exact in binary, so sums and threshold comparisons allow this much noise.
const EPSILON = 1e-9;

/** Problems with a tenant's risk policy; empty when it can be used. */
export function validateRiskPolicy(policy: RiskPolicy): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  let sum = 0;
  for (const name of RISK_FACTORS) {
    const weight = policy.weights[name];
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
      problems.push({ field: `policy.weights.${name}`, rule: 'range', message: 'Weight must be a number >= 0' });
    } else {
      sum += weight;
    }
  }
  if (problems.length === 0 && Math.abs(sum - 1) > EPSILON) {
    problems.push({ field: 'policy.weights', rule: 'sum', message: `Weights must add up to 1 (they add up to ${sum})` });
  }
  for (const field of ['lowBelow', 'mediumBelow'] as const) {
    if (!Number.isFinite(policy[field])) {
      problems.push({ field: `policy.${field}`, rule: 'range', message: 'Threshold must be a finite number' });
    }
  }
  if (Number.isFinite(policy.lowBelow) && Number.isFinite(policy.mediumBelow) && policy.lowBelow >= policy.mediumBelow) {
    problems.push({ field: 'policy.mediumBelow', rule: 'order', message: 'mediumBelow must be greater than lowBelow' });
  }
  return problems;
}

/** Problems with submitted factors; a missing or out-of-range factor is refused rather than defaulted. */
export function validateRiskFactors(factors: RiskFactorsInput): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  for (const name of RISK_FACTORS) {
    const field = `factors.${name}`;
    const factor = factors[name];
    if (factor == null || factor.score == null) {
      problems.push({ field, rule: 'required', message: `${name} must be scored` });
      continue;
    }
    if (!Number.isInteger(factor.score) || factor.score < MIN_SCORE || factor.score > MAX_SCORE) {
      problems.push({ field, rule: 'range', message: `${name} must be an integer from ${MIN_SCORE} to ${MAX_SCORE}` });
    }
    if (typeof factor.justification !== 'string' || factor.justification.trim() === '') {
      problems.push({ field: `${field}.justification`, rule: 'required', message: `${name} needs a justification` });
    }
  }
  return problems;
}

/** Weighted risk score (exact, plus rounded for display) and its level, or why it cannot be computed. */
export function assessRisk(factors: RiskFactorsInput, policy: RiskPolicy = DEFAULT_RISK_POLICY): RiskAssessment {
  const problems = [...validateRiskPolicy(policy), ...validateRiskFactors(factors)];
  if (problems.length > 0) return { ok: false, problems };

  const valid = factors as RiskFactors;
  // Weights sum to 1, so the weighted sum is the weighted average.
  let score = 0;
  for (const name of RISK_FACTORS) score += valid[name].score * policy.weights[name];
  return {
    ok: true,
    score,
    displayScore: Math.round(score * 100) / 100,
    level: riskLevel(score, policy),
    factors: valid,
  };
}

/** The level a score falls into under a policy. */
export function riskLevel(score: number, policy: RiskPolicy = DEFAULT_RISK_POLICY): RiskLevel {
  if (score < policy.lowBelow - EPSILON) return 'LOW';
  if (score < policy.mediumBelow - EPSILON) return 'MEDIUM';
  return 'HIGH';
}
