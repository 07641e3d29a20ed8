import type { Knex } from 'knex';
import { encodeEvent, latestSchema, type PlatformEvent } from '../../schemas/index.js';
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
  if (events.length === 0) return;
  const topic = options.topic ?? BUSINESS_EVENTS_TOPIC;
  await trx('outbox').insert(
    events.map((event) => {
      const key = event.envelope.transactionId;
      return {
        topic,
        key,
        bucket: partitionFor(key, OUTBOX_BUCKETS),
        event_id: event.envelope.eventId,
        event_type: event.envelope.type,
        payload: encodeEvent(event),
        headers: JSON.stringify({
          [EVENT_HEADERS.eventId]: event.envelope.eventId,
          [EVENT_HEADERS.eventType]: event.envelope.type,
          [EVENT_HEADERS.schemaVersion]: String(latestSchema(event.envelope.type).version),
          [EVENT_HEADERS.contentType]: EVENT_CONTENT_TYPE,
        }),
      };
    }),
  );
  await trx.raw('select pg_notify(?, ?)', [OUTBOX_CHANNEL, '']);
}
