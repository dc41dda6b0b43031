/** What every gateway process of the benchmark is started with (env BENCH_GATEWAY, JSON). */
export interface BenchGatewayConfig {
  /** The one supergraph file every gateway loads. */
  supergraphFile: string;
  /** Subgraph name -> URL (the same URLs the supergraph file names). */
  subgraphUrls: Record<string, string>;
  jwtSecret: string;
  internalSecret: string;
  /** Variant knobs for tuning experiments (ours only). */
  tuning?: Record<string, unknown>;
}

export function readGatewayConfig(): BenchGatewayConfig {
  const raw = process.env.BENCH_GATEWAY;
  if (!raw) throw new Error('BENCH_GATEWAY is not set');
  return JSON.parse(raw) as BenchGatewayConfig;
}
