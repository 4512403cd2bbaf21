// Request bodies of /v1/ingest: an agent batch as the agent and Kafka carry it
// (application/x-tracer-batch: a format byte, then zstd JSON Lines, @tracer/events), or JSON
// `{"events": [...]}` for clients that have no zstd. Both become the same list of items.
import { BatchDecodeError, decodeBatch, MAX_DECODED_BATCH_BYTES } from '@tracer/events';
import type { FastifyInstance } from 'fastify';
import type { BatchItem } from '../core/ingest-batch.ts';
import { ProblemError } from './errors.ts';

export const BATCH_CONTENT_TYPE = 'application/x-tracer-batch';

export interface IngestBody {
  items: BatchItem[];
  /** The body as received, when it is an agent batch (it may go to Kafka unchanged). */
  raw?: Buffer;
}

export function registerBatchParser(app: FastifyInstance): void {
  app.addContentTypeParser(BATCH_CONTENT_TYPE, { parseAs: 'buffer' }, (_request, body: Buffer, done) => {
    try {
      done(null, { items: decodeBatch(body), raw: body } satisfies IngestBody);
    } catch (err) {
      if (!(err instanceof BatchDecodeError)) return done(err as Error, undefined);
      // zstd refuses to inflate past the bound: that is a size problem, not a format one.
      if (/larger than|maxOutputLength|exceeds/i.test(err.message)) {
        return done(
          new ProblemError(
            413,
            'batch-too-large',
            'Batch too large',
            `the batch inflates past ${MAX_DECODED_BATCH_BYTES} bytes`,
          ),
          undefined,
        );
      }
      return done(new ProblemError(400, 'undecodable-batch', 'Batch cannot be decoded', err.message), undefined);
    }
  });
}

/** Items of a parsed body, whichever content type it came as. */
export function bodyItems(body: unknown): IngestBody {
  if (body && typeof body === 'object' && Array.isArray((body as IngestBody).items)) return body as IngestBody;
  const events = (body as { events?: unknown } | null)?.events;
  if (!Array.isArray(events)) {
    throw new ProblemError(400, 'malformed-batch', 'Malformed batch', 'a JSON body must be {"events": [...]}');
  }
  return { items: events.map((value) => ({ value })) };
}
