import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Db } from '@itsm/kit';

/**
 * Advisory-lock keys of this subgraph: 64 bits of a SHA-256 over the tenant and the thing locked, so keys are the
 * same in every process and can be sorted (every transaction takes them in ascending order: no deadlocks).
 */
function lockKey(tenantId: string, key: string): bigint {
  return createHash('sha256').update(`change:${tenantId}:${key}`).digest().readBigInt64BE(0);
}

/** What a change's schedule depends on: its items, services, assignee, itself (once it has an id) and the changes it depends on. */
export function scheduleLockKeys(change: {
  id: string | null;
  configurationItems: readonly string[];
  services: readonly string[];
  assigneeId: string | null;
  dependsOnIds?: readonly string[];
}): string[] {
  return [
    ...change.configurationItems.map((ci) => `ci:${ci}`),
    ...change.services.map((service) => `service:${service}`),
    ...(change.assigneeId !== null ? [`assignee:${change.assigneeId}`] : []),
    ...(change.id !== null ? [`change:${change.id}`] : []),
    ...(change.dependsOnIds ?? []).map((id) => `change:${id}`),
  ];
}

/**
 * Serialises schedulers that could conflict: two transactions scheduling changes on one configuration item (or
 * service, assignee, dependency) take the same lock, so the second one's overlap query runs after the first has
 * committed and sees its row. A shared calendar lock keeps window edits (which take it exclusively) out meanwhile.
 * Transaction-scoped: released at commit or rollback.
 */
export async function lockSchedule(tx: Db, tenantId: string, keys: readonly string[]): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock_shared(${lockKey(tenantId, 'calendar').toString()}::bigint)`);
  const sorted = [...new Set(keys.map((key) => lockKey(tenantId, key)))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const key of sorted) await tx.execute(sql`select pg_advisory_xact_lock(${key.toString()}::bigint)`);
}

/** Takes the tenant's calendar exclusively: no change is being scheduled while windows change. */
export async function lockCalendar(tx: Db, tenantId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${lockKey(tenantId, 'calendar').toString()}::bigint)`);
}
