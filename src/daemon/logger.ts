import { pino, type Logger } from 'pino';

// One JSON object per line on stderr, so a supervisor or a test can grep what failed and why.
export type { Logger };
export function createLogger(level: string): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, (pino as any).destination({ fd: 2, sync: true }));
}
