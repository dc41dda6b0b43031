import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTokenVerifier, startGateway } from '@itsm/gateway';
import { createLogger, loadConfig, openDatabase, SUBGRAPHS, type SubgraphName } from '@itsm/kit';
import { SUPERGRAPH_FILE } from '../schema/compose.js';
import { SUBGRAPH_MODULES } from './graph.js';

/**
 * Runs one service per process, as production does: `tsx scripts/serve.ts gateway|incident|problem|change`.
 * Each subgraph uses its own DATABASE_URL (or <NAME>_DATABASE_URL); the gateway needs each <NAME>_URL.
 */
const config = loadConfig();
const target = process.argv[2];
const logger = createLogger(config.logLevel, target ?? 'itsm');

async function main(): Promise<() => Promise<void>> {
  if (target === 'gateway') {
    const urls = Object.fromEntries(SUBGRAPHS.map((name) => [name, config.subgraphs[name].url ?? `http://${config.host}:${config.subgraphs[name].port}/graphql`]));
    const gateway = await startGateway({
      supergraphSdl: readFileSync(SUPERGRAPH_FILE, 'utf8'),
      subgraphUrls: urls,
      internalSecret: config.internalSecret,
      verifyToken: createTokenVerifier(config.jwt),
      logger,
      host: config.host,
      port: config.gatewayPort,
      limits: config.limits,
    });
    return () => gateway.close();
  }
  if (!SUBGRAPHS.includes(target as SubgraphName)) throw new Error('usage: serve.ts gateway|incident|problem|change');
  const name = target as SubgraphName;
  const module = SUBGRAPH_MODULES[name];
  const database = await openDatabase({
    url: config.subgraphs[name].databaseUrl,
    dataDir: join(config.dataDir, name),
    schemaName: module.schemaName,
    migrationsFolder: module.migrationsFolder,
  });
  const service = await module.start({ database, host: config.host, port: config.subgraphs[name].port, internalSecret: config.internalSecret, logger });
  // Background work (the incident subgraph's SLA monitor) runs in every replica; timers are taken with SKIP LOCKED.
  // The recurrence detector reads the incident subgraph's event feed, at its configured URL.
  const subgraphUrls = Object.fromEntries(SUBGRAPHS.map((peer) => [peer, config.subgraphs[peer].url ?? `http://${config.host}:${config.subgraphs[peer].port}/graphql`]));
  const services = { internalSecret: config.internalSecret, subgraphUrls };
  const stopBackground = module.startBackground ? await module.startBackground(database, logger, services) : undefined;
  return async () => {
    await stopBackground?.();
    await service.close();
    await database.close();
  };
}

const stop = await main();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'shutting down');
    stop().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
