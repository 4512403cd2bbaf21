// The gateway's way to Kafka: requests hand over their records and wait for the broker's
// acknowledgement (acks=all). The bus producer sends one request at a time, so records that
// arrive while a send is in flight ride together in the next one: under load the gateway
// sends few large produce requests instead of queueing many small ones.
import type { OutgoingMessage, Producer } from '@tracer/bus';
import { MAX_SEND_BYTES } from './topics.ts';

interface Waiting {
  messages: OutgoingMessage[];
  bytes: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** Kafka did not answer in time, or too much already waits for it: the client should retry. */
export class PublishUnavailableError extends Error {
  override name = 'PublishUnavailableError';
}

export class CoalescingPublisher {
  readonly #producer: Producer;
  readonly #topic: string;
  readonly #maxSendBytes: number;
  readonly #maxQueuedBytes: number;
  #queue: Waiting[] = [];
  #queuedBytes = 0;
  #sending = false;
  /** Set when the last send failed, cleared by the next success: readiness reads it. */
  lastError: Error | undefined;

  constructor(producer: Producer, topic: string, options: { maxSendBytes?: number; maxQueuedBytes?: number } = {}) {
    this.#producer = producer;
    this.#topic = topic;
    this.#maxSendBytes = options.maxSendBytes ?? MAX_SEND_BYTES;
    this.#maxQueuedBytes = options.maxQueuedBytes ?? 256 * 1024 * 1024;
  }

  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Resolves once Kafka acknowledged every message; rejects after `timeoutMs` or when the queue is full. */
  publish(messages: OutgoingMessage[], timeoutMs: number): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    const bytes = messages.reduce((n, m) => n + (m.value?.length ?? 0), 0);
    if (this.#queuedBytes + bytes > this.#maxQueuedBytes) {
      return Promise.reject(new PublishUnavailableError('too many records wait for Kafka'));
    }
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Still queued: withdraw it, so it is not sent after the client was told it failed.
        // Already sent: it may still land; the agent resends and the raw consumer's
        // watermark drops the copy.
        const i = this.#queue.indexOf(waiting);
        if (i >= 0) {
          this.#queue.splice(i, 1);
          this.#queuedBytes -= bytes;
        }
        reject(new PublishUnavailableError(`Kafka did not acknowledge within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiting: Waiting = {
        messages,
        bytes,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.#queue.push(waiting);
      this.#queuedBytes += bytes;
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#sending || this.#queue.length === 0) return;
    this.#sending = true;
    const batch: Waiting[] = [];
    let bytes = 0;
    while (this.#queue.length > 0 && (batch.length === 0 || bytes + this.#queue[0]!.bytes <= this.#maxSendBytes)) {
      const w = this.#queue.shift()!;
      batch.push(w);
      bytes += w.bytes;
    }
    this.#queuedBytes -= bytes;
    this.#producer
      .send(
        this.#topic,
        batch.flatMap((w) => w.messages),
      )
      .then(
        () => {
          this.lastError = undefined;
          for (const w of batch) w.resolve();
        },
        (err: Error) => {
          this.lastError = err;
          for (const w of batch) w.reject(err);
        },
      )
      .finally(() => {
        this.#sending = false;
        this.#pump();
      });
  }
}
