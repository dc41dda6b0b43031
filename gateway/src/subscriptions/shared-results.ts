import { createHash } from 'node:crypto';
import type { FormattedExecutionResult } from 'graphql';

/**
 * Per-event results shared between subscribers who would compute the same thing: same tenant, same roles,
 * same operation and variables (the resume position aside) and the same primary data of the same event.
 * A hundred dashboards of one tenant then cost one run of the rest of the plan per event, not a hundred.
 * What a subgraph answers depends on the tenant and the roles of the signed identity, not on the user.
 */
export class SharedEventResults {
  private readonly entries = new Map<string, { result: Promise<FormattedExecutionResult>; expires: number }>();

  constructor(
    private readonly ttlMs = 10_000,
    private readonly maxEntries = 10_000,
  ) {}

  /** The result stored under the key parts, computing (once) when absent or expired. */
  get(parts: readonly string[], compute: () => Promise<FormattedExecutionResult>): Promise<FormattedExecutionResult> {
    const key = createHash('sha256').update(parts.join('\u0000')).digest('base64url');
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expires > now) return hit.result;
    this.prune(now);
    const result = compute();
    this.entries.set(key, { result, expires: now + this.ttlMs });
    return result;
  }

  get size(): number {
    return this.entries.size;
  }

  private prune(now: number): void {
    // Entries are in insertion order, so expired ones are at the front.
    for (const [key, entry] of this.entries) {
      if (entry.expires > now && this.entries.size < this.maxEntries) break;
      this.entries.delete(key);
    }
  }
}
