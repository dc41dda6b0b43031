import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { sql, type SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';

/** A drizzle database or transaction, on either driver; query functions take this. */
export type Db = PgDatabase<PgQueryResultHKT>;

export interface DatabaseHandle {
  db: Db;
  /** The driver behind it: PostgreSQL server or embedded PGlite. */
  kind: 'postgres' | 'pglite';
  /** SQL statements issued through drizzle since start: lets tests prove batching. */
  statementCount(): number;
  /** The raw postgres-js client (LISTEN/NOTIFY, reserved connections); undefined on PGlite. */
  postgres?: postgres.Sql;
  /** The PGlite instance (LISTEN/NOTIFY on the embedded path); undefined on PostgreSQL. */
  pglite?: PGlite;
  /**
   * A database whose every statement runs as the tenant role with `app.tenant_id` set, so the
   * tables' row-level security policies refuse other tenants' rows even if a query forgets its
   * tenant filter. Request handlers use this; `db` (the owner) is for migrations and background work.
   */
  forTenant(tenantId: string): Db;
  close(): Promise<void>;
}

/** The role row-level security policies apply to (created by each subgraph's RLS migration). */
export const TENANT_ROLE = 'itsm_app';

const SCOPE_SQL = `select set_config('role', '${TENANT_ROLE}', true), set_config('app.tenant_id', $1, true)`;

/** Keeps the last tenants' scoped databases so a request does not rebuild drizzle's session. */
function tenantCache(build: (tenantId: string) => Db, size = 256): (tenantId: string) => Db {
  const cache = new Map<string, Db>();
  return (tenantId) => {
    let db = cache.get(tenantId);
    if (db) cache.delete(tenantId);
    else db = build(tenantId);
    cache.set(tenantId, db);
    if (cache.size > size) cache.delete(cache.keys().next().value!);
    return db;
  };
}

/**
 * A postgres-js client look-alike for drizzle: each statement (or transaction) runs inside a
 * transaction that first switches to the tenant role and sets the tenant, both transaction-local,
 * so a pooled connection never carries one tenant's setting into another's request.
 */
function tenantScopedPostgres(client: postgres.Sql, tenantId: string): postgres.Sql {
  const scoped = <T>(run: (tx: postgres.TransactionSql) => Promise<T>) =>
    client.begin(async (tx) => {
      await tx.unsafe(SCOPE_SQL, [tenantId]);
      return run(tx);
    }) as Promise<T>;
  const scopedClient = {
    options: client.options,
    unsafe: (query: string, params?: unknown[], options?: object) => {
      const run = (values: boolean) =>
        scoped((tx) => {
          const pending = tx.unsafe(query, params as never[], options);
          return (values ? pending.values() : pending) as Promise<unknown>;
        });
      return { then: (ok: never, fail: never) => run(false).then(ok, fail), values: () => run(true) };
    },
    begin: (fn: (tx: postgres.TransactionSql) => Promise<unknown>) => scoped(fn),
  };
  return scopedClient as unknown as postgres.Sql;
}

/** The PGlite counterpart of tenantScopedPostgres. */
function tenantScopedPglite(client: PGlite, tenantId: string): PGlite {
  type Tx = Parameters<Parameters<PGlite['transaction']>[0]>[0];
  const scoped = <T>(run: (tx: Tx) => Promise<T>) =>
    client.transaction(async (tx) => {
      await tx.query(SCOPE_SQL, [tenantId]);
      return run(tx);
    });
  const scopedClient = {
    query: (query: string, params?: unknown[], options?: object) => scoped((tx) => tx.query(query, params, options)),
    transaction: (fn: (tx: Tx) => Promise<unknown>) => scoped(fn),
  };
  return scopedClient as unknown as PGlite;
}

export interface OpenDatabaseOptions {
  /** PostgreSQL URL; without it the database is embedded PGlite in `dataDir`. */
  url?: string;
  /** PGlite data directory; `memory://` keeps it in memory. */
  dataDir?: string;
  /** The subgraph's own Postgres schema; migrations bookkeeping lives there too. */
  schemaName: string;
  /** drizzle-kit output folder of this subgraph. */
  migrationsFolder: string;
  poolSize?: number;
}

/** Opens a subgraph's database on PostgreSQL or PGlite and applies its migrations. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<DatabaseHandle> {
  let statements = 0;
  const logger = { logQuery: () => void statements++ };
  const migrationConfig = {
    migrationsFolder: options.migrationsFolder,
    migrationsSchema: options.schemaName,
    migrationsTable: '__migrations',
  };

  if (options.url) {
    await migrateWithLock(options.url, options.schemaName, migrationConfig);
    const client = postgres(options.url, { max: options.poolSize ?? 10, onnotice: () => {} });
    const db = drizzlePostgres(client, { logger }) as unknown as Db;
    const forTenant = tenantCache((tenantId) => drizzlePostgres(tenantScopedPostgres(client, tenantId), { logger }) as unknown as Db);
    return { db, kind: 'postgres', postgres: client, forTenant, statementCount: () => statements, close: () => client.end({ timeout: 5 }) };
  }

  const dataDir = options.dataDir ?? 'memory://';
  let unlock = () => {};
  if (!dataDir.startsWith('memory://')) {
    mkdirSync(dataDir, { recursive: true });
    unlock = lockDataDir(dataDir);
  }
  try {
    const client = await PGlite.create(dataDir, { extensions: { btree_gist, pg_trgm } });
    const db = drizzlePglite(client, { logger }) as unknown as Db;
    await migratePglite(db as never, migrationConfig);
    const forTenant = tenantCache((tenantId) => drizzlePglite(tenantScopedPglite(client, tenantId), { logger }) as unknown as Db);
    return { db, kind: 'pglite', pglite: client, forTenant, statementCount: () => statements, close: () => client.close().finally(unlock) };
  } catch (error) {
    unlock();
    throw error;
  }
}

/** The file in a PGlite data directory that says which process has it open. */
export const DATA_DIR_LOCK_FILE = 'itsm.lock';

/**
 * PGlite has no lock of its own: two processes on one data directory (a second `pnpm start`) each keep their own
 * copy in memory and overwrite each other's files, so writes are lost and the directory can be corrupted. The
 * opener holds `<dataDir>/itsm.lock` (its pid) until it closes; a lock whose process is gone (kill -9) is taken
 * over. Returns the release.
 */
function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, DATA_DIR_LOCK_FILE);
  const mine = String(process.pid);
  for (;;) {
    try {
      writeFileSync(path, mine, { flag: 'wx' });
      return () => {
        try {
          if (readFileSync(path, 'utf8') === mine) unlinkSync(path);
        } catch {
          // Already gone.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder = 0;
    try {
      holder = Number(readFileSync(path, 'utf8').trim());
    } catch {
      continue; // Released in between: try again.
    }
    if (Number.isInteger(holder) && holder > 0 && processAlive(holder)) {
      throw new Error(
        `the database directory ${dataDir} is in use by process ${holder}${holder === process.pid ? ' (this one)' : ''}: ` +
          `stop that process first (two processes on one PGlite directory lose each other's writes), or delete ${path} if it is not ours`,
      );
    }
    try {
      unlinkSync(path);
    } catch {
      // Someone else took it over first: the next round sees their lock.
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Replicas starting together must not apply the same migration twice: serialise on an advisory lock. */
async function migrateWithLock(
  url: string,
  schemaName: string,
  config: { migrationsFolder: string; migrationsSchema: string; migrationsTable: string },
): Promise<void> {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await client`select pg_advisory_lock(hashtext(${'itsm-migrate:' + schemaName}))`;
    await migratePostgres(drizzlePostgres(client), config);
    await client`select pg_advisory_unlock(hashtext(${'itsm-migrate:' + schemaName}))`;
  } finally {
    await client.end({ timeout: 5 });
  }
}

/** True when the database answers a trivial query (readiness probes). */
export async function pingDatabase(db: Db): Promise<boolean> {
  await db.execute(sql`select 1`);
  return true;
}

/** Runs raw SQL and returns its rows on either driver (they shape results differently). */
export async function queryRows<T extends Record<string, unknown>>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows?: T[] } | T[];
  return Array.isArray(result) ? result : (result.rows ?? []);
}

/** Takes the next value of a per-tenant counter in one statement: no max()+1 races. */
export async function nextCounterValue(db: Db, schemaName: string, tenantId: string, name: string): Promise<number> {
  const rows = await queryRows<{ value: number | string }>(
    db,
    sql`insert into ${sql.identifier(schemaName)}.counters as c (tenant_id, name, value)
        values (${tenantId}, ${name}, 1)
        on conflict (tenant_id, name) do update set value = c.value + 1
        returning c.value`,
  );
  return Number(rows[0]!.value);
}

/** Moves a counter forward to at least `value` (imports keep their source numbers). */
export async function raiseCounter(db: Db, schemaName: string, tenantId: string, name: string, value: number): Promise<void> {
  await db.execute(
    sql`insert into ${sql.identifier(schemaName)}.counters as c (tenant_id, name, value)
        values (${tenantId}, ${name}, ${value})
        on conflict (tenant_id, name) do update set value = greatest(c.value, excluded.value)`,
  );
}
