import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { Role } from '@itsm/kit';
import type { TestGraph } from './harness.js';

/** One tenant and the tokens of the people in it, for change-management tests through the gateway. */
export interface ChangeTenant {
  tenantId: string;
  as(sub: string, roles: Role[]): Promise<string>;
  /** Runs an operation and fails the test on GraphQL errors; returns data. */
  run<T = any>(token: string, query: string, variables?: Record<string, unknown>): Promise<T>;
}

export function newTenant(graph: TestGraph): ChangeTenant {
  const tenantId = randomUUID();
  return {
    tenantId,
    as: (sub, roles) => graph.token({ tenant: tenantId, sub, roles }),
    run: async (token, query, variables) => {
      const response = await graph.request<any>(query, variables, token);
      expect(response.body.errors, JSON.stringify(response.body.errors)).toBeUndefined();
      return response.body.data;
    },
  };
}

export const ERRORS = /* GraphQL */ `errors { __typename code message ... on ValidationFailed { field rule } ... on InvalidTransition { from to } ... on CabVoteRefused { reason } ... on BlackoutRefusal { window { id name } occurrenceStart occurrenceEnd } }`;

export const CHANGE_FIELDS = /* GraphQL */ `id number title type state version plannedStart plannedEnd configurationItems services assigneeId
  riskLevel riskScore approvalPath approvalStatus closeCode`;

export const CREATE_CHANGE = /* GraphQL */ `
  mutation ($input: CreateChangeRequestInput!) {
    createChangeRequest(input: $input) { changeRequest { ${CHANGE_FIELDS} } ${ERRORS} }
  }
`;

export const TRANSITION = /* GraphQL */ `
  mutation ($input: TransitionChangeRequestInput!) {
    transitionChangeRequest(input: $input) { changeRequest { ${CHANGE_FIELDS} } ${ERRORS} }
  }
`;

export const SCHEDULE = /* GraphQL */ `
  mutation ($input: ScheduleChangeRequestInput!) {
    scheduleChangeRequest(input: $input) {
      changeRequest { ${CHANGE_FIELDS} }
      conflicts { kind severity message otherChangeRequest { number } window { name } }
      ${ERRORS}
    }
  }
`;

export const ASSESS = /* GraphQL */ `
  mutation ($input: AssessChangeRiskInput!) {
    assessChangeRisk(input: $input) {
      changeRequest { ${CHANGE_FIELDS} riskAssessment { score level lowBelow mediumBelow assessedBy factors { factor score weight justification } } }
      ${ERRORS}
    }
  }
`;

/** Seven factors with these scores in the design's order (technical complexity first). */
export function factors(scores: [number, number, number, number, number, number, number]) {
  const names = ['technicalComplexity', 'businessImpact', 'implementationTimeline', 'resourceDependencies', 'testingCoverage', 'rollbackComplexity', 'externalDependencies'];
  return Object.fromEntries(names.map((name, i) => [name, { score: scores[i], justification: `${name} scored ${scores[i]}` }]));
}
