// TypeBox schemas are JSON Schema already; this strips TypeBox's symbol keys so the result is
// plain JSON for fastify, OpenAPI documents and other languages' validators.
import { type EventType, eventSchemas, TelemetryEvent } from './schemas.ts';

export function jsonSchemaOf(type: EventType): Record<string, unknown> {
  return JSON.parse(JSON.stringify(eventSchemas[type]));
}

/** The whole union, with `type` as the discriminator, as one JSON Schema document. */
export function telemetryJsonSchema(): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://tracer.dev/schemas/telemetry.v1.json',
    ...JSON.parse(JSON.stringify(TelemetryEvent)),
  };
}
