import { readFileSync } from 'node:fs';
import { createTokenVerifier, startGateway } from '@itsm/gateway';
import { createLogger, loadConfig } from '@itsm/kit';
import { readGatewayConfig } from '../lib/gateway-config.js';
import { serveProcess } from '../lib/ipc.js';

/**
 * This project's gateway (`startGateway` from @itsm/gateway) as production starts it: operation limits, metrics and
 * request logs on. The per-token rate limit is off (RATE_LIMIT_PER_MINUTE=0): the load comes from one token, and the
 * peers have no rate limit either.
 */
const config = readGatewayConfig();
const { limits } = loadConfig({ NODE_ENV: 'development', RATE_LIMIT_PER_MINUTE: '0' });
const gateway = await startGateway({
  supergraphSdl: readFileSync(config.supergraphFile, 'utf8'),
  subgraphUrls: config.subgraphUrls,
  internalSecret: config.internalSecret,
  verifyToken: createTokenVerifier({ secret: config.jwtSecret }),
  logger: createLogger('error', 'gateway'),
  host: '127.0.0.1',
  port: 0,
  limits,
  ...(config.tuning ?? {}),
});
serveProcess(gateway.url, {}, () => gateway.close());
