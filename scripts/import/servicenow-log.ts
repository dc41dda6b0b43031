import { parse, type InfoRecord } from 'csv-parse/sync';

/** Incident states of this backend that the source states map onto. */
export type ImportedIncidentState = 'NEW' | 'IN_PROGRESS' | 'ON_HOLD' | 'RESOLVED' | 'CLOSED';

/** Why an ON_HOLD incident is waiting. */
export type ImportedHoldReason = 'AWAITING_CALLER' | 'AWAITING_PROBLEM' | 'AWAITING_CHANGE' | 'AWAITING_VENDOR';

/** Impact and urgency on ServiceNow's 3-level scale (1 = High). */
export type ImportedLevel = 1 | 2 | 3;

/** Priority on ServiceNow's 4-level scale (1 = Critical). */
export type ImportedPriority = 1 | 2 | 3 | 4;

/** One CSV row: the incident as it stood after one update. */
export interface ImportedIncidentUpdate {
  line: number;
  state: ImportedIncidentState;
  holdReason: ImportedHoldReason | null;
  sourceState: string;
  at: Date;
  assignmentGroup: string | null;
  assignedTo: string | null;
  reassignmentCount: number;
  reopenCount: number;
  impact: ImportedLevel;
  urgency: ImportedLevel;
  priority: ImportedPriority;
}

/** An incident with its history; the flat fields are those of its last loaded row. */
export interface ImportedIncident {
  number: string;
  history: ImportedIncidentUpdate[];
  state: ImportedIncidentState;
  holdReason: ImportedHoldReason | null;
  impact: ImportedLevel;
  urgency: ImportedLevel;
  priority: ImportedPriority;
  category: string | null;
  subcategory: string | null;
  symptom: string | null;
  configurationItem: string | null;
  assignmentGroup: string | null;
  assignedTo: string | null;
  caller: string | null;
  openedBy: string | null;
  contactType: string | null;
  location: string | null;
  openedAt: Date;
  resolvedAt: Date | null;
  closedAt: Date | null;
  reassignmentCount: number;
  reopenCount: number;
  madeSla: boolean | null;
  closeCode: string | null;
  resolvedBy: string | null;
  knowledge: boolean | null;
  problemIds: string[];
  changeIds: string[];
}

/** A problem referenced by incidents, keyed by the source's own id string. */
export interface ImportedProblem {
  externalRef: string;
  incidentNumbers: string[];
}

/** A change request referenced by incidents, keyed by the source's rfc value. */
export interface ImportedChange {
  externalRef: string;
  incidentNumbers: string[];
}

/** A row that was not loaded: its 1-based physical line in the file (header = line 1) and why. */
export interface RejectedRow {
  line: number;
  reason: string;
}

/** Everything parsed from one event log. */
export interface ServiceNowLogImport {
  incidents: ImportedIncident[];
  problems: ImportedProblem[];
  changes: ImportedChange[];
  rejected: RejectedRow[];
}

/** Counts an importer reports after a run. */
export interface ImportSummary {
  incidents: number;
  problems: number;
  changes: number;
  reassignmentSum: number;
  rowsRead: number;
  rowsRejected: number;
}

const COLUMNS = [
  'number',
  'incident_state',
  'reassignment_count',
  'reopen_count',
  'made_sla',
  'caller_id',
  'opened_by',
  'opened_at',
  'sys_updated_at',
  'contact_type',
  'location',
  'category',
  'subcategory',
  'u_symptom',
  'cmdb_ci',
  'impact',
  'urgency',
  'priority',
  'assignment_group',
  'assigned_to',
  'knowledge',
  'problem_id',
  'rfc',
  'closed_code',
  'resolved_by',
  'resolved_at',
  'closed_at',
] as const;
type Column = (typeof COLUMNS)[number];

const STATES: Readonly<Record<string, { state: ImportedIncidentState; holdReason: ImportedHoldReason | null }>> = {
  New: { state: 'NEW', holdReason: null },
  Active: { state: 'IN_PROGRESS', holdReason: null },
  Resolved: { state: 'RESOLVED', holdReason: null },
  Closed: { state: 'CLOSED', holdReason: null },
  'Awaiting User Info': { state: 'ON_HOLD', holdReason: 'AWAITING_CALLER' },
  'Awaiting Problem': { state: 'ON_HOLD', holdReason: 'AWAITING_PROBLEM' },
  'Awaiting Vendor': { state: 'ON_HOLD', holdReason: 'AWAITING_VENDOR' },
  'Awaiting Change': { state: 'ON_HOLD', holdReason: 'AWAITING_CHANGE' },
};

const LEVELS: Readonly<Record<string, ImportedLevel>> = { '1 - High': 1, '2 - Medium': 2, '3 - Low': 3 };
const PRIORITIES: Readonly<Record<string, ImportedPriority>> = {
  '1 - Critical': 1,
  '2 - High': 2,
  '3 - Moderate': 3,
  '4 - Low': 4,
};

const DATE_FORMAT = /^(\d{2})-(\d{2})-(\d{4}) (\d{2}):(\d{2})$/;

/** Parses the ServiceNow incident event log (one row per incident update) into incidents, problems and changes. */
export function parseServiceNowLog(csvText: string): ServiceNowLogImport {
  const rejected: RejectedRow[] = [];
  let lastRecordEndLine = 0;
  let lastEmptyLines = 0;
  // csv-parse counts a CRLF inside a quoted field as two lines, which would shift every later line number.
  const text = csvText.replace(/\r\n/g, '\n');
  // With `info` every record comes back as { record, info }; csv-parse's overloads do not express that.
  const records = parse(text, {
    info: true,
    bom: true,
    skip_empty_lines: true,
    relax_column_count: true,
    // Without this, csv-parse's recovery from one stray quote swallows the good rows after it.
    relax_quotes: true,
    skip_records_with_error: true,
    on_record: (record, context: InfoRecord) => {
      lastRecordEndLine = context.lines;
      lastEmptyLines = context.empty_lines;
      return record;
    },
    on_skip: (error) => {
      // The error reports where the broken record ended; it began right after the previous record and any blank lines.
      const emptyLines = typeof error?.empty_lines === 'number' ? error.empty_lines : lastEmptyLines;
      const line = lastRecordEndLine + 1 + (emptyLines - lastEmptyLines);
      rejected.push({ line, reason: `CSV syntax: ${error?.message ?? 'unreadable record'}` });
    },
  }) as unknown as { record: string[]; info: InfoRecord }[];

  const [headerRecord, ...rowRecords] = records;
  if (!headerRecord) return { incidents: [], problems: [], changes: [], rejected };
  const header = headerRecord.record;
  const indexOf = columnIndexes(header);

  const builders = new Map<string, IncidentBuilder>();
  const problems = new Map<string, ImportedProblem>();
  const changes = new Map<string, ImportedChange>();

  for (const { record, info } of rowRecords) {
    const line = startLine(record, info.lines);
    if (record.length !== header.length) {
      rejected.push({ line, reason: `column count: expected ${header.length} columns like the header, got ${record.length}` });
      continue;
    }
    const row = readRow(record, indexOf, line);
    if ('errors' in row) {
      rejected.push({ line, reason: row.errors.join('; ') });
      continue;
    }

    let builder = builders.get(row.number);
    if (!builder) {
      builder = { number: row.number, history: [], problemIds: [], changeIds: [], last: row };
      builders.set(row.number, builder);
    }
    builder.history.push(row.update);
    builder.last = row;
    if (row.problemId !== null) {
      pushDistinct(builder.problemIds, row.problemId);
      linkIncident(problems, row.problemId, row.number);
    }
    if (row.changeId !== null) {
      pushDistinct(builder.changeIds, row.changeId);
      linkIncident(changes, row.changeId, row.number);
    }
  }

  const incidents = [...builders.values()].map(toIncident);
  rejected.sort((a, b) => a.line - b.line);
  return { incidents, problems: [...problems.values()], changes: [...changes.values()], rejected };
}

/** Totals of a parsed log for the importer's report. */
export function computeImportSummary(result: ServiceNowLogImport): ImportSummary {
  const loadedRows = result.incidents.reduce((sum, incident) => sum + incident.history.length, 0);
  return {
    incidents: result.incidents.length,
    problems: result.problems.length,
    changes: result.changes.length,
    reassignmentSum: result.incidents.reduce((sum, incident) => sum + incident.reassignmentCount, 0),
    rowsRead: loadedRows + result.rejected.length,
    rowsRejected: result.rejected.length,
  };
}

interface ParsedRow {
  number: string;
  update: ImportedIncidentUpdate;
  problemId: string | null;
  changeId: string | null;
  fields: Omit<ImportedIncident, 'number' | 'history' | 'problemIds' | 'changeIds'>;
}

interface IncidentBuilder {
  number: string;
  history: ImportedIncidentUpdate[];
  problemIds: string[];
  changeIds: string[];
  last: ParsedRow;
}

function columnIndexes(header: string[]): Record<Column, number> {
  const missing: string[] = [];
  const indexes = {} as Record<Column, number>;
  for (const column of COLUMNS) {
    const index = header.indexOf(column);
    if (index === -1) missing.push(column);
    indexes[column] = index;
  }
  // Without these columns no row can load, so failing the whole file is clearer than rejecting every row.
  if (missing.length > 0) throw new Error(`ServiceNow log header lacks column(s): ${missing.join(', ')}`);
  return indexes;
}

// info.lines is where the record ended; a quoted field with line breaks makes the record start earlier.
function startLine(record: string[], endLine: number): number {
  let breaks = 0;
  for (const field of record) for (const char of field) if (char === '\n') breaks += 1;
  return endLine - breaks;
}

function readRow(record: string[], indexOf: Record<Column, number>, line: number): ParsedRow | { errors: string[] } {
  const errors: string[] = [];
  const raw = (column: Column): string => record[indexOf[column]] ?? '';
  const optional = (column: Column): string | null => valueOrNull(raw(column));

  const number = optional('number');
  if (number === null) errors.push('number: required, got no value');

  const sourceState = raw('incident_state');
  const mapped = mapState(sourceState);
  if (!mapped) errors.push(`incident_state: unknown state "${sourceState}"`);

  const requiredDate = (column: Column): Date | null => {
    const value = raw(column);
    const date = parseDate(value);
    if (!date) errors.push(`${column}: required date as dd-mm-yyyy HH:MM, got "${value}"`);
    return date;
  };
  const optionalDate = (column: Column): Date | null => {
    const value = optional(column);
    if (value === null) return null;
    const date = parseDate(value);
    // A garbled date would otherwise load as "no date" and silently change what the incident says happened.
    if (!date) errors.push(`${column}: date as dd-mm-yyyy HH:MM or ?, got "${value}"`);
    return date;
  };
  const count = (column: Column): number => {
    const value = raw(column);
    if (!/^\d+$/.test(value)) errors.push(`${column}: non-negative integer, got "${value}"`);
    return Number(value);
  };
  const flag = (column: Column): boolean | null => {
    const value = optional(column);
    if (value === null) return null;
    if (value === 'TRUE') return true;
    if (value === 'FALSE') return false;
    errors.push(`${column}: TRUE, FALSE or ?, got "${value}"`);
    return null;
  };
  const level = (column: Column): ImportedLevel | undefined => {
    const value = raw(column);
    const parsed = LEVELS[value];
    if (parsed === undefined) errors.push(`${column}: one of ${Object.keys(LEVELS).join(', ')}, got "${value}"`);
    return parsed;
  };

  const at = requiredDate('sys_updated_at');
  const openedAt = requiredDate('opened_at');
  const resolvedAt = optionalDate('resolved_at');
  const closedAt = optionalDate('closed_at');
  const reassignmentCount = count('reassignment_count');
  const reopenCount = count('reopen_count');
  const madeSla = flag('made_sla');
  const knowledge = flag('knowledge');
  const impact = level('impact');
  const urgency = level('urgency');
  const priorityValue = raw('priority');
  const priority = PRIORITIES[priorityValue];
  if (priority === undefined) {
    errors.push(`priority: one of ${Object.keys(PRIORITIES).join(', ')}, got "${priorityValue}"`);
  }

  if (
    errors.length > 0 ||
    number === null ||
    !mapped ||
    !at ||
    !openedAt ||
    impact === undefined ||
    urgency === undefined ||
    priority === undefined
  ) {
    return { errors };
  }

  const assignmentGroup = optional('assignment_group');
  const assignedTo = optional('assigned_to');
  return {
    number,
    problemId: optional('problem_id'),
    changeId: optional('rfc'),
    update: {
      line,
      state: mapped.state,
      holdReason: mapped.holdReason,
      sourceState,
      at,
      assignmentGroup,
      assignedTo,
      reassignmentCount,
      reopenCount,
      impact,
      urgency,
      priority,
    },
    fields: {
      state: mapped.state,
      holdReason: mapped.holdReason,
      impact,
      urgency,
      priority,
      category: optional('category'),
      subcategory: optional('subcategory'),
      symptom: optional('u_symptom'),
      configurationItem: optional('cmdb_ci'),
      assignmentGroup,
      assignedTo,
      caller: optional('caller_id'),
      openedBy: optional('opened_by'),
      contactType: optional('contact_type'),
      location: optional('location'),
      openedAt,
      resolvedAt,
      closedAt,
      reassignmentCount,
      reopenCount,
      madeSla,
      closeCode: optional('closed_code'),
      resolvedBy: optional('resolved_by'),
      knowledge,
    },
  };
}

function mapState(sourceState: string): { state: ImportedIncidentState; holdReason: ImportedHoldReason | null } | undefined {
  const known = STATES[sourceState];
  if (known) return known;
  // Other "Awaiting ..." states (the README names "Awaiting Evidence") are still time on hold, so they must pause
  // the SLA clock. Evidence and similar requests are answered by the caller, so AWAITING_CALLER is the closest
  // reason; the source wording survives in sourceState.
  if (/^Awaiting\b/.test(sourceState)) return { state: 'ON_HOLD', holdReason: 'AWAITING_CALLER' };
  return undefined;
}

// Dates carry no zone in the source; the README says to read them as UTC.
function parseDate(value: string): Date | null {
  const match = DATE_FORMAT.exec(value);
  if (!match) return null;
  const [, day, month, year, hour, minute] = match.map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute));
  // Date.UTC rolls 31-02 over into March; a round trip catches impossible dates.
  const valid =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute;
  return valid ? date : null;
}

// "?" is the source's no-value marker; an empty cell means the same.
function valueOrNull(value: string): string | null {
  return value === '?' || value === '' ? null : value;
}

function pushDistinct(values: string[], value: string): void {
  if (!values.includes(value)) values.push(value);
}

function linkIncident(targets: Map<string, ImportedProblem | ImportedChange>, externalRef: string, number: string): void {
  let target = targets.get(externalRef);
  if (!target) {
    target = { externalRef, incidentNumbers: [] };
    targets.set(externalRef, target);
  }
  pushDistinct(target.incidentNumbers, number);
}

function toIncident(builder: IncidentBuilder): ImportedIncident {
  return {
    number: builder.number,
    history: builder.history,
    ...builder.last.fields,
    problemIds: builder.problemIds,
    changeIds: builder.changeIds,
  };
}
