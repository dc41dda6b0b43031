import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayMetrics } from './metrics.js';

type SubgraphResponse = Awaited<ReturnType<RemoteGraphQLDataSource['process']>>;

/** A subgraph data source that times each fetch and counts the subgraph's errors in the gateway's metrics. */
export class ObservedDataSource<TContext extends Record<string, any>> extends RemoteGraphQLDataSource<TContext> {
  constructor(
    url: string,
    private readonly subgraph: string,
    private readonly metrics: GatewayMetrics,
  ) {
    super({ url });
  }

  override async process(options: GraphQLDataSourceProcessOptions<TContext>): Promise<SubgraphResponse> {
    const startedAt = performance.now();
    const seconds = () => (performance.now() - startedAt) / 1000;
    try {
      const response = await super.process(options);
      this.metrics.observeSubgraphFetch(this.subgraph, seconds(), { errors: response.errors?.length ?? 0 });
      return response;
    } catch (error) {
      this.metrics.observeSubgraphFetch(this.subgraph, seconds(), { failed: true });
      throw error;
    }
  }
}
