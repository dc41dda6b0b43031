import { StrictMode, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { connectionParams, endpointUrls, readPageConfig } from '../shared/config.js';
import { boardRows, byPriority, countdown, mergeAlerts, type Alert, type BoardIncident, type BoardRow } from './board.js';
import {
  BOARD_QUERY,
  CHANGE_CONFLICTS_SUBSCRIPTION,
  createSocket,
  query,
  resumableSubscription,
  SLA_EVENTS_SUBSCRIPTION,
  type ConnectionState,
} from './graphql.js';
import './style.css';

interface SlaEvent {
  cursor: string;
  kind: string;
  slaKind: string;
  level: number | null;
  percent: number;
  dueAt: string;
  firedAt: string;
  incident: { number: string; priority: number; title: string } | null;
}

interface ChangeConflictEvent {
  cursor: string;
  kind: string;
  severity: string;
  message: string;
  changeRequest: { number: string } | null;
  otherChangeRequest: { number: string } | null;
}

const PRIORITY_LABELS: Record<number, string> = { 1: 'P1 Critical', 2: 'P2 High', 3: 'P3 Medium', 4: 'P4 Low', 5: 'P5 Planning' };
/** The board is re-read at this interval as well as on every event, so SLAs crossing 70 % between events show up. */
const REFRESH_MS = 60_000;

const config = readPageConfig();
const urls = endpointUrls(config.graphqlPath);

function slaAlert(event: SlaEvent): Alert {
  const breach = /BREACH/i.test(event.kind);
  const incident = event.incident;
  return {
    cursor: event.cursor,
    stream: 'sla',
    kind: event.kind,
    title: `${incident?.number ?? 'incident'} ${event.slaKind.toLowerCase()} ${breach ? 'breached' : `at ${Math.round(event.percent)} %`}${event.level ? ` (level ${event.level})` : ''}`,
    detail: incident ? `${PRIORITY_LABELS[incident.priority] ?? `P${incident.priority}`} · ${incident.title}` : '',
    at: event.firedAt,
    severity: breach ? 'breach' : 'warning',
  };
}

function conflictAlert(event: ChangeConflictEvent): Alert {
  const pair = [event.changeRequest?.number, event.otherChangeRequest?.number].filter(Boolean).join(' ↔ ');
  return {
    cursor: event.cursor,
    stream: 'conflict',
    kind: event.kind,
    title: `${pair || 'change'}: ${event.kind.replaceAll('_', ' ').toLowerCase()} (${event.severity})`,
    detail: event.message,
    at: new Date().toISOString(),
    severity: 'conflict',
  };
}

function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}

function Dashboard() {
  const [incidents, setIncidents] = useState<BoardIncident[]>([]);
  const [loadedAt, setLoadedAt] = useState<string | undefined>();
  const [boardError, setBoardError] = useState<string | undefined>();
  const [alerts, setAlerts] = useState<Alert[]>([]);
  const [streamErrors, setStreamErrors] = useState<Record<string, string | undefined>>({});
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  const now = useNow(1000);
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const loadBoard = useCallback(async () => {
    try {
      const data = await query<{ incidents: { edges: { node: BoardIncident }[] } }>(urls.http, config.devToken, BOARD_QUERY);
      setIncidents(data.incidents.edges.map((e) => e.node));
      setLoadedAt(new Date().toISOString());
      setBoardError(undefined);
    } catch (error) {
      setBoardError(error instanceof Error ? error.message : String(error));
    }
  }, []);

  // Events arrive in bursts; one board reload a moment after the last one is enough.
  const scheduleReload = useCallback(() => {
    clearTimeout(refreshTimer.current);
    refreshTimer.current = setTimeout(() => void loadBoard(), 300);
  }, [loadBoard]);

  useEffect(() => {
    void loadBoard();
    const timer = setInterval(() => void loadBoard(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [loadBoard]);

  useEffect(() => {
    // A client disposed by this effect's cleanup still reports its close: only the live one may set the state.
    let disposed = false;
    const client = createSocket(urls.ws, connectionParams(config.devToken), (state) => {
      if (!disposed) setConnection(state);
    });
    const stops = [
      resumableSubscription<SlaEvent>({
        client,
        query: SLA_EVENTS_SUBSCRIPTION,
        field: 'slaEvents',
        storageKey: 'itsm-dashboard:slaEvents:cursor',
        onEvent: (event) => {
          setStreamErrors((e) => ({ ...e, sla: undefined }));
          setAlerts((existing) => mergeAlerts(existing, [slaAlert(event)]));
          scheduleReload();
        },
        onError: (message) => setStreamErrors((e) => ({ ...e, sla: message })),
      }),
      resumableSubscription<ChangeConflictEvent>({
        client,
        query: CHANGE_CONFLICTS_SUBSCRIPTION,
        field: 'changeConflicts',
        storageKey: 'itsm-dashboard:changeConflicts:cursor',
        onEvent: (event) => {
          setStreamErrors((e) => ({ ...e, conflict: undefined }));
          setAlerts((existing) => mergeAlerts(existing, [conflictAlert(event)]));
        },
        onError: (message) => setStreamErrors((e) => ({ ...e, conflict: message })),
      }),
    ];
    return () => {
      disposed = true;
      for (const stop of stops) stop();
      void client.dispose();
    };
  }, [scheduleReload]);

  const groups = useMemo(() => byPriority(boardRows(incidents)), [incidents]);
  const atRisk = groups.reduce((n, g) => n + g.rows.filter((r) => r.status === 'AT_RISK').length, 0);
  const breached = groups.reduce((n, g) => n + g.rows.filter((r) => r.status === 'BREACHED').length, 0);

  return (
    <div className="layout">
      <header>
        <h1>SLA dashboard</h1>
        <span className="counts">
          <span className="count at-risk" data-testid="at-risk-count">{atRisk} at risk</span>
          <span className="count breached" data-testid="breached-count">{breached} breached</span>
        </span>
        <span className={`connection ${connection}`} data-testid="connection">
          {connection === 'live' ? '● live' : connection === 'connecting' ? '○ connecting' : '○ reconnecting'}
        </span>
      </header>
      {boardError && <p className="error">Board: {boardError}</p>}
      {Object.entries(streamErrors).map(([stream, message]) =>
        message ? (
          <p className="error" key={stream}>
            {stream === 'sla' ? 'SLA events' : 'Change conflicts'}: {message}
          </p>
        ) : null,
      )}
      <main>
        <section className="board" aria-label="Incidents at risk and breached">
          {groups.map((group) => (
            <div className="priority" key={group.priority}>
              <h2>
                {PRIORITY_LABELS[group.priority]} <span className="muted">{group.rows.length}</span>
              </h2>
              {group.rows.length === 0 ? <p className="muted">nothing at risk</p> : null}
              {group.rows.map((row) => (
                <SlaRow key={`${row.incident.id}:${row.sla.kind}`} row={row} now={now} />
              ))}
            </div>
          ))}
          <p className="muted">board read {loadedAt ? new Date(loadedAt).toLocaleTimeString() : '…'}</p>
        </section>
        <aside className="alerts" aria-label="Live alerts">
          <h2>Live alerts</h2>
          {alerts.length === 0 ? <p className="muted">waiting for SLA warnings, breaches and change conflicts…</p> : null}
          <ul>
            {alerts.map((alert) => (
              <li key={`${alert.stream}:${alert.cursor}`} className={`alert ${alert.severity}`} data-testid="alert">
                <strong>{alert.title}</strong>
                <span>{alert.detail}</span>
                <time dateTime={alert.at}>{new Date(alert.at).toLocaleTimeString()}</time>
              </li>
            ))}
          </ul>
        </aside>
      </main>
    </div>
  );
}

function SlaRow({ row, now }: { row: BoardRow; now: number }) {
  const paused = row.sla.stage === 'PAUSED';
  return (
    <div className={`sla ${row.status === 'BREACHED' ? 'breached' : 'at-risk'}`} data-testid="sla-row">
      <span className="number">{row.incident.number}</span>
      <span className="title">{row.incident.title}</span>
      <span className="kind">{row.sla.kind.toLowerCase()}</span>
      <span className="percent">{Math.round(row.sla.percentElapsed)} %</span>
      <span className="countdown">{paused ? 'paused' : countdown(row.sla.dueAt, now)}</span>
    </div>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Dashboard />
  </StrictMode>,
);
