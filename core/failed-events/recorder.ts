import type { DeadLetterRecord } from '../broker/index.js';
import type { Logger } from '../logger.js';
import type { FailedEventStore } from './store.js';

/**
 * The EventBus `onDeadLetter` hook: a failed_events row (+ timeline entry), a metric and an error log
 * for every message a consumer gives up on. If recording fails the message is not acknowledged, so
 * it is dead-lettered and recorded again later: failures are never silent.
 */
export function deadLetterRecorder(deps: {
  store: FailedEventStore;
  logger: Logger;
  onRecorded?: (record: DeadLetterRecord, eventType: string | null) => void;
}): (record: DeadLetterRecord) => Promise<void> {
  return async (record) => {
    const { id, created, transactionId } = await deps.store.record(record);
    if (!created) return;
    const eventType = record.message.headers['event-type'] ?? null;
    deps.onRecorded?.(record, eventType);
    deps.logger.error('event processing failed; message dead-lettered', {
      failedEventId: id,
      consumerGroup: record.consumerGroup,
      topic: record.originalTopic,
      deadLetterTopic: record.deadLetterTopic,
      eventType,
      eventId: record.message.headers['event-id'],
      transactionId,
      errorClass: record.errorClass,
      error: record.errorMessage,
      attempts: record.attempts,
    });
  };
}
