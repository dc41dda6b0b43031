import { describe, expect, it } from 'vitest';
import { assessRisk, DEFAULT_RISK_POLICY, riskLevel, validateRiskPolicy, type RiskFactorsInput, type RiskPolicy } from './risk.js';

function factors(scores: [number, number, number, number, number, number, number]): RiskFactorsInput {
  const [tc, bi, it, rd, test, rb, ext] = scores;
  const f = (score: number) => ({ score, justification: 'assessed in review' });
  return {
    technicalComplexity: f(tc),
    businessImpact: f(bi),
    implementationTimeline: f(it),
    resourceDependencies: f(rd),
    testingCoverage: f(test),
    rollbackComplexity: f(rb),
    externalDependencies: f(ext),
  };
}

describe('assessRisk', () => {
  it('scores all factors at 5 as HIGH with score 5', () => {
    const result = assessRisk(factors([5, 5, 5, 5, 5, 5, 5]));
    expect(result).toMatchObject({ ok: true, score: 5, displayScore: 5, level: 'HIGH' });
  });

  it('scores all factors at 1 as LOW with score 1', () => {
    expect(assessRisk(factors([1, 1, 1, 1, 1, 1, 1]))).toMatchObject({ ok: true, score: 1, level: 'LOW' });
  });

  it('computes the weighted average of a mixed set', () => {
    const result = assessRisk(factors([4, 3, 2, 3, 5, 4, 1]));
    // 4*0.25 + 3*0.20 + 2*0.15 + 3*0.15 + 5*0.10 + 4*0.10 + 1*0.05
    // = 1.00 + 0.60 + 0.30 + 0.45 + 0.50 + 0.40 + 0.05 = 3.30
    if (!result.ok) throw new Error('expected a score');
    expect(result.score).toBeCloseTo(3.3, 12);
    expect(result.displayScore).toBe(3.3);
    expect(result.level).toBe('MEDIUM');
  });

  it('keeps the exact score and rounds only the display value', () => {
    const thirds: RiskPolicy = {
      ...DEFAULT_RISK_POLICY,
      weights: {
        technicalComplexity: 1 / 3,
        businessImpact: 1 / 3,
        implementationTimeline: 1 / 3,
        resourceDependencies: 0,
        testingCoverage: 0,
        rollbackComplexity: 0,
        externalDependencies: 0,
      },
    };
    // (1 + 1 + 2) / 3 = 1.333...
    const result = assessRisk(factors([1, 1, 2, 5, 5, 5, 5]), thirds);
    if (!result.ok) throw new Error('expected a score');
    expect(result.score).toBeCloseTo(4 / 3, 12);
    expect(result.displayScore).toBe(1.33);
  });

  it('refuses missing and out-of-range factors instead of defaulting them', () => {
    const input = factors([3, 3, 3, 3, 3, 3, 6]);
    delete input.testingCoverage;
    const result = assessRisk({ ...input, businessImpact: { score: 2.5, justification: 'x' } });
    expect(result).toEqual({
      ok: false,
      problems: [
        { field: 'factors.businessImpact', rule: 'range', message: expect.any(String) },
        { field: 'factors.testingCoverage', rule: 'required', message: expect.any(String) },
        { field: 'factors.externalDependencies', rule: 'range', message: expect.any(String) },
      ],
    });
  });

  it('requires a justification for each factor', () => {
    const input = factors([3, 3, 3, 3, 3, 3, 3]);
    const result = assessRisk({ ...input, rollbackComplexity: { score: 2, justification: '  ' } });
    expect(result).toMatchObject({ ok: false, problems: [{ field: 'factors.rollbackComplexity.justification', rule: 'required' }] });
  });
});

describe('riskLevel', () => {
  it('treats the thresholds as exclusive upper bounds', () => {
    expect(riskLevel(2.49)).toBe('LOW');
    expect(riskLevel(2.5)).toBe('MEDIUM');
    expect(riskLevel(3.49)).toBe('MEDIUM');
    expect(riskLevel(3.5)).toBe('HIGH');
  });

  it('does not let float noise pull a boundary score down a level', () => {
    // All factors at 3 sum to 2.9999999999999996 in binary floating point.
    const result = assessRisk(factors([3, 3, 3, 3, 3, 3, 3]), { ...DEFAULT_RISK_POLICY, lowBelow: 3, mediumBelow: 4 });
    expect(result).toMatchObject({ ok: true, displayScore: 3, level: 'MEDIUM' });
  });
});

describe('validateRiskPolicy', () => {
  it('accepts the default policy', () => {
    expect(validateRiskPolicy(DEFAULT_RISK_POLICY)).toEqual([]);
  });

  it('refuses weights that do not sum to 1, negative weights and unordered thresholds', () => {
    const skewed = { ...DEFAULT_RISK_POLICY, weights: { ...DEFAULT_RISK_POLICY.weights, externalDependencies: 0.1 } };
    expect(validateRiskPolicy(skewed)).toMatchObject([{ field: 'policy.weights', rule: 'sum' }]);

    const negative = { ...DEFAULT_RISK_POLICY, weights: { ...DEFAULT_RISK_POLICY.weights, testingCoverage: -0.1, externalDependencies: 0.25 } };
    expect(validateRiskPolicy(negative)).toMatchObject([{ field: 'policy.weights.testingCoverage', rule: 'range' }]);

    const unordered = { ...DEFAULT_RISK_POLICY, lowBelow: 3.5, mediumBelow: 2.5 };
    expect(validateRiskPolicy(unordered)).toMatchObject([{ field: 'policy.mediumBelow', rule: 'order' }]);
  });

  it('makes assessRisk report policy problems', () => {
    const result = assessRisk(factors([3, 3, 3, 3, 3, 3, 3]), { ...DEFAULT_RISK_POLICY, mediumBelow: 2 });
    expect(result).toMatchObject({ ok: false, problems: [{ field: 'policy.mediumBelow', rule: 'order' }] });
  });
});
