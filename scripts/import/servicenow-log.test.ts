import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { computeImportSummary, parseServiceNowLog, type ServiceNowLogImport } from './servicenow-log.js';

const HEADER = [
  'number', 'incident_state', 'active', 'reassignment_count', 'reopen_count', 'sys_mod_count', 'made_sla',
  'caller_id', 'opened_by', 'opened_at', 'sys_created_by', 'sys_created_at', 'sys_updated_by', 'sys_updated_at',
  'contact_type', 'location', 'category', 'subcategory', 'u_symptom', 'cmdb_ci', 'impact', 'urgency', 'priority',
  'assignment_group', 'assigned_to', 'knowledge', 'u_priority_confirmation', 'notify', 'problem_id', 'rfc',
  'vendor', 'caused_by', 'closed_code', 'resolved_by', 'resolved_at', 'closed_at',
];

const DEFAULT_ROW: Record<string, string> = {
  number: 'INC0000001', incident_state: 'New', active: 'TRUE', reassignment_count: '0', reopen_count: '0',
  sys_mod_count: '0', made_sla: 'TRUE', caller_id: 'Caller 1', opened_by: 'Opened by  1',
  opened_at: '29-02-2016 01:16', sys_created_by: 'Created by 1', sys_created_at: '29-02-2016 01:23',
  sys_updated_by: 'Updated by 1', sys_updated_at: '29-02-2016 01:23', contact_type: 'Phone',
  location: 'Location 1', category: 'Category 1', subcategory: 'Subcategory 1', u_symptom: 'Symptom 1',
  cmdb_ci: '?', impact: '2 - Medium', urgency: '2 - Medium', priority: '3 - Moderate', assignment_group: 'Group 1',
  assigned_to: '?', knowledge: 'TRUE', u_priority_confirmation: 'FALSE', notify: 'Do Not Notify', problem_id: '?',
  rfc: '?', vendor: '?', caused_by: '?', closed_code: 'code 5', resolved_by: '?', resolved_at: '?', closed_at: '?',
};

function row(overrides: Record<string, string> = {}): string {
  return HEADER.map((column) => overrides[column] ?? DEFAULT_ROW[column] ?? '?').join(',');
}

function csv(...rows: string[]): string {
  return [HEADER.join(','), ...rows].join('\n') + '\n';
}

// Independent of the incident domain on purpose: the import must reproduce what the README states about the file.
const SERVICENOW_3X3: Record<string, number> = {
  '1/1': 1, '1/2': 2, '1/3': 3,
  '2/1': 2, '2/2': 3, '2/3': 4,
  '3/1': 3, '3/2': 4, '3/3': 4,
};

const logUrl = new URL('../../../shared/data/servicenow-incident-event-log.csv', import.meta.url);
const logPath = fileURLToPath(logUrl);
const logAvailable = existsSync(logUrl);
if (!logAvailable) console.warn(`servicenow-log tests: ${logPath} not found, skipping the real event log tests`);

describe.skipIf(!logAvailable)(`real event log (needs ${logPath})`, () => {
  let cached: ServiceNowLogImport | undefined;
  const result = (): ServiceNowLogImport => (cached ??= parseServiceNowLog(readFileSync(logUrl, 'utf8')));

  it('loads every row: 640 incidents, 18 problems, 15 changes, nothing rejected', () => {
    expect(result().rejected).toEqual([]);
    expect(computeImportSummary(result())).toEqual({
      incidents: 640,
      problems: 18,
      changes: 15,
      reassignmentSum: 672,
      rowsRead: 4401,
      rowsRejected: 0,
    });
  });

  it('links Problem ID  2 (two spaces, as in the source) to 27 incidents including INC0000057', () => {
    const problem = result().problems.find((p) => p.externalRef === 'Problem ID  2');
    expect(problem?.incidentNumbers).toHaveLength(27);
    expect(new Set(problem?.incidentNumbers).size).toBe(27);
    expect(problem?.incidentNumbers).toContain('INC0000057');
    const incident = result().incidents.find((i) => i.number === 'INC0000057');
    expect(incident?.problemIds).toContain('Problem ID  2');
  });

  it('keeps problem and change links consistent in both directions', () => {
    for (const incident of result().incidents) {
      for (const ref of incident.problemIds) {
        expect(result().problems.find((p) => p.externalRef === ref)?.incidentNumbers).toContain(incident.number);
      }
      for (const ref of incident.changeIds) {
        expect(result().changes.find((c) => c.externalRef === ref)?.incidentNumbers).toContain(incident.number);
      }
    }
  });

  it('every row obeys the 3x3 priority matrix of the README', () => {
    const mismatches = result()
      .incidents.flatMap((incident) => incident.history)
      .filter((update) => SERVICENOW_3X3[`${update.impact}/${update.urgency}`] !== update.priority)
      .map((update) => update.line);
    expect(mismatches).toEqual([]);
  });

  it('has exactly these source states: no Awaiting Vendor or Awaiting Evidence in this subset', () => {
    const states = new Set(result().incidents.flatMap((incident) => incident.history.map((u) => u.sourceState)));
    expect([...states].sort()).toEqual(['Active', 'Awaiting Problem', 'Awaiting User Info', 'Closed', 'New', 'Resolved']);
  });

  it('reads INC0000045 in file order with UTC dates and final fields from its last row', () => {
    const incident = result().incidents.find((i) => i.number === 'INC0000045');
    expect(incident?.history.map((u) => [u.line, u.state, u.at.toISOString()])).toEqual([
      [2, 'NEW', '2016-02-29T01:23:00.000Z'],
      [3, 'RESOLVED', '2016-02-29T08:53:00.000Z'],
      [4, 'RESOLVED', '2016-02-29T11:29:00.000Z'],
      [5, 'CLOSED', '2016-03-05T12:00:00.000Z'],
    ]);
    expect(incident).toMatchObject({
      state: 'CLOSED',
      impact: 2,
      urgency: 2,
      priority: 3,
      caller: 'Caller 2403',
      openedBy: 'Opened by  8',
      configurationItem: null,
      assignedTo: null,
      openedAt: new Date('2016-02-29T01:16:00Z'),
      resolvedAt: new Date('2016-02-29T11:29:00Z'),
      closedAt: new Date('2016-03-05T12:00:00Z'),
      closeCode: 'code 5',
      resolvedBy: 'Resolved by 149',
      knowledge: true,
      madeSla: true,
      problemIds: [],
      changeIds: [],
    });
  });
});

describe('malformed rows', () => {
  it('rejects a bad date, a bad impact and a short row by physical line and still loads the good rows', () => {
    const text = csv(
      row({ number: 'INC1' }), // line 2
      row({ number: 'INC1', sys_updated_at: '2016-02-29 01:23' }), // line 3
      row({ number: 'INC2', impact: 'High' }), // line 4
      'INC3,New,TRUE', // line 5
      row({ number: 'INC1', incident_state: 'Active', sys_updated_at: '29-02-2016 02:00' }), // line 6
    );
    const result = parseServiceNowLog(text);
    expect(result.rejected.map((r) => r.line)).toEqual([3, 4, 5]);
    expect(result.rejected[0]?.reason).toMatch(/^sys_updated_at: .*dd-mm-yyyy HH:MM.*"2016-02-29 01:23"/);
    expect(result.rejected[1]?.reason).toMatch(/^impact: one of 1 - High, 2 - Medium, 3 - Low, got "High"/);
    expect(result.rejected[2]?.reason).toMatch(/^column count: expected 36 .* got 3/);
    expect(result.incidents.map((i) => i.number)).toEqual(['INC1']);
    expect(result.incidents[0]?.history.map((u) => [u.line, u.state])).toEqual([
      [2, 'NEW'],
      [6, 'IN_PROGRESS'],
    ]);
    expect(computeImportSummary(result)).toMatchObject({ rowsRead: 5, rowsRejected: 3, incidents: 1 });
  });

  it('rejects impossible dates, empty numbers, unknown states, bad priorities and bad counts, naming the column', () => {
    const result = parseServiceNowLog(
      csv(
        row({ opened_at: '31-02-2016 10:00' }),
        row({ number: '?' }),
        row({ number: '' }),
        row({ incident_state: 'Cancelled' }),
        row({ priority: '5 - Planning' }),
        row({ reassignment_count: '-1' }),
        row({ closed_at: '05-03-2016' }),
      ),
    );
    expect(result.rejected.map((r) => [r.line, r.reason.split(':')[0]])).toEqual([
      [2, 'opened_at'],
      [3, 'number'],
      [4, 'number'],
      [5, 'incident_state'],
      [6, 'priority'],
      [7, 'reassignment_count'],
      [8, 'closed_at'],
    ]);
    expect(result.incidents).toEqual([]);
  });

  it('reports every broken column of one row in one reason', () => {
    const result = parseServiceNowLog(csv(row({ impact: '?', urgency: '4 - None' })));
    expect(result.rejected).toEqual([
      {
        line: 2,
        reason: 'impact: one of 1 - High, 2 - Medium, 3 - Low, got "?"; urgency: one of 1 - High, 2 - Medium, 3 - Low, got "4 - None"',
      },
    ]);
  });

  it('counts physical lines across quoted line breaks, blank lines and CRLF endings', () => {
    const text = [
      HEADER.join(','),
      row({ number: 'INC1', category: '"Category\r\nwith break"' }), // lines 2-3
      '',
      row({ number: 'INC2', impact: 'bad' }), // line 5
      row({ number: 'INC3' }), // line 6
    ].join('\r\n');
    const result = parseServiceNowLog(text);
    expect(result.rejected.map((r) => r.line)).toEqual([5]);
    expect(result.incidents.map((i) => [i.number, i.history[0]?.line])).toEqual([
      ['INC1', 2],
      ['INC3', 6],
    ]);
    expect(result.incidents[0]?.category).toBe('Category\nwith break');
  });

  it('rejects an unterminated quote without losing the rows before it', () => {
    const result = parseServiceNowLog(csv(row({ number: 'INC1' }), row({ number: 'INC2', category: '"open' })));
    expect(result.incidents.map((i) => i.number)).toEqual(['INC1']);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0]?.line).toBe(3);
    expect(result.rejected[0]?.reason).toMatch(/^CSV syntax: /);
  });

  it('fails the whole file when the header lacks a column it needs', () => {
    expect(() => parseServiceNowLog('number,incident_state\nINC1,New\n')).toThrow(/lacks column\(s\): reassignment_count/);
  });

  it('returns nothing for an empty file', () => {
    expect(parseServiceNowLog('')).toEqual({ incidents: [], problems: [], changes: [], rejected: [] });
  });
});

describe('values', () => {
  it('reads ? and empty cells as no value', () => {
    const result = parseServiceNowLog(
      csv(row({ assigned_to: '?', cmdb_ci: '', made_sla: '?', closed_code: '?', resolved_at: '?', problem_id: '?', rfc: '' })),
    );
    expect(result.rejected).toEqual([]);
    expect(result.incidents[0]).toMatchObject({
      assignedTo: null,
      configurationItem: null,
      madeSla: null,
      closeCode: null,
      resolvedAt: null,
      closedAt: null,
      problemIds: [],
      changeIds: [],
    });
    expect(result.problems).toEqual([]);
    expect(result.changes).toEqual([]);
  });

  it('maps every source state, keeping unknown Awaiting states on hold with their source wording', () => {
    const states = ['New', 'Active', 'Awaiting User Info', 'Awaiting Problem', 'Awaiting Vendor', 'Awaiting Change', 'Awaiting Evidence', 'Resolved', 'Closed'];
    const result = parseServiceNowLog(csv(...states.map((state) => row({ incident_state: state }))));
    expect(result.incidents[0]?.history.map((u) => [u.sourceState, u.state, u.holdReason])).toEqual([
      ['New', 'NEW', null],
      ['Active', 'IN_PROGRESS', null],
      ['Awaiting User Info', 'ON_HOLD', 'AWAITING_CALLER'],
      ['Awaiting Problem', 'ON_HOLD', 'AWAITING_PROBLEM'],
      ['Awaiting Vendor', 'ON_HOLD', 'AWAITING_VENDOR'],
      ['Awaiting Change', 'ON_HOLD', 'AWAITING_CHANGE'],
      ['Awaiting Evidence', 'ON_HOLD', 'AWAITING_CALLER'],
      ['Resolved', 'RESOLVED', null],
      ['Closed', 'CLOSED', null],
    ]);
  });

  it('collects distinct problems and changes in first-seen order and takes final fields from the last row', () => {
    const result = parseServiceNowLog(
      csv(
        row({ number: 'INC1', problem_id: 'Problem ID  7', reassignment_count: '0' }),
        row({ number: 'INC2', problem_id: 'Problem ID  3', rfc: 'CHG0000001' }),
        row({ number: 'INC1', problem_id: 'Problem ID  3', rfc: 'CHG0000002', reassignment_count: '2' }),
        row({ number: 'INC1', problem_id: 'Problem ID  7', incident_state: 'Resolved', reassignment_count: '3', impact: '1 - High', urgency: '1 - High', priority: '1 - Critical' }),
        row({ number: 'INC2', problem_id: '?', reassignment_count: '1' }),
      ),
    );
    expect(result.problems).toEqual([
      { externalRef: 'Problem ID  7', incidentNumbers: ['INC1'] },
      { externalRef: 'Problem ID  3', incidentNumbers: ['INC2', 'INC1'] },
    ]);
    expect(result.changes).toEqual([
      { externalRef: 'CHG0000001', incidentNumbers: ['INC2'] },
      { externalRef: 'CHG0000002', incidentNumbers: ['INC1'] },
    ]);
    const [inc1, inc2] = result.incidents;
    expect(inc1).toMatchObject({ state: 'RESOLVED', impact: 1, urgency: 1, priority: 1, reassignmentCount: 3 });
    expect(inc1?.problemIds).toEqual(['Problem ID  7', 'Problem ID  3']);
    expect(inc1?.changeIds).toEqual(['CHG0000002']);
    expect(inc2?.problemIds).toEqual(['Problem ID  3']);
    expect(computeImportSummary(result)).toEqual({
      incidents: 2,
      problems: 2,
      changes: 2,
      reassignmentSum: 4,
      rowsRead: 5,
      rowsRejected: 0,
    });
  });
});
