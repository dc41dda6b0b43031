import { backgroundDb, defineSubgraph } from '@itsm/kit';
import { createLoaders } from './context.js';
import { SCHEMA_NAME } from './db/schema.js';
import { resolvers } from './resolvers/index.js';
import { createSlaMonitor } from './services/sla-monitor.js';
import { startWorkaroundConsumer } from './services/workaround-consumer.js';

/** The incident subgraph: incidents, priority, lifecycle and SLAs; every process hosting it runs the SLA monitor. */
export const incidentSubgraph = defineSubgraph({
  name: 'incident',
  schemaFile: new URL('../schema.graphql', import.meta.url),
  schemaName: SCHEMA_NAME,
  migrationsFolder: new URL('../../../drizzle/incident', import.meta.url),
  resolvers,
  createLoaders,
  background: async (database, logger, services) => {
    const monitor = createSlaMonitor({ database, logger: logger.child({ component: 'sla-monitor' }) });
    await monitor.start();
    const problemUrl = services?.subgraphUrls.problem;
    if (!problemUrl) logger.warn('workarounds are not received: no problem subgraph URL to read its events from');
    const workarounds = problemUrl
      ? startWorkaroundConsumer({ db: backgroundDb(database), problemUrl, internalSecret: services.internalSecret, logger })
      : undefined;
    return async () => {
      await workarounds?.stop();
      await monitor.stop();
    };
  },
});

export * as incidentService from './services/incidents.js';
export { createSlaMonitor, type SlaMonitor, type SlaMonitorOptions } from './services/sla-monitor.js';
