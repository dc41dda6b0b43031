import { createLogger, loadConfig, openDatabase, SUBGRAPHS, type SubgraphName } from '@itsm/kit';
import { SUBGRAPH_MODULES } from '../../scripts/graph.js';
import { serveProcess } from '../lib/ipc.js';

/**
 * One subgraph in its own process, as production runs it (BENCH_SUBGRAPH=incident|problem|change, DATABASE_URL).
 * Answers `statements` with the number of SQL statements its database handle has issued.
 */
const name = process.env.BENCH_SUBGRAPH as SubgraphName;
if (!SUBGRAPHS.includes(name)) throw new Error(`BENCH_SUBGRAPH must be one of ${SUBGRAPHS.join(', ')}`);
const config = loadConfig({ NODE_ENV: 'development', LOG_LEVEL: 'error', DATABASE_URL: process.env.DATABASE_URL });
const logger = createLogger(config.logLevel, name);
const module = SUBGRAPH_MODULES[name];
const database = await openDatabase({
  url: config.subgraphs[name].databaseUrl,
  schemaName: module.schemaName,
  migrationsFolder: module.migrationsFolder,
  poolSize: Number(process.env.BENCH_POOL_SIZE ?? 10),
});
const service = await module.start({ database, host: '127.0.0.1', port: 0, internalSecret: config.internalSecret, logger });
const stopBackground = module.startBackground ? await module.startBackground(database, logger) : undefined;

serveProcess(service.url, { statements: () => database.statementCount() }, async () => {
  await stopBackground?.();
  await service.close();
  await database.close();
});
