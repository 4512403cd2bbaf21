/**
 * Errors after which the broker refuses this producer's sequence numbers for good (it lost or
 * fenced the producer's state, e.g. a broker restarted under it): kafkajs does not retry them,
 * and every later send of the same producer fails alike. OUT_OF_ORDER_SEQUENCE_NUMBER,
 * INVALID_PRODUCER_EPOCH, UNKNOWN_PRODUCER_ID.
 */
const PRODUCER_STATE_LOST = new Set([45, 47, 59]);

export function producerStateLost(err: unknown): boolean {
  return PRODUCER_STATE_LOST.has((err as { code?: number } | null)?.code ?? -1);
}
