import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isUuid, loadConfig } from '@itsm/kit';
import { DEMO_TENANT_ID } from './demo-tenant.js';
import { openDatabases } from './graph.js';
import { formatImportReport, importServiceNowLog } from './import/servicenow-import.js';

const USAGE = 'usage: pnpm import:servicenow <csv> [--tenant <uuid>] [--concurrency <n>]';

/** `pnpm import:servicenow <csv> [--tenant <uuid>]`: imports a ServiceNow event log into the configured databases. */
async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { tenant: { type: 'string' }, concurrency: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [file] = positionals;
  const tenantId = values.tenant ?? DEMO_TENANT_ID;
  const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency);
  if (!file || positionals.length > 1) return fail(USAGE);
  if (!isUuid(tenantId)) return fail(`--tenant must be a uuid, got "${tenantId}"`);
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1)) return fail('--concurrency must be a positive integer');

  let csvText: string;
  try {
    csvText = readFileSync(file, 'utf8');
  } catch (error) {
    return fail(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }

  const config = loadConfig();
  const databases = await openDatabases(config);
  try {
    console.log(`importing ${file} into tenant ${tenantId} (${databases.incident.kind})`);
    // PGlite has no server to arbitrate: two processes on one data directory corrupt it.
    if (databases.incident.kind === 'pglite') console.log(`embedded databases in ${config.dataDir}: stop \`pnpm start\` on them before importing`);
    const report = await importServiceNowLog(databases, { tenantId, csvText, concurrency, log: (line) => console.log(line) });
    for (const line of formatImportReport(report)) console.log(line);
    return report.incidentsFailed.length > 0 ? 1 : 0;
  } finally {
    await Promise.all(Object.values(databases).map((d) => d.close()));
  }
}

function fail(message: string): number {
  console.error(message);
  return 2;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
