import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { issueToken } from '@itsm/gateway';
import { loadConfig, type Config } from '@itsm/kit';
import { DEMO_TENANT_ID } from './demo-tenant.js';
import { fillDemoTenant } from './first-start.js';
import { openDatabases, startGraph, type Databases, type RunningGraph } from './graph.js';

/** The shared event log, next to the repository (override with SERVICENOW_CSV). */
const DEFAULT_CSV = fileURLToPath(new URL('../../shared/data/servicenow-incident-event-log.csv', import.meta.url));

const DEMO_ROLES = ['admin', 'manager', 'agent', 'change_manager'] as const;

/** `pnpm start`: opens the databases, fills the demo tenant until it is complete (first start), runs the graph, prints a dev token. */
async function main(): Promise<void> {
  const config = loadConfig();
  let databases: Databases | undefined;
  let graph: RunningGraph | undefined;
  let stopping = false;

  // A repeated signal is ignored while stopping; a stop that hangs is cut short.
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping`);
    setTimeout(() => {
      console.error('still stopping after 10 s: exiting');
      process.exit(1);
    }, 10_000).unref();
    try {
      if (graph) await graph.stop();
      else if (databases) await Promise.all(Object.values(databases).map((d) => d.close()));
      process.exit(0);
    } catch (error) {
      console.error('error while stopping:', error);
      process.exit(1);
    }
  };
  const handlers = { SIGINT: () => void stop('SIGINT'), SIGTERM: () => void stop('SIGTERM') };
  for (const [signal, handler] of Object.entries(handlers)) process.on(signal, handler);

  const where = config.subgraphs.incident.databaseUrl ? 'PostgreSQL' : `PGlite in ${resolve(config.dataDir)}`;
  console.log(`opening databases (${where})`);
  databases = await openDatabases(config);
  await fillDemoTenant(databases, {
    demoData: config.demoData,
    csvPath: resolve(config.servicenowCsv ?? DEFAULT_CSV),
    log: (line) => console.log(line),
  });
  if (stopping) return;

  graph = await startGraph(config, { databases });
  // Every ApolloServer started outside tests adds its own SIGINT/SIGTERM handler that stops it and re-raises the
  // signal; racing graph.stop() it hangs the shutdown. graph.stop() stops every server, so ours stay the only ones.
  for (const [signal, handler] of Object.entries(handlers)) {
    for (const listener of process.listeners(signal as NodeJS.Signals)) if (listener !== handler) process.removeListener(signal, listener);
  }
  if (stopping) return;
  await printWelcome(config, graph);
}

async function printWelcome(config: Config, graph: RunningGraph): Promise<void> {
  const url = graph.gateway.url;
  console.log('');
  console.log(`ITSM graph ready: ${url}`);
  if (!config.jwt.secret) {
    console.log('tokens come from your identity provider (JWKS_URL); no dev token printed');
    return;
  }
  const token = await issueToken(config.jwt.secret, { sub: 'demo-admin', tenant: DEMO_TENANT_ID, roles: DEMO_ROLES }, '12h');
  const query = '{ incidents(first: 5) { totalCount edges { node { number title state priorityLabel problem { number externalRef } relatedChanges { number } } } } }';
  console.log(`demo tenant: ${DEMO_TENANT_ID}`);
  console.log(`dev token (${DEMO_ROLES.join(', ')}; valid 12 h):`);
  console.log(token);
  console.log('');
  console.log('try:');
  console.log(`  TOKEN='${token}'`);
  console.log(`  curl -s ${url} -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" \\`);
  console.log(`    -d '${JSON.stringify({ query })}'`);
  console.log('');
  if (config.env !== 'production') {
    const origin = new URL(url).origin;
    console.log(`GraphiQL (token prefilled): ${origin}/ide`);
    console.log(`live SLA dashboard:         ${origin}/dashboard`);
    console.log('');
  }
  console.log('Ctrl-C stops.');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
