import { backgroundDb, listenToChannel, systemClock, type Clock, type DatabaseHandle, type Db, type Logger } from '@itsm/kit';
import { getNextTimerDueAt, takeDueTimers } from '../db/sla-queries.js';
import { autoCloseIncidents } from './auto-close.js';
import { fireThresholds, TIMER_CHANNEL, type SlaEventPayload } from './sla-engine.js';

export interface SlaMonitorOptions {
  database: DatabaseHandle;
  logger: Logger;
  /** Time source and sleeper; tests pass a ManualClock to drive exact instants. */
  clock?: Clock;
  /** Timers taken per transaction. */
  batchSize?: number;
  /**
   * Longest sleep with nothing due: a safety net in case a NOTIFY is lost while the listening connection
   * reconnects (the reconnect itself also wakes the monitor). Timers are never found by this scan: the
   * monitor sleeps until the earliest due instant and is woken sooner by NOTIFY.
   */
  maxSleepMs?: number;
  /** Real-time back-off when a writer held the subject of a due timer. */
  retryDelayMs?: number;
  /** Called after each committed batch (benchmarks measure due-to-commit latency with it). */
  onCommitted?: (batch: { firings: SlaEventPayload[]; closed: number; committedAt: Date; transactionMs: number }) => void;
}

export interface MonitorPass {
  /** SLA threshold events written. */
  fired: number;
  /** Incidents auto-closed. */
  closed: number;
  /** Due timers left for later because a writer held their SLA or incident. */
  skipped: number;
  /** Transactions used. */
  batches: number;
}

export interface SlaMonitor {
  /** Listens for new timers and starts the loop. */
  start(): Promise<void>;
  /** Stops the loop and waits for the batch in flight. */
  stop(): Promise<void>;
  /** Fires everything due at the clock's now, batch after batch, without the loop (tests and tools). */
  runDue(): Promise<MonitorPass>;
  /** The instant the loop sleeps until; null while it works. */
  sleepingUntil(): Date | null;
  /** Resolves when the loop next sleeps with nothing due before its wake-up instant. */
  whenIdle(): Promise<void>;
  /** Counters since creation. */
  stats(): MonitorStats;
}

export interface MonitorStats {
  /** Loop iterations and runDue calls. */
  passes: number;
  /** Transactions that took timers (or found none). */
  batches: number;
  fired: number;
  closed: number;
  skipped: number;
  /** Sleeps cut short by a NOTIFY of a sooner timer. */
  wakeUps: number;
  /** SQL statements the monitor issued. */
  statements: number;
}

/**
 * The SLA monitor: takes due timer rows (SLA thresholds and auto-closes) with FOR UPDATE SKIP LOCKED, acts
 * on them and deletes them in one transaction per batch with their outbox events, so each fires exactly
 * once however many replicas run; then sleeps until the earliest pending timer, woken early by NOTIFY
 * when a sooner one is scheduled.
 */
export function createSlaMonitor(options: SlaMonitorOptions): SlaMonitor {
  const { database, logger } = options;
  // Its own statement count: the monitor's work never shows in the request counts tests assert on.
  const db: Db = backgroundDb(database, () => stats.statements++);
  const clock = options.clock ?? systemClock;
  const batchSize = options.batchSize ?? 500;
  const maxSleepMs = options.maxSleepMs ?? 5 * 60_000;
  const retryDelayMs = options.retryDelayMs ?? 50;

  let running = false;
  let loop: Promise<void> | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  let wakeController = new AbortController();
  let sleepingUntilMs: number | null = null;
  // A NOTIFY that arrives while the loop works: the loop looks again before sleeping.
  let wokenWhileBusy = false;
  let idleWaiters: (() => void)[] = [];
  const stats: MonitorStats = { passes: 0, batches: 0, fired: 0, closed: 0, skipped: 0, wakeUps: 0, statements: 0 };

  /** A timer due at `dueAtMs` was scheduled (NaN: something may have been missed, look again). */
  function wake(dueAtMs: number): void {
    if (sleepingUntilMs === null) wokenWhileBusy = true;
    else if ((Number.isNaN(dueAtMs) || dueAtMs < sleepingUntilMs) && !wakeController.signal.aborted) {
      if (!Number.isNaN(dueAtMs)) stats.wakeUps++;
      wakeController.abort();
    }
  }

  async function fireBatch(now: Date): Promise<MonitorPass & { taken: number }> {
    let firings: SlaEventPayload[] = [];
    const started = performance.now();
    const result = await db.transaction(async (tx) => {
      const { thresholds, autoClose, skipped } = await takeDueTimers(tx, now, batchSize);
      firings = await fireThresholds(
        tx,
        thresholds.map((t) => ({
          sla: { tenantId: t.tenantId, id: t.slaId, incidentId: t.incidentId, kind: t.slaKind },
          incidentNumber: t.incidentNumber,
          level: t.level,
          thresholdAt: t.thresholdAt,
          slaDueAt: t.slaDueAt ?? t.thresholdAt,
        })),
        now,
      );
      const closing = await autoCloseIncidents(tx, autoClose, now);
      return {
        taken: thresholds.length + autoClose.length + skipped,
        fired: firings.length,
        closed: closing.closed.length,
        skipped: skipped + closing.skipped.length,
        batches: 1,
      };
    });
    if (result.taken) options.onCommitted?.({ firings, closed: result.closed, committedAt: new Date(), transactionMs: performance.now() - started });
    return result;
  }

  async function runDue(): Promise<MonitorPass> {
    const total: MonitorPass = { fired: 0, closed: 0, skipped: 0, batches: 0 };
    stats.passes++;
    for (;;) {
      const batch = await fireBatch(clock.now());
      total.fired += batch.fired;
      total.closed += batch.closed;
      total.skipped += batch.skipped;
      total.batches += batch.batches;
      stats.fired += batch.fired;
      stats.closed += batch.closed;
      stats.skipped += batch.skipped;
      stats.batches += batch.batches;
      // A full batch may leave more due; a partial one took everything not locked elsewhere; a batch of
      // nothing but rows writers hold makes no progress until they commit.
      if (batch.taken < batchSize || batch.skipped === batch.taken) return total;
    }
  }

  function settleIdle(): void {
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  async function run(): Promise<void> {
    while (running) {
      try {
        wokenWhileBusy = false;
        const pass = await runDue();
        if (!running) break;
        if (pass.skipped > 0) {
          // A writer holds those rows for a moment and will reschedule them: back off in real time, then retry.
          await new Promise((resolve) => setTimeout(resolve, retryDelayMs));
          continue;
        }
        const now = clock.now().getTime();
        const next = await getNextTimerDueAt(db);
        if (wokenWhileBusy || !running) continue;
        const until = Math.min(next?.getTime() ?? Infinity, now + maxSleepMs);
        if (until <= now) continue;
        wakeController = new AbortController();
        sleepingUntilMs = until;
        settleIdle();
        await clock.sleepUntil(until, wakeController.signal);
        sleepingUntilMs = null;
      } catch (error) {
        sleepingUntilMs = null;
        if (!running) break;
        logger.error({ err: error }, 'SLA monitor pass failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
    settleIdle();
  }

  return {
    async start() {
      if (running) return;
      running = true;
      unlisten = await listenToChannel(
        database,
        TIMER_CHANNEL,
        (payload) => wake(Date.parse(payload)),
        // (Re)connected: anything scheduled while the listener was down must be looked at.
        () => wake(Number.NaN),
      );
      loop = run();
      logger.info('SLA monitor started');
    },
    async stop() {
      if (!running) return;
      running = false;
      wakeController.abort();
      await loop;
      await unlisten?.();
      logger.info('SLA monitor stopped');
    },
    runDue,
    stats: () => ({ ...stats }),
    sleepingUntil: () => (sleepingUntilMs === null ? null : new Date(sleepingUntilMs)),
    whenIdle: () =>
      new Promise<void>((resolve) => {
        // Asleep and not yet due: idle now. Otherwise wait for the loop to finish its work and sleep again.
        if (!running || (sleepingUntilMs !== null && sleepingUntilMs > clock.now().getTime() && !wakeController.signal.aborted)) resolve();
        else idleWaiters.push(resolve);
      }),
  };
}
