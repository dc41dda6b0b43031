import { defineSubgraph } from '@itsm/kit';
import { createLoaders } from './context.js';
import { SCHEMA_NAME } from './db/schema.js';
import { resolvers } from './resolvers/index.js';
import { createSlaMonitor } from './services/sla-monitor.js';

/** The incident subgraph: incidents, priority, lifecycle and SLAs; every process hosting it runs the SLA monitor. */
export const incidentSubgraph = defineSubgraph({
  name: 'incident',
  schemaFile: new URL('../schema.graphql', import.meta.url),
  schemaName: SCHEMA_NAME,
  migrationsFolder: new URL('../../../drizzle/incident', import.meta.url),
  resolvers,
  createLoaders,
  background: async (database, logger) => {
    const monitor = createSlaMonitor({ database, logger: logger.child({ component: 'sla-monitor' }) });
    await monitor.start();
    return () => monitor.stop();
  },
});

export * as incidentService from './services/incidents.js';
export { createSlaMonitor, type SlaMonitor, type SlaMonitorOptions } from './services/sla-monitor.js';
