import { DLQ_HEADER_PREFIX, REPLAY_GROUP_HEADER, type Broker, type Headers } from '../broker/index.js';
import type { FailedEvent, FailedEventStore } from './store.js';

export interface ReplayOptions {
  actor: string;
  dryRun?: boolean;
  /** Maximum replays per second (0 or undefined: no limit). */
  ratePerSecond?: number;
  /** Replay records that were already replayed (normally skipped). */
  force?: boolean;
  onProgress?: (done: number, total: number, record: FailedEvent, outcome: ReplayOutcome) => void;
}

export type ReplayOutcome = 'replayed' | 'would-replay' | 'skipped-not-open';

/**
 * Publishes each failed event's original message back to its original topic, for its consumer group
 * only (other groups skip it), then marks the record replayed with who and when. Consumers apply each
 * event once (inbox), so replaying twice does not double the effects; records already replayed are
 * skipped unless forced.
 */
export async function replayFailedEvents(
  broker: Broker,
  store: FailedEventStore,
  records: readonly FailedEvent[],
  options: ReplayOptions,
): Promise<Record<ReplayOutcome, number>> {
  const counts: Record<ReplayOutcome, number> = { replayed: 0, 'would-replay': 0, 'skipped-not-open': 0 };
  const interval = options.ratePerSecond ? 1000 / options.ratePerSecond : 0;
  let done = 0;
  for (const record of records) {
    let outcome: ReplayOutcome;
    if (record.status !== 'open' && !(options.force && record.status === 'replayed')) {
      outcome = 'skipped-not-open';
    } else if (options.dryRun) {
      outcome = 'would-replay';
    } else {
      const started = Date.now();
      const headers: Headers = {};
      for (const [name, value] of Object.entries(record.headers)) {
        if (!name.startsWith(DLQ_HEADER_PREFIX) && name !== REPLAY_GROUP_HEADER) headers[name] = value;
      }
      headers[REPLAY_GROUP_HEADER] = record.consumerGroup;
      headers['x-replay-of'] = record.id;
      await broker.publish(record.topic, [{ key: record.messageKey, value: record.payload, headers }]);
      await store.mark(record.id, 'replayed', options.actor, {
        topic: record.topic,
        consumerGroup: record.consumerGroup,
      });
      outcome = 'replayed';
      const wait = interval - (Date.now() - started);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    counts[outcome]++;
    options.onProgress?.(++done, records.length, record, outcome);
  }
  return counts;
}
