import { describe, expect, it } from 'vitest';
import { boardRows, byPriority, countdown, mergeAlerts, type Alert, type BoardIncident, type TaskSla } from '../ui/dashboard/board.js';

/** The dashboard's pure parts (ui/dashboard/board.ts): which SLAs show, in which order, and the countdown text. */
const sla = (over: Partial<TaskSla>): TaskSla => ({
  kind: 'RESPONSE',
  dueAt: '2026-03-02T10:00:00.000Z',
  percentElapsed: 50,
  breached: false,
  breachedAt: null,
  stage: 'RUNNING',
  escalationLevel: 0,
  ...over,
});
const incident = (number: string, priority: number, slas: TaskSla[]): BoardIncident => ({
  id: number,
  number,
  title: `title of ${number}`,
  priority,
  priorityLabel: `P${priority}`,
  state: 'NEW',
  assignmentGroup: null,
  slas,
});

describe('dashboard board', () => {
  it('shows running or paused SLAs from 70 %, breached from 100 % or when recorded, earliest due first', () => {
    const rows = boardRows([
      incident('INC0000001', 1, [sla({ percentElapsed: 69.9 }), sla({ kind: 'RESOLUTION', percentElapsed: 70, dueAt: '2026-03-02T12:00:00.000Z' })]),
      incident('INC0000002', 2, [sla({ percentElapsed: 100.5, dueAt: '2026-03-02T09:00:00.000Z' })]),
      incident('INC0000003', 3, [sla({ percentElapsed: 20, breached: true, dueAt: '2026-03-02T08:00:00.000Z' })]),
      incident('INC0000004', 1, [sla({ percentElapsed: 95, stage: 'COMPLETED' }), sla({ percentElapsed: 150, stage: 'CANCELLED' })]),
      incident('INC0000005', 4, [sla({ percentElapsed: 85, stage: 'PAUSED', dueAt: '2026-03-02T11:00:00.000Z' })]),
    ]);
    expect(rows.map((r) => [r.incident.number, r.sla.kind, r.status])).toEqual([
      ['INC0000003', 'RESPONSE', 'BREACHED'],
      ['INC0000002', 'RESPONSE', 'BREACHED'],
      ['INC0000005', 'RESPONSE', 'AT_RISK'],
      ['INC0000001', 'RESOLUTION', 'AT_RISK'],
    ]);
    expect(byPriority(rows).map((g) => [g.priority, g.rows.map((r) => r.incident.number)])).toEqual([
      [1, ['INC0000001']],
      [2, ['INC0000002']],
      [3, ['INC0000003']],
      [4, ['INC0000005']],
      [5, []],
    ]);
  });

  it('counts down in wall-clock time and counts up once past due', () => {
    const due = '2026-03-02T10:00:00.000Z';
    expect(countdown(due, Date.parse('2026-03-02T08:54:51.500Z'))).toBe('1h 05m 08s left');
    expect(countdown(due, Date.parse('2026-03-02T09:59:59.000Z'))).toBe('0m 01s left');
    expect(countdown(due, Date.parse('2026-03-02T10:00:00.000Z'))).toBe('0m 00s left');
    expect(countdown(due, Date.parse('2026-03-02T10:12:03.000Z'))).toBe('12m 03s over');
  });

  it('keeps one alert per stream cursor (delivery is at-least-once), newest first, at most the limit', () => {
    const alert = (stream: Alert['stream'], cursor: string): Alert => ({ cursor, stream, kind: 'BREACHED', title: cursor, detail: '', at: '', severity: 'breach' });
    let alerts = mergeAlerts([], [alert('sla', 'a'), alert('sla', 'b')]);
    alerts = mergeAlerts(alerts, [alert('sla', 'b'), alert('conflict', 'b'), alert('sla', 'c')]);
    expect(alerts.map((a) => `${a.stream}:${a.cursor}`)).toEqual(['sla:c', 'conflict:b', 'sla:b', 'sla:a']);
    expect(mergeAlerts(alerts, [alert('sla', 'd')], 3).map((a) => a.cursor)).toEqual(['d', 'c', 'b']);
  });
});
