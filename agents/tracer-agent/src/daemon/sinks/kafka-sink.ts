// Kafka as a sink (self-hosted): batches go to telemetry.raw.v1 keyed tenant/host through the
// bus's idempotent producer (acks=all). A producer that failed is closed and made again on
// the next send, so a broker that restarts or moves is found again.
import { type Bus, createKafkaBus, type Producer } from '@tracer/bus';
import { hostKey, topics } from '@tracer/events';
import type { Logger } from '@tracer/log';
import type { SendOutcome, Sink } from './sink.ts';

export interface KafkaSinkOptions {
  brokers: string[];
  tenant: string;
  host: string;
  topic?: string;
  log: Logger;
}

/** Kafka's default message limit is 1 MiB per record batch: sends stay under it. */
const MAX_SEND_BYTES = 900 * 1024;

export function createKafkaSink(options: KafkaSinkOptions): Sink {
  const topic = options.topic ?? topics.raw;
  const key = hostKey(options.tenant, options.host);
  let bus: Bus | undefined;
  let producer: Producer | undefined;

  const reset = async () => {
    const old = bus;
    bus = undefined;
    producer = undefined;
    await old?.close().catch(() => {});
  };

  return {
    name: `kafka ${options.brokers.join(',')}`,
    maxRecordsPerSend: 16,
    maxBytesPerSend: MAX_SEND_BYTES,
    async send(batches): Promise<SendOutcome> {
      try {
        if (!producer) {
          bus = createKafkaBus({
            brokers: options.brokers,
            clientId: 'tracer-agent',
            logger: options.log,
            connectionTimeoutMs: 3000,
            requestTimeoutMs: 10_000,
          });
          producer = await bus.producer();
        }
        await producer.send(
          topic,
          batches.map((value) => ({ key, value })),
        );
        return { kind: 'sent' };
      } catch (err) {
        await reset();
        const message = (err as Error).message;
        if (/larger than the max message size|MESSAGE_TOO_LARGE/i.test(message))
          return { kind: 'too-large', reason: message };
        return { kind: 'retry', reason: `kafka: ${message}` };
      }
    },
    async close() {
      await reset();
    },
  };
}
