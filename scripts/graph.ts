import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { changeSubgraph } from '@itsm/change';
import { createTokenVerifier, developmentUiRoutes, startGateway, type RunningGateway } from '@itsm/gateway';
import { incidentSubgraph } from '@itsm/incident';
import {
  createLogger,
  openDatabase,
  type Config,
  type DatabaseHandle,
  type Logger,
  type StopBackground,
  type SubgraphModule,
  type SubgraphName,
  type SubgraphService,
  SUBGRAPHS,
} from '@itsm/kit';
import { problemSubgraph } from '@itsm/problem';
import { SUPERGRAPH_FILE } from '../schema/compose.js';
import { UI_DIST_DIR } from '../ui/build.js';
import { DEMO_TENANT_ID } from './demo-tenant.js';

export const SUBGRAPH_MODULES: Record<SubgraphName, SubgraphModule> = {
  incident: incidentSubgraph,
  problem: problemSubgraph,
  change: changeSubgraph,
};

export type Databases = Record<SubgraphName, DatabaseHandle>;

/** Opens (and migrates) each subgraph's database: PostgreSQL when it has a URL, else PGlite under dataDir. */
export async function openDatabases(config: Config): Promise<Databases> {
  const entries = await Promise.all(
    (Object.keys(SUBGRAPH_MODULES) as SubgraphName[]).map(async (name) => {
      const module = SUBGRAPH_MODULES[name];
      const handle = await openDatabase({
        url: config.subgraphs[name].databaseUrl,
        dataDir: config.dataDir.startsWith('memory://') ? config.dataDir : join(config.dataDir, name),
        schemaName: module.schemaName,
        migrationsFolder: module.migrationsFolder,
      });
      return [name, handle] as const;
    }),
  );
  return Object.fromEntries(entries) as Databases;
}

export interface RunningGraph {
  gateway: RunningGateway;
  subgraphs: Record<SubgraphName, SubgraphService>;
  databases: Databases;
  logger: Logger;
  /** Stops each subgraph's background work (tests stop one to play a restart). */
  background: Partial<Record<SubgraphName, StopBackground>>;
  stop(): Promise<void>;
}

/** Runs the whole graph in one process: three subgraphs on their own ports and the gateway in front. */
export async function startGraph(
  config: Config,
  options: { databases?: Databases; logger?: Logger; background?: boolean } = {},
): Promise<RunningGraph> {
  const logger = options.logger ?? createLogger(config.logLevel, 'itsm');
  const databases = options.databases ?? (await openDatabases(config));
  const subgraphs = {} as Record<SubgraphName, SubgraphService>;
  const background: Partial<Record<SubgraphName, StopBackground>> = {};
  for (const name of Object.keys(SUBGRAPH_MODULES) as SubgraphName[]) {
    const module = SUBGRAPH_MODULES[name];
    subgraphs[name] = await module.start({
      database: databases[name],
      host: config.host,
      port: config.subgraphs[name].port,
      internalSecret: config.internalSecret,
      logger: logger.child({ subgraph: name }),
    });
  }
  // Background work (the SLA monitor, the recurrence detector) runs in the process that hosts the subgraph,
  // once every subgraph listens: some of it reads another subgraph's event feed.
  const services = {
    internalSecret: config.internalSecret,
    subgraphUrls: Object.fromEntries(SUBGRAPHS.map((name) => [name, subgraphs[name]?.url ?? config.subgraphs[name].url])),
  };
  for (const name of Object.keys(SUBGRAPH_MODULES) as SubgraphName[]) {
    const module = SUBGRAPH_MODULES[name];
    if (module.startBackground && options.background !== false) {
      background[name] = await module.startBackground(databases[name], logger.child({ subgraph: name }), services);
    }
  }
  const gateway = await startGateway({
    supergraphSdl: readFileSync(SUPERGRAPH_FILE, 'utf8'),
    subgraphUrls: Object.fromEntries(Object.entries(subgraphs).map(([name, s]) => [name, s.url])),
    internalSecret: config.internalSecret,
    verifyToken: createTokenVerifier(config.jwt),
    logger: logger.child({ service: 'gateway' }),
    host: config.host,
    port: config.gatewayPort,
    limits: config.limits,
    routes: developmentUiRoutes(config, { distDir: UI_DIST_DIR, demoTenantId: DEMO_TENANT_ID }),
  });
  return {
    gateway,
    subgraphs,
    databases,
    logger,
    background,
    stop: async () => {
      await gateway.close();
      await Promise.all(Object.values(background).map((stop) => stop()));
      await Promise.all(Object.values(subgraphs).map((s) => s.close()));
      await Promise.all(Object.values(databases).map((d) => d.close()));
    },
  };
}
