// Runtime validation: the schema is chosen by `type` first, so an error names what is wrong
// with this kind of event instead of listing every member of the union.

import type { TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { type EventType, eventSchemas, type TelemetryEvent } from './schemas.ts';

const checkers: Record<string, TypeCheck<TSchema>> = Object.fromEntries(
  Object.entries(eventSchemas).map(([type, schema]) => [type, TypeCompiler.Compile(schema as TSchema)]),
);

export type Validation = { ok: true; event: TelemetryEvent } | { ok: false; reason: string };

const MAX_REASONS = 5;

export function validateEvent(value: unknown): Validation {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'event is not a JSON object' };
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !Object.hasOwn(checkers, type)) {
    return { ok: false, reason: `unknown event type ${JSON.stringify(type)}` };
  }
  const checker = checkers[type]!;
  if (checker.Check(value)) return { ok: true, event: value as TelemetryEvent };
  const reasons = [...checker.Errors(value)].slice(0, MAX_REASONS).map((e) => `${e.path || '/'}: ${e.message}`);
  return { ok: false, reason: `${type}: ${reasons.join('; ')}` };
}

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(checkers, type);
}
