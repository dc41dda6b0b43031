/** What the board shows, computed from GraphQL results; no DOM here. */

export interface TaskSla {
  kind: string;
  dueAt: string;
  percentElapsed: number;
  breached: boolean;
  breachedAt: string | null;
  stage: string;
  escalationLevel: number;
}

export interface BoardIncident {
  id: string;
  number: string;
  title: string;
  priority: number;
  priorityLabel: string;
  state: string;
  assignmentGroup: string | null;
  slas: TaskSla[];
}

/** One SLA on the board: at risk from 70 % of its target, breached from 100 %. */
export interface BoardRow {
  incident: BoardIncident;
  sla: TaskSla;
  status: 'AT_RISK' | 'BREACHED';
}

/** The warning threshold of the first escalation level. */
export const AT_RISK_PERCENT = 70;

/** Running or paused SLAs past the warning threshold, most urgent (earliest due) first. */
export function boardRows(incidents: readonly BoardIncident[]): BoardRow[] {
  const rows: BoardRow[] = [];
  for (const incident of incidents) {
    for (const sla of incident.slas) {
      if (sla.stage !== 'RUNNING' && sla.stage !== 'PAUSED') continue;
      // percentElapsed is computed when the board is read: past 100 it is breached even before the monitor records it.
      if (sla.breached || sla.percentElapsed >= 100) rows.push({ incident, sla, status: 'BREACHED' });
      else if (sla.percentElapsed >= AT_RISK_PERCENT) rows.push({ incident, sla, status: 'AT_RISK' });
    }
  }
  return rows.sort((a, b) => Date.parse(a.sla.dueAt) - Date.parse(b.sla.dueAt));
}

/** Rows grouped by priority 1 (Critical) to 5 (Planning); every priority present, empty ones included. */
export function byPriority(rows: readonly BoardRow[]): { priority: number; rows: BoardRow[] }[] {
  return [1, 2, 3, 4, 5].map((priority) => ({ priority, rows: rows.filter((r) => r.incident.priority === priority) }));
}

/** "1h 05m 09s left" or "12m 03s over": wall-clock time to the due instant. */
export function countdown(dueAt: string, now: number): string {
  const ms = Date.parse(dueAt) - now;
  const total = Math.floor(Math.abs(ms) / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  const text = h > 0 ? `${h}h ${pad(m)}m ${pad(s)}s` : `${m}m ${pad(s)}s`;
  return ms >= 0 ? `${text} left` : `${text} over`;
}

/** An alert in the live feed: an SLA event or a change conflict, keyed by its stream cursor. */
export interface Alert {
  cursor: string;
  stream: 'sla' | 'conflict';
  kind: string;
  title: string;
  detail: string;
  at: string;
  severity: 'warning' | 'breach' | 'conflict';
}

/** Adds alerts newest first, once per cursor (delivery is at-least-once), keeping the newest `limit`. */
export function mergeAlerts(existing: readonly Alert[], incoming: readonly Alert[], limit = 50): Alert[] {
  const seen = new Set(existing.map((a) => `${a.stream}:${a.cursor}`));
  const fresh = incoming.filter((a) => {
    const key = `${a.stream}:${a.cursor}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return [...fresh.reverse(), ...existing].slice(0, limit);
}
