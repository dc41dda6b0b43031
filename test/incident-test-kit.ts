import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import type { DatabaseHandle, Identity, Role } from '@itsm/kit';
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

/**
 * The tenant's committed outbox rows in write order, read from the table directly: readEvents waits for
 * every older transaction of the whole PostgreSQL cluster to end (pg_snapshot_xmin), so a long transaction
 * elsewhere (another suite, a benchmark load) would only delay what these tests check.
 */
export async function outboxEvents(handle: DatabaseHandle, tenantId: string, types: string[]) {
  const rows = await rawRows<{ type: string; payload: Record<string, any> | string; occurred_at: Date | string }>(
    handle,
    `select type, payload, occurred_at from incident.outbox where tenant_id = $1 and type = any($2) order by position`,
    [tenantId, types],
  );
  return rows.map((r) => ({
    type: r.type,
    payload: (typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload) as Record<string, any>,
    occurredAt: new Date(r.occurred_at),
  }));
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

/** Rows of a raw SQL statement on either driver (catalog checks, outbox rows). */
export async function rawRows<T>(handle: DatabaseHandle, text: string, params: unknown[] = []): Promise<T[]> {
  if (handle.postgres) return (await handle.postgres.unsafe(text, params as never[])) as unknown as T[];
  return (await handle.pglite!.query<T>(text, params)).rows;
}
