import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGatewayRuntime, type GatewayPlugin } from '@graphql-hive/gateway';
import { createTokenVerifier } from '@itsm/gateway';
import { signIdentity, type Identity } from '@itsm/kit';
import { readGatewayConfig } from '../lib/gateway-config.js';
import { serveProcess } from '../lib/ipc.js';

/**
 * The peer gateway, @graphql-hive/gateway's runtime, on the same supergraph file. A plugin verifies the JWT the same
 * way ours does (jose), and header propagation forwards the identity signed exactly like `signIdentity` in the kit.
 */
const config = readGatewayConfig();
const verifyToken = createTokenVerifier({ secret: config.jwtSecret });

interface Context {
  identity?: Identity;
}

const authenticate: GatewayPlugin<Context> = {
  onContextBuilding: async ({ context, extendContext }) => {
    extendContext({ identity: await verifyToken(context.request.headers.get('authorization') ?? undefined) });
  },
};

const runtime = createGatewayRuntime<Context>({
  supergraph: config.supergraphFile,
  logging: false,
  landingPage: false,
  graphiql: false,
  plugins: () => [authenticate],
  propagateHeaders: {
    fromClientToSubgraphs: ({ context }) => (context.identity ? signIdentity(context.identity, config.internalSecret) : undefined),
  },
});
const server = createServer(runtime);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
serveProcess(`http://127.0.0.1:${port}/graphql`, {}, async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await runtime.dispose();
});
