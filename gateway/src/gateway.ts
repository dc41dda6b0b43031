import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { IDENTITY_HEADERS, maskUnexpectedError, serveGraphQL, signIdentity, type HttpService, type Identity, type Logger, type Route } from '@itsm/kit';
import type { TokenVerifier } from './auth.js';
import type { SubscriptionLimits } from './subscriptions/federated-subscription.js';
import { attachSubscriptionServer, type SubscriptionServer } from './subscriptions/server.js';

/** Per-request context of the gateway: the verified caller and a request id for the logs. */
export interface GatewayContext {
  identity: Identity;
  requestId: string;
}

/** Forwards the caller's identity to subgraphs in HMAC-signed headers. */
class SignedDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(url: string, private readonly internalSecret: string) {
    super({ url });
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    if (!('identity' in context) || !context.identity) return;
    for (const [name, value] of Object.entries(signIdentity(context.identity, this.internalSecret))) request.http?.headers.set(name, value);
    request.http?.headers.set(IDENTITY_HEADERS.requestId, context.requestId);
  }
}

export interface GatewayOptions {
  supergraphSdl: string;
  /** Where each subgraph (by its name in the supergraph) listens. */
  subgraphUrls: Record<string, string>;
  internalSecret: string;
  verifyToken: TokenVerifier;
  logger: Logger;
  host: string;
  port: number;
  routes?: Route[];
  /** Buffer and retry limits of subscriptions over graphql-ws. */
  subscriptionLimits?: Partial<SubscriptionLimits>;
}

export interface RunningGateway extends HttpService {
  apollo: ApolloServer<GatewayContext>;
  gateway: ApolloGateway;
  /** graphql-ws on `/graphql`: federated subscriptions. */
  subscriptions: SubscriptionServer;
  /** Serves a new supergraph without a restart; live subscriptions end with SCHEMA_RELOADED. */
  reloadSupergraph(supergraphSdl: string): void;
}

/** Starts the gateway: verifies tokens, plans queries over the committed supergraph, signs subgraph calls. */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  // The data sources are kept by name: subscriptions run the rest of their plans through them too.
  const dataSources: Record<string, SignedDataSource> = {};
  let updateSupergraph: ((supergraphSdl: string) => void) | undefined;
  const gateway = new ApolloGateway({
    supergraphSdl: async ({ update }) => {
      updateSupergraph = update;
      return { supergraphSdl: options.supergraphSdl };
    },
    buildService: ({ name, url }) => {
      const target = options.subgraphUrls[name] ?? url;
      if (!target) throw new Error(`no URL configured for subgraph ${name}`);
      return (dataSources[name] = new SignedDataSource(target, options.internalSecret));
    },
  });
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    formatError: maskUnexpectedError(options.logger),
    includeStacktraceInErrorResponses: false,
    // Clients authenticate with an Authorization header, which no cross-site simple request can carry: it counts as
    // the preflight-forcing header, so plain GET queries (GraphQL over HTTP) work without apollo-require-preflight.
    csrfPrevention: { requestHeaders: ['authorization', 'x-apollo-operation-name', 'apollo-require-preflight'] },
  });
  await apollo.start();
  const http = await serveGraphQL({
    apollo,
    host: options.host,
    port: options.port,
    routes: options.routes,
    context: async (req: IncomingMessage) => {
      const header = req.headers[IDENTITY_HEADERS.requestId];
      const requestId = typeof header === 'string' && /^[\w-]{1,64}$/.test(header) ? header : randomUUID();
      return { identity: await options.verifyToken(req.headers.authorization), requestId };
    },
  });
  const subscriptions = attachSubscriptionServer({
    server: http.server,
    gateway,
    apollo,
    supergraphSdl: options.supergraphSdl,
    dataSources,
    subgraphUrl: (name) => dataSources[name]?.url ?? options.subgraphUrls[name] ?? '',
    internalSecret: options.internalSecret,
    verifyToken: options.verifyToken,
    logger: options.logger,
    limits: options.subscriptionLimits,
  });
  options.logger.info({ url: http.url }, 'gateway listening');
  return {
    ...http,
    apollo,
    gateway,
    subscriptions,
    reloadSupergraph: (supergraphSdl) => updateSupergraph?.(supergraphSdl),
    close: async () => {
      await subscriptions.close();
      await http.close();
      await apollo.stop();
    },
  };
}
