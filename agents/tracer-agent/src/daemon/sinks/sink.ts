// Where the agent's batches go: Kafka directly (self-hosted) or the ingest gateway (SaaS).
// A sink answers each send with what the shipper should do next; it never drops data itself.

export type SendOutcome =
  /** Acknowledged: Kafka (acks=all) or the gateway (202, which it answers only after Kafka). */
  | { kind: 'sent' }
  /** Refused for good (the batch is invalid): count it as lost, never send it again. */
  | { kind: 'rejected'; reason: string }
  /** Too big for the sink: send it again in smaller pieces. */
  | { kind: 'too-large'; reason: string }
  /** Unreachable, overloaded or refusing for now: keep it spooled and try again later. */
  | { kind: 'retry'; reason: string; afterMs?: number };

export interface Sink {
  readonly name: string;
  /** Records one send may carry (the gateway takes one batch per request). */
  readonly maxRecordsPerSend: number;
  /** Bytes one send may carry, when it carries more than one record. */
  readonly maxBytesPerSend: number;
  /** Sends encoded agent batches (encodeBatch), in order, all under the agent's key. */
  send(batches: Buffer[]): Promise<SendOutcome>;
  close(): Promise<void>;
}
