// Events travel as agent batches (encodeBatch: zstd JSON Lines) keyed by tenant/host, so one
// host's events stay on one partition, in order (DESIGN.md section 2).
import { type Envelope, encodeBatch, hostKey } from '@tracer/events';
import type { OutgoingMessage, Producer } from './types.ts';

/** Keeps a Kafka record well under the broker's default 1 MiB limit even for verbose events. */
export const DEFAULT_EVENTS_PER_MESSAGE = 1000;

/** One message per host and chunk of events, each host's events in their original order. */
export function eventBatchMessages(
  events: readonly Envelope[],
  maxEventsPerMessage = DEFAULT_EVENTS_PER_MESSAGE,
): OutgoingMessage[] {
  const byHost = new Map<string, Envelope[]>();
  for (const event of events) {
    const key = hostKey(event.tenant, event.host);
    const list = byHost.get(key);
    if (list) list.push(event);
    else byHost.set(key, [event]);
  }
  const messages: OutgoingMessage[] = [];
  for (const [key, list] of byHost) {
    for (let i = 0; i < list.length; i += maxEventsPerMessage) {
      messages.push({ key, value: encodeBatch(list.slice(i, i + maxEventsPerMessage)) });
    }
  }
  return messages;
}

export async function sendEventBatches(
  producer: Producer,
  topic: string,
  events: readonly Envelope[],
  maxEventsPerMessage = DEFAULT_EVENTS_PER_MESSAGE,
): Promise<number> {
  const messages = eventBatchMessages(events, maxEventsPerMessage);
  await producer.send(topic, messages);
  return messages.length;
}
