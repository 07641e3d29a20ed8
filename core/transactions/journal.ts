import type { Knex } from 'knex';
import {
  buildEvent,
  type EventEnvelope,
  type EventPayloads,
  type EventType,
  type PlatformEvent,
} from '../../schemas/index.js';
import { enqueueEvents } from '../outbox/index.js';

/** One business moment to record: the event, and how it appears on the transaction's timeline. */
export interface Fact<T extends EventType = EventType> {
  type: T;
  payload: EventPayloads[T];
  /**
   * What a merchant user may see of this moment (no provider names, SUB MIDs, internal errors or raw
   * callbacks); null = internal only. Platform users with permission see `internal` (defaults to the payload).
   */
  merchantView: Record<string, unknown> | null;
  internal?: Record<string, unknown>;
  occurredAt?: Date;
}

/** Builds a fact with its payload type checked against its event type. */
export function fact<T extends EventType>(
  type: T,
  payload: EventPayloads[T],
  merchantView: Record<string, unknown> | null,
  options: { internal?: Record<string, unknown>; occurredAt?: Date } = {},
): Fact<T> {
  return { type, payload, merchantView, ...options };
}

export interface TransactionRef {
  transactionId: string;
  merchantId: string;
}

export interface AppendOptions {
  /** The event being handled: new events continue its correlation and name it as their cause. */
  cause?: Pick<EventEnvelope, 'eventId' | 'correlationId'>;
  /** For facts caused by an external request (no cause event): the request's correlation id. */
  correlationId?: string;
}

/**
 * Records facts about one transaction inside the caller's database transaction: allocates the next
 * per-transaction sequence numbers (the row update also serialises concurrent writers of one
 * transaction, so outbox order = sequence order), writes the events to the outbox and the timeline
 * entries. Either all of it commits with the caller's state change, or none of it.
 */
export async function appendFacts(
  trx: Knex.Transaction,
  ref: TransactionRef,
  facts: readonly Fact[],
  options: AppendOptions = {},
): Promise<PlatformEvent[]> {
  if (facts.length === 0) return [];
  const rows = await trx('transactions')
    .where({ id: ref.transactionId })
    .increment('last_sequence', facts.length)
    .returning('last_sequence');
  if (rows.length === 0) throw new Error(`transaction ${ref.transactionId} does not exist`);
  const last = Number(rows[0].last_sequence ?? rows[0]);
  const first = last - facts.length + 1;
  let correlationId = options.cause?.correlationId ?? options.correlationId;
  const events = facts.map((f, index) => {
    const event = buildEvent(
      {
        type: f.type,
        transactionId: ref.transactionId,
        merchantId: ref.merchantId,
        sequence: first + index,
        correlationId,
        causationId: options.cause?.eventId ?? null,
        occurredAt: f.occurredAt,
      },
      f.payload as never,
    ) as PlatformEvent;
    correlationId ??= event.envelope.correlationId;
    return event;
  });
  await enqueueEvents(trx, events);
  await trx('transaction_timeline').insert(
    events.map((event, index) => ({
      transaction_id: ref.transactionId,
      merchant_id: ref.merchantId,
      entry_type: event.envelope.type,
      occurred_at: event.envelope.occurredAt,
      source_event_id: event.envelope.eventId,
      merchant_view: facts[index]!.merchantView === null ? null : JSON.stringify(facts[index]!.merchantView),
      internal: JSON.stringify(facts[index]!.internal ?? timelinePayload(event)),
    })),
  );
  return events;
}

function timelinePayload(event: PlatformEvent): Record<string, unknown> {
  return { sequence: event.envelope.sequence, ...(event.payload as Record<string, unknown>) };
}
