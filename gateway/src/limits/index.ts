import type { ApolloServerOptions, ApolloServerPlugin } from '@apollo/server';
import type { DocumentNode, GraphQLSchema } from 'graphql';
import { graphqlError, type Identity, type LimitsConfig } from '@itsm/kit';
import { enforceOperationLimits, measureOperation } from './operation-limits.js';
import { PersistedQueries, persistedQueryId } from './persisted-queries.js';
import { TokenBucketLimiter } from './rate-limiter.js';

export * from './operation-limits.js';
export * from './persisted-queries.js';
export * from './rate-limiter.js';

/** Limits as parsed from the environment by the kit's config, without a config the defaults. */
export const DEFAULT_LIMITS: LimitsConfig = {
  maxQueryDepth: 12,
  maxAliases: 30,
  maxQueryCost: 25_000,
  rateLimitPerMinute: 600,
  maxBodyBytes: 1_000_000,
  persistedQueriesOnlyForPartners: false,
  introspection: true,
};

/** What the caller of checkOperationLimits knows about the operation besides its document. */
export interface OperationFacts {
  /** The API schema the operation runs against (list types and `first` arguments). */
  schema: GraphQLSchema;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
  /** The sha256 of the operation's text (Apollo Server's queryHash), or the text itself to hash. */
  queryHash?: string;
  source?: string;
}

export interface GatewayLimits {
  settings: LimitsConfig;
  persistedQueries: PersistedQueries;
  /** Takes one request from the caller's per-minute budget; throws RATE_LIMITED (429, Retry-After) when it is spent. */
  admit(identity: Identity): void;
  /**
   * Throws the coded GraphQL error of the first limit an operation breaks: partner-only persisted operations,
   * introspection, depth, aliases, estimated cost. Call it for every operation before executing it (the HTTP
   * plugin does; the subscription server must call it on each subscribe, after `admit`).
   */
  checkOperationLimits(document: DocumentNode, identity: Identity, facts: OperationFacts): void;
  /** Apollo Server plugin running checkOperationLimits once the operation is resolved, before execution. */
  plugin: ApolloServerPlugin<{ identity: Identity }>;
  /** Apollo Server's `persistedQueries` option: the allow-list, read-only. */
  apolloPersistedQueries: NonNullable<ApolloServerOptions<{ identity: Identity }>['persistedQueries']>;
}

/** Builds the gateway's abuse limits from the config (docs: README.md beside this file). */
export function createGatewayLimits(settings: LimitsConfig = DEFAULT_LIMITS, options: { now?: () => number } = {}): GatewayLimits {
  const persistedQueries = PersistedQueries.load(settings.persistedQueriesFile);
  const limiter = new TokenBucketLimiter(settings.rateLimitPerMinute, settings.rateLimitPerMinute, options.now);

  const checkOperationLimits = (document: DocumentNode, identity: Identity, facts: OperationFacts): void => {
    if (settings.persistedQueriesOnlyForPartners && identity.roles.includes('partner')) {
      const id = facts.queryHash ?? (facts.source !== undefined ? persistedQueryId(facts.source) : undefined);
      if (!persistedQueries.has(id)) {
        throw graphqlError('PERSISTED_QUERY_REQUIRED', 'partners may run only persisted operations: send extensions.persistedQuery.sha256Hash of a listed operation');
      }
    }
    const measures = measureOperation(facts.schema, document, facts);
    if (measures) enforceOperationLimits(measures, settings);
  };

  return {
    settings,
    persistedQueries,
    admit(identity) {
      const waitSeconds = limiter.take(`${identity.tenantId}:${identity.userId}`);
      if (waitSeconds > 0) {
        throw graphqlError(
          'RATE_LIMITED',
          `more than ${settings.rateLimitPerMinute} requests per minute for this token; retry in ${waitSeconds} s`,
          { retryAfterSeconds: waitSeconds },
          [['retry-after', String(waitSeconds)]],
        );
      }
    },
    checkOperationLimits,
    plugin: {
      async requestDidStart() {
        return {
          async didResolveOperation({ document, contextValue, schema, request, queryHash }) {
            checkOperationLimits(document, contextValue.identity, { schema, variables: request.variables, operationName: request.operationName, queryHash });
          },
        };
      },
    },
    apolloPersistedQueries: { cache: persistedQueries.cache },
  };
}
