import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { readEvents, type DatabaseHandle, type Db, type Identity, type Role } from '@itsm/kit';
import type { TestGraph } from './harness.js';

/** Shared helpers of the incident and SLA suites. */

export const INCIDENT_FIELDS = /* GraphQL */ `
  id number title description state holdReason impact urgency priority priorityLabel priorityOverridden
  category subcategory autoCategorization { category subcategory matchedKeywords }
  configurationItem assignmentGroup assignee caller reassignmentCount reopenCount major
  openedAt resolvedAt closedAt updatedAt resolutionCode resolutionNotes rootCause workaround version escalationLevel
`;

export const ERRORS = /* GraphQL */ `errors { __typename code message ... on ValidationFailed { field rule } ... on VersionConflict { currentVersion } ... on InvalidTransition { from to } ... on Forbidden { requiredRoles } }`;

export const CREATE = /* GraphQL */ `
  mutation ($input: CreateIncidentInput!) { createIncident(input: $input) { incident { ${INCIDENT_FIELDS} } ${ERRORS} } }
`;
export const UPDATE = /* GraphQL */ `
  mutation ($input: UpdateIncidentInput!) { updateIncident(input: $input) { incident { ${INCIDENT_FIELDS} } ${ERRORS} } }
`;
export const TRANSITION = /* GraphQL */ `
  mutation ($input: TransitionIncidentInput!) { transitionIncident(input: $input) { incident { ${INCIDENT_FIELDS} } ${ERRORS} } }
`;

/** A tenant with tokens for each role and a client that fails the test on GraphQL errors. */
export async function tenantOf(graph: TestGraph) {
  const tenantId = randomUUID();
  const tokens = new Map<string, string>();
  const tokenFor = async (roles: Role[]) => {
    const key = roles.join(',');
    if (!tokens.has(key)) tokens.set(key, await graph.token({ tenant: tenantId, roles, sub: `${key || 'nobody'}-user` }));
    return tokens.get(key)!;
  };
  /** Runs an operation; GraphQL errors fail the test. */
  const as = (roles: Role[]) => async <T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const response = await graph.request<T>(query, variables, await tokenFor(roles));
    expect(response.body.errors, JSON.stringify(response.body.errors)).toBeUndefined();
    return response.body.data as T;
  };
  const identity = (roles: Role[] = ['admin']): Identity => ({ userId: `${roles.join(',')}-user`, tenantId, roles });
  return { tenantId, tokenFor, as, agent: as(['agent']), manager: as(['manager']), admin: as(['admin']), identity };
}

/** Creates an incident through the gateway and returns it (fails the test on payload errors). */
export async function createIncident(run: (q: string, v?: Record<string, unknown>) => Promise<any>, input: Record<string, unknown>) {
  const data = await run(CREATE, { input: { impact: 3, urgency: 3, ...input } });
  expect(data.createIncident.errors).toEqual([]);
  return data.createIncident.incident;
}

/** The tenant's outbox events, oldest first. */
export async function outboxEvents(db: Db, tenantId: string, types?: string[]) {
  return readEvents(db, 'incident', { tenantId, limit: 10_000, types });
}

/** Waits until `probe` returns a value (not undefined), checking every 20 ms; fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Rows of a raw SQL statement on either driver (catalog checks). */
export async function rawRows<T>(handle: DatabaseHandle, text: string): Promise<T[]> {
  if (handle.postgres) return (await handle.postgres.unsafe(text)) as unknown as T[];
  return (await handle.pglite!.query<T>(text)).rows;
}
