import type { Knex } from 'knex';
import {
  buildEvent,
  type EventEnvelope,
  type EventPayloads,
  type EventType,
  type PlatformEvent,
} from '../../schemas/index.js';
import { insertAll, type TableRows } from '../db/insert-all.js';
import { eventMessages, OUTBOX_CHANNEL, outboxRows } from '../outbox/index.js';
import { BUSINESS_EVENTS_TOPIC } from '../streams.js';

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
 * transaction, so outbox order = sequence order), then writes the events to the outbox and the timeline
 * entries in one statement. Either all of it commits with the caller's state change, or none of it.
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
  const entries = journalEntries(ref, facts, last - facts.length + 1, options);
  await insertAll(trx, entries.tables, { notify: OUTBOX_CHANNEL });
  return entries.events;
}

/** What recording facts writes: the events and the outbox + timeline rows (see journalEntries). */
export interface JournalEntries {
  events: PlatformEvent[];
  tables: TableRows[];
}

/**
 * The events and rows for facts numbered from `firstSequence`, without I/O. appendFacts uses it after
 * allocating the numbers; the writer of a NEW transaction uses it with 1 (and stores `last_sequence` =
 * facts.length on the row it inserts), so the transaction, its facts and the outbox NOTIFY can be one
 * statement (core/db/insert-all.ts) — that writer must also NOTIFY OUTBOX_CHANNEL. A writer holding the
 * transaction's row lock (SELECT ... FOR UPDATE) may number from the `last_sequence` it read under it and
 * set it in the same statement, guarded by the value read (processor/handlers/record.ts).
 */
export function journalEntries(
  ref: TransactionRef,
  facts: readonly Fact[],
  firstSequence: number,
  options: AppendOptions = {},
): JournalEntries {
  let correlationId = options.cause?.correlationId ?? options.correlationId;
  const events = facts.map((f, index) => {
    const event = buildEvent(
      {
        type: f.type,
        transactionId: ref.transactionId,
        merchantId: ref.merchantId,
        sequence: firstSequence + index,
        correlationId,
        causationId: options.cause?.eventId ?? null,
        occurredAt: f.occurredAt,
      },
      f.payload as never,
    ) as PlatformEvent;
    correlationId ??= event.envelope.correlationId;
    return event;
  });
  const timeline: TableRows = {
    table: 'transaction_timeline',
    rows: events.map((event, index) => ({
      transaction_id: ref.transactionId,
      merchant_id: ref.merchantId,
      entry_type: event.envelope.type,
      occurred_at: event.envelope.occurredAt,
      source_event_id: event.envelope.eventId,
      merchant_view: facts[index]!.merchantView === null ? null : JSON.stringify(facts[index]!.merchantView),
      internal: JSON.stringify(facts[index]!.internal ?? timelinePayload(event)),
    })),
  };
  return { events, tables: [outboxRows(BUSINESS_EVENTS_TOPIC, eventMessages(events)), timeline] };
}

function timelinePayload(event: PlatformEvent): Record<string, unknown> {
  return { sequence: event.envelope.sequence, ...(event.payload as Record<string, unknown>) };
}
