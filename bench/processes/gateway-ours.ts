import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { createTokenVerifier, startGateway, type GatewayPerfOptions } from '@itsm/gateway';
import { createLogger, loadConfig } from '@itsm/kit';
import { readGatewayConfig } from '../lib/gateway-config.js';
import { serveProcess } from '../lib/ipc.js';

/**
 * This project's gateway (`startGateway` from @itsm/gateway) as production starts it: operation limits, metrics and
 * request logs on. The per-token rate limit is off (RATE_LIMIT_PER_MINUTE=0): the load comes from one token, and the
 * peers have no rate limit either. Tuning experiments pass `perf` settings, or `cluster: n` for n worker processes.
 */
const config = readGatewayConfig();
const tuning = (config.tuning ?? {}) as { perf?: Partial<GatewayPerfOptions>; cluster?: number };
const { limits } = loadConfig({ NODE_ENV: 'development', RATE_LIMIT_PER_MINUTE: '0' });

async function start(port: number) {
  return startGateway({
    supergraphSdl: readFileSync(config.supergraphFile, 'utf8'),
    subgraphUrls: config.subgraphUrls,
    internalSecret: config.internalSecret,
    verifyToken: createTokenVerifier({ secret: config.jwtSecret }),
    logger: createLogger('error', 'gateway'),
    host: '127.0.0.1',
    port,
    limits,
    ...(tuning.perf ? { perf: tuning.perf } : {}),
  });
}

const workers = tuning.cluster ?? 1;
if (workers <= 1) {
  const gateway = await start(0);
  serveProcess(gateway.url, {}, () => gateway.close());
} else if (cluster.isPrimary) {
  // Workers share one listening socket (port 0 is picked once by the primary for all of them).
  const urls: string[] = [];
  await new Promise<void>((resolve) => {
    for (let i = 0; i < workers; i++) {
      const worker = cluster.fork({ ...process.env });
      worker.on('message', (message: { url?: string }) => {
        if (message.url) urls.push(message.url);
        if (urls.length === workers) resolve();
      });
    }
  });
  serveProcess(urls[0]!, {}, async () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
  });
} else {
  const gateway = await start(Number(process.env.BENCH_CLUSTER_PORT ?? 0));
  process.send!({ url: gateway.url });
}
