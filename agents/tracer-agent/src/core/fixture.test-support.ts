// Reads a recorded trace from fixtures/ for the core tests.
import { readFileSync } from 'node:fs';
import type { TelemetryEvent } from '@tracer/events';
import { ProcessTable } from './process-table.ts';

export function fixtureEvents(name: string): TelemetryEvent[] {
  return readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as TelemetryEvent);
}

export const fixtureTable = (name: string) => ProcessTable.from(fixtureEvents(name));
