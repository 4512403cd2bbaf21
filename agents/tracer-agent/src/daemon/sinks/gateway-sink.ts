// The ingest gateway as a sink: POST /v1/ingest with the API key, one agent batch per request,
// the batch bytes as they are spooled (application/x-tracer-batch). The gateway answers 202
// only once Kafka holds the batch, so 202 is the acknowledgement.
import type { SendOutcome, Sink } from './sink.ts';

export const BATCH_CONTENT_TYPE = 'application/x-tracer-batch';

export interface GatewaySinkOptions {
  /** Base URL, e.g. https://ingest.example.com (the sink adds /v1/ingest). */
  url: string;
  apiKey: string;
  /** How long one request may take before it counts as failed (and is retried). */
  timeoutMs?: number;
}

export function createGatewaySink(options: GatewaySinkOptions): Sink {
  const endpoint = new URL('/v1/ingest', options.url).toString();
  const timeoutMs = options.timeoutMs ?? 30_000;
  return {
    name: `gateway ${new URL(options.url).host}`,
    maxRecordsPerSend: 1,
    maxBytesPerSend: Number.POSITIVE_INFINITY,
    async send(batches): Promise<SendOutcome> {
      const body = batches[0];
      if (!body || batches.length !== 1) throw new Error('the gateway sink sends one batch per request');
      let res: Response;
      try {
        res = await fetch(endpoint, {
          method: 'POST',
          body,
          headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': BATCH_CONTENT_TYPE },
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        return {
          kind: 'retry',
          reason: `gateway unreachable: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
        };
      }
      const text = await res.text().catch(() => '');
      const detail = problemDetail(text) ?? `HTTP ${res.status}`;
      if (res.status === 202 || res.status === 200) return { kind: 'sent' };
      if (res.status === 400) return { kind: 'rejected', reason: detail };
      if (res.status === 413) return { kind: 'too-large', reason: detail };
      const retryAfter = Number(res.headers.get('retry-after'));
      const afterMs = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined;
      // 401/403: a wrong or revoked key. Keep everything spooled: fixing the key loses nothing.
      return { kind: 'retry', reason: `gateway answered ${res.status}: ${detail}`, ...(afterMs ? { afterMs } : {}) };
    },
    async close() {},
  };
}

function problemDetail(text: string): string | undefined {
  try {
    const p = JSON.parse(text) as { title?: string; detail?: string };
    return [p.title, p.detail].filter(Boolean).join(': ') || undefined;
  } catch {
    return text ? text.slice(0, 200) : undefined;
  }
}
