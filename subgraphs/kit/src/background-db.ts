import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import type { DatabaseHandle, Db } from './db.js';

/**
 * A drizzle database on the same connections as `handle` whose statements are counted apart: background
 * work (monitors, event consumers) then never shows in handle.statementCount(), which tests use to prove a
 * request's batching. `onStatement` lets the background work count its own.
 */
export function backgroundDb(handle: DatabaseHandle, onStatement: () => void = () => {}): Db {
  const logger = { logQuery: () => onStatement() };
  if (handle.postgres) return drizzlePostgres(handle.postgres, { logger }) as unknown as Db;
  if (handle.pglite) return drizzlePglite(handle.pglite, { logger }) as unknown as Db;
  throw new Error(`no connections to share on a ${handle.kind} database handle`);
}
