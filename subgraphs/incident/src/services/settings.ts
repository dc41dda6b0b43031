import { IANAZone } from 'luxon';
import { payloadErrors, type Db, type FieldProblem, type Identity, type PayloadError } from '@itsm/kit';
import { getTenantSettings, saveTenantSettings, type TenantSettingsRow } from '../db/queries.js';
import { DEFAULT_TAXONOMY, validateTaxonomy, type Taxonomy } from '../domain/categorize.js';
import { ITIL_5X5, SERVICENOW_3X3, validateMatrix, type PriorityMatrix } from '../domain/priority.js';
import { rescheduleAutoClose } from './auto-close.js';

/** Days a RESOLVED incident waits before closing itself when the tenant never chose (ServiceNow's default). */
export const DEFAULT_AUTO_CLOSE_DAYS = 7;
const MAX_AUTO_CLOSE_DAYS = 365;

/** Everything tenant-configurable the incident services read. */
export interface IncidentSettings {
  matrix: PriorityMatrix;
  taxonomy: Taxonomy;
  timeZone: string;
  /** null = never auto-close. */
  autoCloseDays: number | null;
}

function settingsOf(row: TenantSettingsRow | undefined): IncidentSettings {
  return {
    matrix: (row?.priorityMatrix as PriorityMatrix | null) ?? ITIL_5X5,
    taxonomy: (row?.taxonomy as Taxonomy | null) ?? DEFAULT_TAXONOMY,
    timeZone: row?.timeZone ?? 'UTC',
    autoCloseDays: row ? row.autoCloseDays : DEFAULT_AUTO_CLOSE_DAYS,
  };
}

/** The tenant's settings, defaults filled in, in one read. */
export async function loadIncidentSettings(db: Db, tenantId: string): Promise<IncidentSettings> {
  return settingsOf(await getTenantSettings(db, tenantId));
}

/** The tenant's priority matrix: the stored one, or the ITIL 5x5 default. */
export async function getPriorityMatrix(db: Db, tenantId: string): Promise<PriorityMatrix> {
  return (await loadIncidentSettings(db, tenantId)).matrix;
}

/** Replaces the tenant's priority matrix (admin only); a named profile needs no cells. */
export async function setPriorityMatrix(
  db: Db,
  identity: Identity,
  input: { profile: string; cells?: number[][] | null },
): Promise<{ priorityMatrix: PriorityMatrix | null; errors: PayloadError[] }> {
  if (!identity.roles.includes('admin')) return { priorityMatrix: null, errors: [payloadErrors.forbidden(['admin'])] };
  let matrix: PriorityMatrix;
  if (input.profile === 'ITIL_5X5') matrix = ITIL_5X5;
  else if (input.profile === 'SERVICENOW_3X3') matrix = SERVICENOW_3X3;
  else if (input.profile === 'CUSTOM') {
    const cells = input.cells ?? [];
    const size = cells.length;
    const problems =
      size === 3 || size === 5
        ? validateMatrix({ size, cells })
        : [{ field: 'cells', rule: 'shape', message: `a custom matrix is 3x3 or 5x5, got ${size} rows` }];
    if (problems.length) return { priorityMatrix: null, errors: problems.map((p) => payloadErrors.validation({ ...p, field: `input.${p.field}` })) };
    matrix = { profile: 'CUSTOM', size: size as 3 | 5, cells };
  } else {
    return {
      priorityMatrix: null,
      errors: [payloadErrors.validation({ field: 'input.profile', rule: 'oneOf', message: 'profile must be ITIL_5X5, SERVICENOW_3X3 or CUSTOM' })],
    };
  }
  await saveTenantSettings(db, identity.tenantId, { priorityMatrix: matrix });
  return { priorityMatrix: matrix, errors: [] };
}

/** The tenant's categories and keywords. */
export async function getCategoryTaxonomy(db: Db, tenantId: string): Promise<Taxonomy> {
  return (await loadIncidentSettings(db, tenantId)).taxonomy;
}

/** Replaces the tenant's categories and keywords (admin only); names trimmed, keywords kept as given. */
export async function setCategoryTaxonomy(
  db: Db,
  identity: Identity,
  input: { categories: Taxonomy },
  now = new Date(),
): Promise<{ categoryTaxonomy: { categories: Taxonomy } | null; errors: PayloadError[] }> {
  if (!identity.roles.includes('admin')) return { categoryTaxonomy: null, errors: [payloadErrors.forbidden(['admin'])] };
  const problems: FieldProblem[] = validateTaxonomy(input.categories).map((p) => ({ ...p, field: `input.${p.field}` }));
  if (!input.categories.length) problems.push({ field: 'input.categories', rule: 'required', message: 'at least one category is required' });
  input.categories.forEach((category, i) => {
    if (!category.subcategories.length) {
      problems.push({ field: `input.categories[${i}].subcategories`, rule: 'required', message: 'each category needs at least one subcategory' });
    }
  });
  if (problems.length) return { categoryTaxonomy: null, errors: problems.map(payloadErrors.validation) };
  const taxonomy: Taxonomy = input.categories.map((c) => ({
    name: c.name.trim(),
    subcategories: c.subcategories.map((s) => ({ name: s.name.trim(), keywords: s.keywords.map((k) => k.trim()) })),
  }));
  await saveTenantSettings(db, identity.tenantId, { taxonomy }, now);
  return { categoryTaxonomy: { categories: taxonomy }, errors: [] };
}

/** What a tenant admin may change. */
export interface IncidentSettingsInput {
  timeZone?: string | null;
  /** undefined keeps the current value; null disables auto-close. */
  autoCloseDays?: number | null;
}

/** Changes the tenant's zone and auto-close delay (admin only); resolved incidents are rescheduled to the new delay. */
export async function setIncidentSettings(
  db: Db,
  identity: Identity,
  input: IncidentSettingsInput,
  now = new Date(),
): Promise<{ incidentSettings: { timeZone: string; autoCloseDays: number | null } | null; errors: PayloadError[] }> {
  if (!identity.roles.includes('admin')) return { incidentSettings: null, errors: [payloadErrors.forbidden(['admin'])] };
  const problems: FieldProblem[] = [];
  if (input.timeZone !== undefined && (input.timeZone === null || !IANAZone.isValidZone(input.timeZone))) {
    problems.push({ field: 'input.timeZone', rule: 'invalid-zone', message: `"${input.timeZone}" is not an IANA time zone` });
  }
  const days = input.autoCloseDays;
  if (days != null && (!Number.isInteger(days) || days < 0 || days > MAX_AUTO_CLOSE_DAYS)) {
    problems.push({ field: 'input.autoCloseDays', rule: 'range', message: `autoCloseDays must be 0 to ${MAX_AUTO_CLOSE_DAYS} or null, got ${days}` });
  }
  if (problems.length) return { incidentSettings: null, errors: problems.map(payloadErrors.validation) };

  return db.transaction(async (tx) => {
    const before = await loadIncidentSettings(tx, identity.tenantId);
    const row = await saveTenantSettings(
      tx,
      identity.tenantId,
      {
        ...(input.timeZone ? { timeZone: input.timeZone } : {}),
        // A first write must keep the default delay rather than the column's.
        autoCloseDays: days !== undefined ? days : before.autoCloseDays,
      },
      now,
    );
    if (row.autoCloseDays !== before.autoCloseDays) await rescheduleAutoClose(tx, identity.tenantId, row.autoCloseDays);
    return { incidentSettings: { timeZone: row.timeZone, autoCloseDays: row.autoCloseDays }, errors: [] };
  });
}
