// Structured JSON logs on stderr (stdout stays free for a command's own output).
// TRACER_LOG_LEVEL picks the level; every logger names its component.
import { type Logger, pino } from 'pino';

export type { Logger };

const root = pino(
  { level: process.env.TRACER_LOG_LEVEL ?? 'info', base: { pid: process.pid } },
  pino.destination({ fd: 2, sync: true }),
);

export function createLogger(component: string): Logger {
  return root.child({ component });
}
