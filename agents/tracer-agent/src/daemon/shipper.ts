// Ships the spool to the sink, oldest first, one send at a time: a batch leaves the spool only
// when the sink acknowledged it (or refused it for good, counted). Anything else waits with
// capped, jittered backoff and is tried again, so order holds across outages and restarts.
import { decodeBatch, encodeBatch } from '@tracer/events';
import type { Logger } from '@tracer/log';
import type { Sink } from './sinks/sink.ts';
import type { Spool, SpoolRecord } from './spool.ts';

export interface ShipperState {
  /** 'ok' after a success, 'retrying' while the sink fails. */
  state: 'idle' | 'ok' | 'retrying';
  lastError?: string;
  lastSentAt?: number;
  consecutiveFailures: number;
}

export interface ShipperOptions {
  spool: Spool;
  sink: Sink;
  log: Logger;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class Shipper {
  readonly #spool: Spool;
  readonly #sink: Sink;
  readonly #log: Logger;
  readonly #minBackoffMs: number;
  readonly #maxBackoffMs: number;
  #wake: (() => void) | undefined;
  #wakeOnNotify = false;
  #stopping = false;
  #loop: Promise<void> | undefined;
  readonly status: ShipperState = { state: 'idle', consecutiveFailures: 0 };

  constructor(options: ShipperOptions) {
    this.#spool = options.spool;
    this.#sink = options.sink;
    this.#log = options.log;
    this.#minBackoffMs = options.minBackoffMs ?? 500;
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Something was appended: ship it now rather than at the next poll. */
  notify(): void {
    if (this.#wakeOnNotify) this.#wake?.();
  }

  /** Waits until the spool is empty, the sink fails, or `timeoutMs` passed: a stop's grace. */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    this.#wake?.();
    while (Date.now() < deadline && this.#spool.stats().pendingRecords > 0 && this.status.state !== 'retrying') {
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Finishes the send in flight (its outcome is recorded), then stops. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      const records = this.#spool.peek(this.#sink.maxRecordsPerSend, this.#sink.maxBytesPerSend);
      if (records.length === 0) {
        await this.#sleep(1000, true);
        continue;
      }
      this.#spool.beginSend(records);
      let delayMs: number;
      try {
        delayMs = await this.#ship(records);
      } finally {
        this.#spool.endSend();
      }
      // A backoff is not cut short by new batches: only by stop().
      if (delayMs > 0) await this.#sleep(delayMs, false);
    }
  }

  /** Sends records; returns how long to wait before the next attempt (0: go on). */
  async #ship(records: SpoolRecord[]): Promise<number> {
    const outcome = await this.#sink.send(records.map((r) => r.payload));
    switch (outcome.kind) {
      case 'sent':
        this.#spool.ack(records[records.length - 1]!);
        this.#succeeded();
        return 0;
      case 'rejected':
        // Only one record per send can be judged: refuse it alone if several went together.
        if (records.length > 1) return this.#ship(records.slice(0, 1));
        this.#log.error(
          {
            firstSeq: records[0]!.firstSeq,
            lastSeq: records[0]!.lastSeq,
            events: records[0]!.events,
            reason: outcome.reason,
          },
          'sink refused a batch for good; its events are counted as lost',
        );
        this.#spool.ack(records[0]!, 'rejected');
        this.#succeeded();
        return 0;
      case 'too-large': {
        if (records.length > 1) return this.#ship(records.slice(0, 1));
        const done = await this.#shipInPieces(records[0]!);
        return done ? 0 : this.#failed(outcome.reason);
      }
      case 'retry':
        return this.#failed(outcome.reason, outcome.afterMs);
    }
  }

  /** A batch the sink finds too big goes as halves (recursively); true once all went. */
  async #shipInPieces(record: SpoolRecord): Promise<boolean> {
    const events = decodeBatch(record.payload).flatMap((r) => ('value' in r ? [r.value as object] : []));
    if (events.length <= 1) {
      this.#log.error(
        { firstSeq: record.firstSeq, events: record.events },
        'one event is too large for the sink; counted as lost',
      );
      this.#spool.ack(record, 'rejected');
      return true;
    }
    const pieces = [events.slice(0, events.length >> 1), events.slice(events.length >> 1)];
    for (const piece of pieces) {
      const sent = await this.#sendPiece(encodeBatch(piece));
      if (!sent) return false; // the whole record is resent later; the sent half is a no-op downstream
    }
    this.#spool.ack(record);
    this.#succeeded();
    return true;
  }

  async #sendPiece(batch: Buffer): Promise<boolean> {
    const outcome = await this.#sink.send([batch]);
    if (outcome.kind === 'sent') return true;
    if (outcome.kind === 'too-large') {
      const events = decodeBatch(batch).flatMap((r) => ('value' in r ? [r.value as object] : []));
      if (events.length <= 1) return true; // dropped: counted with the record by the caller's log
      return (
        (await this.#sendPiece(encodeBatch(events.slice(0, events.length >> 1)))) &&
        (await this.#sendPiece(encodeBatch(events.slice(events.length >> 1))))
      );
    }
    return false;
  }

  #succeeded(): void {
    if (this.status.state === 'retrying') {
      this.#log.info(
        { sink: this.#sink.name, failures: this.status.consecutiveFailures },
        'sink reachable again; replaying the spool',
      );
    }
    this.status.state = 'ok';
    this.status.consecutiveFailures = 0;
    this.status.lastSentAt = Date.now();
    delete this.status.lastError;
  }

  #failed(reason: string, afterMs?: number): number {
    if (this.status.state !== 'retrying' || this.status.lastError !== reason) {
      this.#log.warn({ sink: this.#sink.name, reason }, 'sink unavailable; spooling');
    }
    this.status.state = 'retrying';
    this.status.lastError = reason;
    this.status.consecutiveFailures++;
    const exp = Math.min(
      this.#maxBackoffMs,
      this.#minBackoffMs * 2 ** Math.min(this.status.consecutiveFailures - 1, 20),
    );
    const jittered = exp * (0.75 + Math.random() * 0.5);
    return Math.max(afterMs ?? 0, Math.round(jittered));
  }

  #sleep(ms: number, wakeOnNotify: boolean): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    this.#wakeOnNotify = wakeOnNotify;
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      this.#wake = done;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }
}
