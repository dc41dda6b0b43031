/** Where background work reads time and waits, so tests can drive exact instants without sleeping. */
export interface Clock {
  now(): Date;
  /** Resolves once the clock reaches `until` (epoch ms), or as soon as `signal` aborts. */
  sleepUntil(until: number, signal: AbortSignal): Promise<void>;
}

// setTimeout fires at once for delays above 2^31-1 ms, so long waits are taken in chunks.
const MAX_TIMEOUT_MS = 2_147_483_647;

/** Wall-clock time and real timers. */
export const systemClock: Clock = {
  now: () => new Date(),
  sleepUntil: (until, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      let timer: NodeJS.Timeout;
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const arm = () => {
        const delay = until - Date.now();
        if (delay <= 0) return done();
        timer = setTimeout(arm, Math.min(delay, MAX_TIMEOUT_MS));
      };
      signal.addEventListener('abort', done, { once: true });
      arm();
    }),
};

/** A clock that only moves when told to: sleepers wake when `set` or `advance` reaches their instant. */
export class ManualClock implements Clock {
  private current: number;
  private readonly sleepers = new Set<{ until: number; wake: () => void }>();

  constructor(start: Date | string) {
    this.current = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  /** Moves the clock to an instant (never backwards) and wakes every sleeper due by then. */
  set(to: Date | string): void {
    this.current = Math.max(this.current, new Date(to).getTime());
    for (const sleeper of [...this.sleepers]) if (sleeper.until <= this.current) sleeper.wake();
  }

  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    this.set(new Date(this.current + ms));
  }

  /** Instants sleepers are waiting for, earliest first. */
  pendingWakeUps(): number[] {
    return [...this.sleepers].map((s) => s.until).sort((a, b) => a - b);
  }

  sleepUntil(until: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal.aborted || until <= this.current) return resolve();
      const sleeper = {
        until,
        wake: () => {
          this.sleepers.delete(sleeper);
          signal.removeEventListener('abort', sleeper.wake);
          resolve();
        },
      };
      this.sleepers.add(sleeper);
      signal.addEventListener('abort', sleeper.wake, { once: true });
    });
  }
}
