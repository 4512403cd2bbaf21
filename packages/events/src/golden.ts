// Golden example events, one of each type: the fixtures other packages' tests start from.
import { readFileSync } from 'node:fs';
import type { TelemetryEvent } from './schemas.ts';

export const goldenEvents: TelemetryEvent[] = readFileSync(new URL('../golden/events.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as TelemetryEvent);
