import { z } from 'zod';

const DEV_JWT_SECRET = 'itsm-dev-jwt-secret-change-me-in-production-0001';
const DEV_INTERNAL_SECRET = 'itsm-dev-internal-secret-change-me-in-production-01';

const optionalUrl = z.string().url().optional();
const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const positiveInt = z.coerce.number().int().min(1);

const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    HOST: z.string().default('127.0.0.1'),
    DATABASE_URL: optionalUrl,
    INCIDENT_DATABASE_URL: optionalUrl,
    PROBLEM_DATABASE_URL: optionalUrl,
    CHANGE_DATABASE_URL: optionalUrl,
    DATA_DIR: z.string().default('.data'),
    GATEWAY_PORT: z.coerce.number().int().min(0).max(65535).default(4000),
    INCIDENT_PORT: z.coerce.number().int().min(0).max(65535).default(4001),
    PROBLEM_PORT: z.coerce.number().int().min(0).max(65535).default(4002),
    CHANGE_PORT: z.coerce.number().int().min(0).max(65535).default(4003),
    INCIDENT_URL: optionalUrl,
    PROBLEM_URL: optionalUrl,
    CHANGE_URL: optionalUrl,
    JWT_SECRET: z.string().min(32).optional(),
    JWKS_URL: optionalUrl,
    JWT_ISSUER: z.string().optional(),
    JWT_AUDIENCE: z.string().optional(),
    INTERNAL_SECRET: z.string().min(32).optional(),
    DEMO_DATA: z.enum(['auto', 'servicenow', 'generated', 'none']).default('auto'),
    SERVICENOW_CSV: z.string().optional(),
    // Abuse limits of the gateway (docs in gateway/src/limits/README.md).
    MAX_QUERY_DEPTH: positiveInt.default(12),
    MAX_ALIASES: z.coerce.number().int().min(0).default(30),
    MAX_QUERY_COST: positiveInt.default(25_000),
    RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).default(600),
    MAX_BODY_BYTES: positiveInt.default(1_000_000),
    PERSISTED_QUERIES_FILE: z.string().optional(),
    PERSISTED_QUERIES_ONLY_FOR_PARTNERS: flag.default(false),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV !== 'production') return;
    if (!env.JWT_SECRET && !env.JWKS_URL)
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'production needs JWT_SECRET or JWKS_URL' });
    if (!env.INTERNAL_SECRET)
      ctx.addIssue({ code: 'custom', path: ['INTERNAL_SECRET'], message: 'production needs INTERNAL_SECRET' });
  });

export type SubgraphName = 'incident' | 'problem' | 'change';
export const SUBGRAPHS: readonly SubgraphName[] = ['incident', 'problem', 'change'];

export interface Config {
  env: 'development' | 'production' | 'test';
  logLevel: string;
  host: string;
  dataDir: string;
  gatewayPort: number;
  jwt: { secret?: string; jwksUrl?: string; issuer?: string; audience?: string };
  internalSecret: string;
  demoData: 'auto' | 'servicenow' | 'generated' | 'none';
  servicenowCsv?: string;
  subgraphs: Record<SubgraphName, { port: number; url?: string; databaseUrl?: string }>;
  limits: LimitsConfig;
}

/** What the gateway refuses; see gateway/src/limits/README.md. */
export interface LimitsConfig {
  maxQueryDepth: number;
  maxAliases: number;
  /** Static estimate: each field 1, a list field multiplies its selection by `first` or the default page size. */
  maxQueryCost: number;
  /** Requests per minute per token (subject + tenant), per gateway replica; 0 turns the limit off. */
  rateLimitPerMinute: number;
  maxBodyBytes: number;
  /** Allow-list of persisted operations; the gateway's own persisted-queries.json when unset. */
  persistedQueriesFile?: string;
  /** When true, callers with the partner role may run only operations of the allow-list. */
  persistedQueriesOnlyForPartners: boolean;
  /** Introspection (__schema, __type) is refused in production. */
  introspection: boolean;
}

/** Parses the environment once; a bad value fails start-up with the variable's name. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const env = parsed.data;
  return {
    env: env.NODE_ENV,
    logLevel: env.LOG_LEVEL,
    host: env.HOST,
    dataDir: env.DATA_DIR,
    gatewayPort: env.GATEWAY_PORT,
    jwt: {
      secret: env.JWT_SECRET ?? (env.JWKS_URL ? undefined : DEV_JWT_SECRET),
      jwksUrl: env.JWKS_URL,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
    },
    internalSecret: env.INTERNAL_SECRET ?? DEV_INTERNAL_SECRET,
    demoData: env.DEMO_DATA,
    servicenowCsv: env.SERVICENOW_CSV,
    subgraphs: {
      incident: { port: env.INCIDENT_PORT, url: env.INCIDENT_URL, databaseUrl: env.INCIDENT_DATABASE_URL ?? env.DATABASE_URL },
      problem: { port: env.PROBLEM_PORT, url: env.PROBLEM_URL, databaseUrl: env.PROBLEM_DATABASE_URL ?? env.DATABASE_URL },
      change: { port: env.CHANGE_PORT, url: env.CHANGE_URL, databaseUrl: env.CHANGE_DATABASE_URL ?? env.DATABASE_URL },
    },
    limits: {
      maxQueryDepth: env.MAX_QUERY_DEPTH,
      maxAliases: env.MAX_ALIASES,
      maxQueryCost: env.MAX_QUERY_COST,
      rateLimitPerMinute: env.RATE_LIMIT_PER_MINUTE,
      maxBodyBytes: env.MAX_BODY_BYTES,
      persistedQueriesFile: env.PERSISTED_QUERIES_FILE,
      persistedQueriesOnlyForPartners: env.PERSISTED_QUERIES_ONLY_FOR_PARTNERS,
      introspection: env.NODE_ENV !== 'production',
    },
  };
}
