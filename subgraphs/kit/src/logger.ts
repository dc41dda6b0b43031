import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs; one root logger per process, children per service. */
export function createLogger(level: string, name: string): Logger {
  return pino({ level, name, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
}
