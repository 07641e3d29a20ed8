import { storableText } from '../storable-text.js';
import type { DeadLetterRecord, DeliveredMessage, Headers } from './types.js';

/**
 * Dead-letter metadata travels as headers next to the untouched original key, value and headers, so a
 * replay can publish the original bytes back. Values are truncated to fit Pub/Sub attribute limits.
 */
export const DLQ_HEADER_PREFIX = 'x-dlq-';
const MAX_HEADER_VALUE = 1000;

/**
 * Set on a message replayed from a dead-letter topic to its original topic: only this consumer group
 * handles it, every other group on the topic skips it.
 */
export const REPLAY_GROUP_HEADER = 'x-replay-for-group';

/** Consumer group that keeps every dead-letter topic readable (a Pub/Sub topic without a subscription drops messages). */
export const DLQ_ARCHIVE_GROUP = 'ops-dlq-archive';

export function deadLetterHeaders(record: DeadLetterRecord): Headers {
  const original = record.message;
  const meta: Record<string, string | null> = {
    'error-class': record.errorClass,
    'error-code': record.errorCode,
    'error-message': record.errorMessage,
    'error-stack': record.errorStack,
    attempts: String(record.attempts),
    'consumer-group': record.consumerGroup,
    'original-topic': record.originalTopic,
    'original-partition': original.partition === null ? null : String(original.partition),
    'original-offset': original.offset,
    'original-message-id': original.messageId,
    'original-published-at': original.publishedAt.toISOString(),
    'first-failure-at': record.firstFailureAt.toISOString(),
    'last-failure-at': record.lastFailureAt.toISOString(),
  };
  const headers: Headers = {};
  for (const [name, value] of Object.entries(original.headers)) {
    if (!name.startsWith(DLQ_HEADER_PREFIX)) headers[name] = value;
  }
  for (const [name, value] of Object.entries(meta)) {
    // Storable: the embedded log keeps headers as jsonb, and an error message may quote the poison itself.
    if (value !== null) headers[DLQ_HEADER_PREFIX + name] = storableText(truncate(value, MAX_HEADER_VALUE));
  }
  return headers;
}

/** Dead-letter metadata read back from a message on a dead-letter topic. */
export interface DeadLetterMetadata {
  errorClass: string;
  errorCode: string | null;
  errorMessage: string;
  errorStack: string | null;
  attempts: number;
  consumerGroup: string;
  originalTopic: string;
  originalPartition: number | null;
  originalOffset: string | null;
  originalMessageId: string;
  originalPublishedAt: Date;
  firstFailureAt: Date;
  lastFailureAt: Date;
  /** The original headers, without dead-letter metadata. */
  originalHeaders: Headers;
}

/** Parses what `deadLetterHeaders` wrote; throws if the message is not a dead letter. */
export function readDeadLetter(message: Pick<DeliveredMessage, 'headers'>): DeadLetterMetadata {
  const h = message.headers;
  const get = (name: string): string | null => h[DLQ_HEADER_PREFIX + name] ?? null;
  const required = (name: string): string => {
    const value = get(name);
    if (value === null)
      throw new Error(`not a dead-letter message: header ${DLQ_HEADER_PREFIX}${name} missing`);
    return value;
  };
  const originalHeaders: Headers = {};
  for (const [name, value] of Object.entries(h)) {
    if (!name.startsWith(DLQ_HEADER_PREFIX)) originalHeaders[name] = value;
  }
  const partition = get('original-partition');
  return {
    errorClass: required('error-class'),
    errorCode: get('error-code'),
    errorMessage: required('error-message'),
    errorStack: get('error-stack'),
    attempts: Number(required('attempts')),
    consumerGroup: required('consumer-group'),
    originalTopic: required('original-topic'),
    originalPartition: partition === null ? null : Number(partition),
    originalOffset: get('original-offset'),
    originalMessageId: required('original-message-id'),
    originalPublishedAt: new Date(required('original-published-at')),
    firstFailureAt: new Date(required('first-failure-at')),
    lastFailureAt: new Date(required('last-failure-at')),
    originalHeaders,
  };
}

function truncate(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}
