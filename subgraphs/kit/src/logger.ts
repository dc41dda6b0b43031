import { pino, type DestinationStream, type Logger } from 'pino';

export type { DestinationStream, Logger };

/** Structured JSON logs; one root logger per process, children per service. Stdout unless a destination is given. */
export function createLogger(level: string, name: string, destination?: DestinationStream): Logger {
  const options = { level, name, base: undefined, timestamp: pino.stdTimeFunctions.isoTime };
  return destination ? pino(options, destination) : pino(options);
}
