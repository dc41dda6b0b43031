import { existsSync, readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { queryRows, raiseCounter, type Config } from '@itsm/kit';
import { countIncidents } from '../subgraphs/incident/src/db/queries.js';
import { SCHEMA_NAME as INCIDENT_SCHEMA } from '../subgraphs/incident/src/db/schema.js';
import { seedDemoData } from './demo-data.js';
import { DEMO_TENANT_ID } from './demo-tenant.js';
import { formatImportReport, importIdentity, importServiceNowLog, type ImportDatabases } from './import/servicenow-import.js';

/**
 * The demo tenant's "loaded" marker: a row of the incident schema's counters, written once the demo data is
 * complete. A first start that was killed half-way leaves incidents but no marker, so the next start finishes
 * the job instead of taking a half-loaded tenant for a loaded one.
 */
export const DEMO_DATA_MARKER = 'demo-data-loaded';

export interface FillDemoTenantOptions {
  demoData: Config['demoData'];
  /** The ServiceNow event log to import when demoData is `servicenow`, or `auto` and the file is there. */
  csvPath: string;
  /** The demo tenant unless named (tests). */
  tenantId?: string;
  log?: (line: string) => void;
}

/** What fillDemoTenant did. */
export type DemoFill =
  | 'none'
  /** The marker was there: nothing to do. */
  | 'loaded-before'
  /** The event log was imported, or its import finished after an interrupted one. */
  | 'imported'
  | 'seeded'
  /** Incidents but no marker and no event log to resume with: left as they are (the generated set cannot resume). */
  | 'kept';

/**
 * Fills the demo tenant on first start: the real event log when it is there (the importer is idempotent per
 * incident, so an interrupted import is resumed where it stopped), else a small generated set. Sets the marker
 * once the data is complete.
 */
export async function fillDemoTenant(databases: ImportDatabases, options: FillDemoTenantOptions): Promise<DemoFill> {
  const tenantId = options.tenantId ?? DEMO_TENANT_ID;
  const log = options.log ?? (() => {});
  if (options.demoData === 'none') return 'none';
  const incidentDb = databases.incident.db;
  const existing = await countIncidents(incidentDb, tenantId);
  if (await demoDataLoaded(databases, tenantId)) {
    log(`demo tenant already has ${existing} incidents`);
    return 'loaded-before';
  }
  const useLog = options.demoData === 'servicenow' || (options.demoData === 'auto' && existsSync(options.csvPath));
  if (useLog) {
    log(
      existing > 0
        ? `resuming the import of ${options.csvPath} into the demo tenant (an earlier start stopped after ${existing} incidents)`
        : `first start: importing ${options.csvPath} into the demo tenant`,
    );
    const report = await importServiceNowLog(databases, { tenantId, csvText: readFileSync(options.csvPath, 'utf8'), log });
    for (const line of formatImportReport(report)) log(`  ${line}`);
    await markDemoDataLoaded(databases, tenantId);
    return 'imported';
  }
  if (existing > 0) {
    log(
      `demo tenant has ${existing} incidents but no record that its demo data finished loading; left as they are ` +
        '(if a first start was stopped while seeding, delete the data directory to seed a complete set)',
    );
    return 'kept';
  }
  log(`first start: ${options.csvPath} not found, seeding a generated demo set`);
  const summary = await seedDemoData(databases, importIdentity(tenantId));
  log(
    `  ${summary.incidents} incidents, ${summary.problems} problems (${summary.problemLinks} incident links), ` +
      `${summary.changes} change requests (${summary.changeLinks} incident links)`,
  );
  await markDemoDataLoaded(databases, tenantId);
  return 'seeded';
}

async function demoDataLoaded(databases: ImportDatabases, tenantId: string): Promise<boolean> {
  const rows = await queryRows<{ value: number | string }>(
    databases.incident.db,
    sql`select value from ${sql.identifier(INCIDENT_SCHEMA)}.counters where tenant_id = ${tenantId} and name = ${DEMO_DATA_MARKER}`,
  );
  return rows.length > 0;
}

function markDemoDataLoaded(databases: ImportDatabases, tenantId: string): Promise<void> {
  return raiseCounter(databases.incident.db, INCIDENT_SCHEMA, tenantId, DEMO_DATA_MARKER, 1);
}
