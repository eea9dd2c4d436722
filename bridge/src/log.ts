import { pino, type Logger } from 'pino';

/** Structured logs on stderr (stdout is the CLI's answer). */
export function createLogger(name: string): Logger {
  return pino({ name, level: process.env.LOG_LEVEL ?? 'info' }, pino.destination(2));
}
