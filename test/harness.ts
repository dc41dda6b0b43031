import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { issueToken } from '@itsm/gateway';
import { loadConfig, type Config, type Logger, type Role } from '@itsm/kit';
import { startGraph, type RunningGraph } from '../scripts/graph.js';

/** The server tests create their databases on; CI and this machine run one on 127.0.0.1. */
export const ADMIN_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function serverAnswers(): Promise<boolean> {
  const client = postgres(ADMIN_DATABASE_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await client`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await client.end({ timeout: 1 }).catch(() => {});
  }
}

/**
 * Whether a PostgreSQL server is there. Without one (a fresh laptop) the suite runs on embedded
 * PGlite and skips the tests that need several connections; CI sets ITSM_TEST_REQUIRE_POSTGRES=1
 * so a missing server fails the run instead of quietly testing less.
 */
export const serverAvailable = await serverAnswers();
if (!serverAvailable && process.env.ITSM_TEST_REQUIRE_POSTGRES === '1') {
  throw new Error(`ITSM_TEST_REQUIRE_POSTGRES=1 but no PostgreSQL answers at ${ADMIN_DATABASE_URL}`);
}

export interface TestGraph extends RunningGraph {
  config: Config;
  url: string;
  databaseName: string;
  /** A token for a tenant (a new one unless named) with the given roles. */
  token(options?: { tenant?: string; roles?: Role[]; sub?: string; expiresIn?: string | number }): Promise<string>;
  /** POSTs a GraphQL request to the gateway and returns the parsed body and status. */
  request<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
  ): Promise<{ status: number; body: { data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] } }>;
}

/** Creates a fresh database for one test file; dropped by stop(). */
export async function createTestDatabase(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `itsm_test_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const client = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
      await client.unsafe(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

/** Starts the whole graph on its own PostgreSQL database (or PGlite in memory) on free ports. */
export async function startTestGraph(
  options: {
    embedded?: boolean;
    env?: Record<string, string>;
    /** Where every service logs (a pino logger on a capturing stream, to assert on log lines). */
    logger?: Logger;
    /** False: no background work (SLA monitor, recurrence detector), for tests that must see nothing else move. */
    background?: boolean;
  } = {},
): Promise<TestGraph> {
  const database = options.embedded || !serverAvailable ? undefined : await createTestDatabase();
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    GATEWAY_PORT: '0',
    INCIDENT_PORT: '0',
    PROBLEM_PORT: '0',
    CHANGE_PORT: '0',
    DATA_DIR: 'memory://',
    // Suites send many requests with one token; the rate limit has its own test (limits.test.ts) that sets it.
    RATE_LIMIT_PER_MINUTE: '0',
    ...(database ? { DATABASE_URL: database.url } : {}),
    ...options.env,
  });
  const graph = await startGraph(config, { logger: options.logger, background: options.background });
  const url = graph.gateway.url;
  return {
    ...graph,
    config,
    url,
    databaseName: database?.name ?? 'pglite',
    stop: async () => {
      await graph.stop();
      await database?.drop();
    },
    token: (o = {}) =>
      issueToken(config.jwt.secret!, { sub: o.sub ?? 'test-user', tenant: o.tenant ?? randomUUID(), roles: o.roles ?? ['agent'] }, o.expiresIn),
    request: async (query, variables, token) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, body: (await response.json()) as never };
    },
  };
}
