import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createTokenVerifier, startGateway } from '@itsm/gateway';
import { createLogger, loadConfig } from '@itsm/kit';
import { readGatewayConfig } from '../lib/gateway-config.js';
import { serveProcess } from '../lib/ipc.js';

/**
 * Our gateway in its own process for the subscription benchmark, as production starts it (limits, metrics on; the
 * per-token rate limit off, as in the HTTP benchmark). Answers `memory` (after a full GC) and `subscriptions`
 * (live subscription count) so the benchmark can put a number on the memory one subscriber costs.
 */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

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
});

serveProcess(
  gateway.url,
  {
    memory: () => {
      gc();
      gc();
      const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
      return { rss, heapUsed, external, arrayBuffers };
    },
    subscriptions: () => gateway.subscriptions.activeCount,
  },
  () => gateway.close(),
);
