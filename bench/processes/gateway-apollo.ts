import { readFileSync } from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { createTokenVerifier } from '@itsm/gateway';
import { signIdentity, type Identity } from '@itsm/kit';
import { readGatewayConfig } from '../lib/gateway-config.js';
import { serveProcess } from '../lib/ipc.js';

/**
 * Stock @apollo/gateway: a plain ApolloServer + ApolloGateway with stock settings and startStandaloneServer.
 * The only addition is the data source that signs the caller's identity, without which subgraphs refuse the call.
 */
const config = readGatewayConfig();
const verifyToken = createTokenVerifier({ secret: config.jwtSecret });

interface Context {
  identity: Identity;
}

class SigningDataSource extends RemoteGraphQLDataSource<Context> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<Context>): void {
    if (!('identity' in context) || !context.identity) return;
    for (const [name, value] of Object.entries(signIdentity(context.identity, config.internalSecret))) request.http?.headers.set(name, value);
  }
}

const gateway = new ApolloGateway({
  supergraphSdl: readFileSync(config.supergraphFile, 'utf8'),
  buildService: ({ url }) => new SigningDataSource({ url }),
});
const server = new ApolloServer<Context>({ gateway });
const { url } = await startStandaloneServer(server, {
  listen: { host: '127.0.0.1', port: 0 },
  context: async ({ req }) => ({ identity: await verifyToken(req.headers.authorization) }),
});
serveProcess(url.replace('localhost', '127.0.0.1'), {}, () => server.stop());
