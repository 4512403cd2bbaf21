import { isPermanent } from './permanent-error.ts';
import type { BatchContext, BatchHandler, ConsumedMessage, Reject } from './types.ts';

/**
 * A batch handler from a one-message function: a PermanentError rejects that message only;
 * any other error fails the batch, which is retried whole (handlers are idempotent).
 */
export function perMessage(fn: (message: ConsumedMessage, ctx: BatchContext) => Promise<void>): BatchHandler {
  return async (messages, ctx) => {
    const rejects: Reject[] = [];
    for (const message of messages) {
      try {
        await fn(message, ctx);
      } catch (err) {
        if (!isPermanent(err)) throw err;
        rejects.push({ message, reason: (err as Error).message });
      }
    }
    return { rejects };
  };
}
