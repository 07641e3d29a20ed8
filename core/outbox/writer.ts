import type { Knex } from 'knex';
import { encodeEvent, latestSchema, type PlatformEvent } from '../../schemas/index.js';
import { insertAll, type TableRows } from '../db/insert-all.js';
import { partitionFor } from '../partitioning.js';
import { BUSINESS_EVENTS_TOPIC, EVENT_CONTENT_TYPE, EVENT_HEADERS } from '../streams.js';

/** Relays split the outbox into this many buckets by hash(key). Changing it is safe only with an empty outbox. */
export const OUTBOX_BUCKETS = 16;

/** Wake-up channel: NOTIFYed in the writer's transaction, delivered when it commits. */
export const OUTBOX_CHANNEL = 'payments_outbox';

/**
 * Writes events to the outbox inside the caller's transaction, so they are published if and only if
 * the state change they describe commits. Events are encoded here (a bad event fails the transaction,
 * not the relay later). The key is the transaction id: the broker keeps each transaction's events in order.
 */
export async function enqueueEvents(
  trx: Knex.Transaction,
  events: readonly PlatformEvent[],
  options: { topic?: string } = {},
): Promise<void> {
  await enqueueMessages(trx, options.topic ?? BUSINESS_EVENTS_TOPIC, eventMessages(events));
}

/** Business events as outbox messages: encoded here (a bad event fails the write, not the relay later). */
export function eventMessages(events: readonly PlatformEvent[]): OutboxMessage[] {
  return events.map((event) => ({
    key: event.envelope.transactionId,
    id: event.envelope.eventId,
    type: event.envelope.type,
    value: encodeEvent(event),
    headers: {
      [EVENT_HEADERS.eventId]: event.envelope.eventId,
      [EVENT_HEADERS.eventType]: event.envelope.type,
      [EVENT_HEADERS.schemaVersion]: String(latestSchema(event.envelope.type).version),
      [EVENT_HEADERS.contentType]: EVENT_CONTENT_TYPE,
    },
  }));
}

/** A message for a service's own topic (not a business event), relayed like events are. */
export interface OutboxMessage {
  key: string;
  /** Unique id of the message (outbox.event_id). */
  id: string;
  /** What kind of message it is (outbox.event_type), for diagnostics. */
  type: string;
  value: Buffer;
  headers: Record<string, string>;
}

/**
 * Writes raw messages to the outbox inside the caller's transaction (e.g. the webhook dispatcher's
 * resend requests): published to `topic` by the relay if and only if the transaction commits.
 */
export async function enqueueMessages(
  trx: Knex.Transaction,
  topic: string,
  messages: readonly OutboxMessage[],
): Promise<void> {
  if (messages.length === 0) return;
  await insertAll(trx, [outboxRows(topic, messages)], { notify: OUTBOX_CHANNEL });
}

/**
 * The outbox rows for messages, for writers that put them in a larger single statement with their
 * state change (core/db/insert-all.ts); such a writer must also NOTIFY OUTBOX_CHANNEL.
 */
export function outboxRows(topic: string, messages: readonly OutboxMessage[]): TableRows {
  return {
    table: 'outbox',
    rows: messages.map((message) => ({
      topic,
      key: message.key,
      bucket: partitionFor(message.key, OUTBOX_BUCKETS),
      event_id: message.id,
      event_type: message.type,
      payload: message.value,
      headers: JSON.stringify(message.headers),
    })),
  };
}
