import { randomBytes } from 'node:crypto';
import type { Broker, DeliveredMessage } from '../core/broker/index.js';
import { decodeEvent, type EventType } from '../schemas/index.js';

export interface TailOptions {
  topic: string;
  types: EventType[];
  transactionId?: string;
  fromBeginning: boolean;
  limit?: number;
  signal: AbortSignal;
}

/** One decoded event as a JSON line, with where it came from on the broker. */
export function formatEventLine(message: DeliveredMessage): string {
  const event = decodeEvent(message.value);
  return JSON.stringify({
    ...event,
    broker: {
      topic: message.topic,
      key: message.key,
      messageId: message.messageId,
      publishedAt: message.publishedAt,
    },
  });
}

/**
 * Prints decoded events of the business stream as JSON lines until `limit` or the signal. Uses a
 * throw-away consumer group, so it never takes messages away from the platform's own consumers.
 */
export async function tailEvents(
  broker: Broker,
  options: TailOptions,
  write: (line: string) => void,
): Promise<number> {
  const startedAt = Date.now();
  const group = `ops-tail-${randomBytes(4).toString('hex')}`;
  let printed = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  options.signal.addEventListener('abort', () => finish(), { once: true });
  const subscription = await broker.subscribe(
    {
      topic: options.topic,
      group,
      concurrency: 1,
      runDelayScheduler: false,
      retry: { maxAttempts: 1, backoff: { initialMs: 0, multiplier: 1, maxMs: 0, jitter: 'none' } },
    },
    async (message) => {
      if (options.limit !== undefined && printed >= options.limit) return;
      if (!options.fromBeginning && message.publishedAt.getTime() < startedAt) return;
      if (options.transactionId && message.key !== options.transactionId) return;
      const type = message.headers['event-type'];
      if (options.types.length > 0 && !options.types.includes(type as EventType)) return;
      write(formatEventLine(message));
      printed++;
      if (options.limit !== undefined && printed >= options.limit) finish();
    },
  );
  await finished;
  await subscription.stop(1_000);
  return printed;
}
