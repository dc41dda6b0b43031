import type { RemoteGraphQLDataSource } from '@apollo/gateway';
import type { TokenVerifier } from '../auth.js';
import { dedupeRepresentations } from './dedupe-representations.js';
import { createKeepAliveFetcher } from './keep-alive-fetcher.js';
import { cacheVerifiedTokens } from './token-cache.js';

export { cacheVerifiedTokens } from './token-cache.js';
export { createKeepAliveFetcher } from './keep-alive-fetcher.js';
export { dedupeRepresentations } from './dedupe-representations.js';

/**
 * Performance settings of the gateway. Each default is what `pnpm bench` measured to help; bench/results/tuning.md
 * has every change tried and its effect, including the ones left off.
 */
export interface GatewayPerfOptions {
  /** Subgraph calls through a keep-alive node:http agent instead of make-fetch-happen. */
  keepAliveFetcher: boolean;
  /** Sockets per subgraph the keep-alive agent may open. */
  maxSocketsPerSubgraph: number;
  /** Send each distinct entity representation once. */
  dedupeRepresentations: boolean;
  /** Verified tokens remembered (0: verify every request). */
  tokenCacheEntries: number;
  tokenCacheTtlMs: number;
  /** Query-plan cache size in MiB (undefined: @apollo/gateway's default, 30). */
  queryPlanCacheMiB?: number;
}

export const DEFAULT_PERF: GatewayPerfOptions = {
  keepAliveFetcher: true,
  maxSocketsPerSubgraph: 256,
  dedupeRepresentations: true,
  tokenCacheEntries: 10_000,
  tokenCacheTtlMs: 60_000,
};

/** Applies the data-source settings to one subgraph's data source. */
export function tuneDataSource<T extends RemoteGraphQLDataSource<any>>(dataSource: T, perf: GatewayPerfOptions): T {
  if (perf.keepAliveFetcher) dataSource.fetcher = createKeepAliveFetcher({ maxSockets: perf.maxSocketsPerSubgraph });
  if (perf.dedupeRepresentations) dataSource.process = dedupeRepresentations(dataSource.process.bind(dataSource));
  return dataSource;
}

/** The token verifier with the verified-token cache when it is on. */
export function tuneTokenVerifier(verify: TokenVerifier, perf: GatewayPerfOptions): TokenVerifier {
  return cacheVerifiedTokens(verify, { maxEntries: perf.tokenCacheEntries, ttlMs: perf.tokenCacheTtlMs });
}
