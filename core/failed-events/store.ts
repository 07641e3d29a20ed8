import { appendFacts, fact } from '../transactions/journal.js';
import type { Knex } from 'knex';
import type { DeadLetterRecord, Headers } from '../broker/index.js';
import { storableText } from '../storable-text.js';
import { EVENT_HEADERS } from '../streams.js';
import { decodeEvent } from '../../schemas/index.js';

export type FailedEventStatus = 'open' | 'replayed' | 'purged';

export interface FailedEvent {
  id: string;
  consumerGroup: string;
  topic: string;
  deadLetterTopic: string;
  messageId: string;
  messageKey: string;
  eventId: string | null;
  eventType: string | null;
  transactionId: string | null;
  merchantId: string | null;
  errorClass: string;
  errorCode: string | null;
  errorMessage: string;
  errorStack: string | null;
  attempts: number;
  firstFailureAt: Date;
  lastFailureAt: Date;
  payload: Buffer;
  headers: Headers;
  status: FailedEventStatus;
  replayCount: number;
  createdAt: Date;
}

export interface FailedEventFilter {
  ids?: string[];
  consumerGroup?: string;
  topic?: string;
  eventType?: string;
  transactionId?: string;
  since?: Date;
  until?: Date;
  /** Case-insensitive substring of the error message or class. */
  errorText?: string;
  /** Defaults to open only. 'all' for every status. */
  status?: FailedEventStatus | 'all';
  limit?: number;
}

/** What a dead-lettered message says about the business event inside it, when it is one of ours. */
/**
 * The record with every text it carries made storable (see storable-text.ts): error texts may quote the
 * poison message, and keys and headers from another broker client may hold NUL. A replay then
 * publishes the stored key; it differs from the original only in such characters.
 */
function storableRecord(record: DeadLetterRecord): DeadLetterRecord {
  const text = (value: string) => storableText(value);
  return {
    ...record,
    errorClass: text(record.errorClass),
    errorCode: record.errorCode === null ? null : text(record.errorCode),
    errorMessage: text(record.errorMessage),
    errorStack: record.errorStack === null ? null : text(record.errorStack),
    message: {
      ...record.message,
      key: text(record.message.key),
      messageId: text(record.message.messageId),
      headers: Object.fromEntries(
        Object.entries(record.message.headers).map(([name, value]) => [text(name), text(value)]),
      ),
    },
  };
}

function describeMessage(record: DeadLetterRecord): {
  eventId: string | null;
  eventType: string | null;
  transactionId: string | null;
  merchantId: string | null;
} {
  const headers = record.message.headers;
  try {
    const event = decodeEvent(record.message.value);
    return {
      eventId: event.envelope.eventId,
      eventType: event.envelope.type,
      transactionId: event.envelope.transactionId,
      merchantId: event.envelope.merchantId,
    };
  } catch {
    // Not an Avro business event (a raw provider callback, a webhook job...): use the headers.
    return {
      eventId: headers[EVENT_HEADERS.eventId] ?? null,
      eventType: headers[EVENT_HEADERS.eventType] ?? null,
      transactionId: headers['transaction-id'] ?? null,
      merchantId: headers['merchant-id'] ?? null,
    };
  }
}

/** The failed_events table: recording dead letters, querying them, and the replay/purge audit trail. */
export class FailedEventStore {
  constructor(private readonly knex: Knex) {}

  /**
   * Records a dead-lettered message, and when it belongs to a transaction, an internal-only
   * EventProcessingFailed entry on its timeline, in one transaction. Idempotent per message.
   */
  async record(
    original: DeadLetterRecord,
  ): Promise<{ id: string; created: boolean; transactionId: string | null }> {
    // A record that cannot be stored would be dead-lettered again and again: make its text storable.
    const record = storableRecord(original);
    const about = describeMessage(record);
    return this.knex.transaction(async (trx) => {
      const inserted = await trx('failed_events')
        .insert({
          consumer_group: record.consumerGroup,
          topic: record.originalTopic,
          dead_letter_topic: record.deadLetterTopic,
          message_id: record.message.messageId,
          message_key: record.message.key,
          event_id: about.eventId,
          event_type: about.eventType,
          transaction_id: about.transactionId,
          merchant_id: about.merchantId,
          error_class: record.errorClass,
          error_code: record.errorCode,
          error_message: record.errorMessage,
          error_stack: record.errorStack,
          attempts: record.attempts,
          first_failure_at: record.firstFailureAt,
          last_failure_at: record.lastFailureAt,
          payload: record.message.value,
          headers: JSON.stringify(record.message.headers),
        })
        .onConflict(['consumer_group', 'topic', 'message_id'])
        .ignore()
        .returning('id');
      if (inserted.length === 0) {
        const existing = await trx('failed_events')
          .where({
            consumer_group: record.consumerGroup,
            topic: record.originalTopic,
            message_id: record.message.messageId,
          })
          .first('id');
        return { id: String(existing.id), created: false, transactionId: about.transactionId };
      }
      const id = String(inserted[0].id ?? inserted[0]);
      if (about.transactionId) {
        const payload = {
          consumerGroup: record.consumerGroup,
          topic: record.originalTopic,
          failedEventId: about.eventId,
          failedEventType: about.eventType,
          errorClass: record.errorClass,
          errorMessage: record.errorMessage,
          attempts: record.attempts,
          failedEventRecordId: id,
        };
        const owner = await trx('transactions').where({ id: about.transactionId }).first('merchant_id');
        if (owner) {
          // A known transaction: the failure is also an event on its stream (numbered like every other).
          await appendFacts(
            trx,
            { transactionId: about.transactionId, merchantId: owner.merchant_id as string },
            [fact('EventProcessingFailed', payload, null, { occurredAt: record.lastFailureAt })],
          );
        } else {
          // Not (yet) a transaction of ours: the timeline entry alone keeps it visible to support.
          await trx('transaction_timeline').insert({
            transaction_id: about.transactionId,
            merchant_id: about.merchantId,
            entry_type: 'EventProcessingFailed',
            occurred_at: record.lastFailureAt,
            source_event_id: about.eventId,
            merchant_view: null,
            internal: JSON.stringify(payload),
          });
        }
      }
      return { id, created: true, transactionId: about.transactionId };
    });
  }

  async list(filter: FailedEventFilter = {}): Promise<FailedEvent[]> {
    const query = this.knex('failed_events').orderBy('id');
    const status = filter.status ?? 'open';
    if (status !== 'all') query.where({ status });
    if (filter.ids) query.whereIn('id', filter.ids);
    if (filter.consumerGroup) query.where({ consumer_group: filter.consumerGroup });
    if (filter.topic) query.where({ topic: filter.topic });
    if (filter.eventType) query.where({ event_type: filter.eventType });
    if (filter.transactionId) query.where({ transaction_id: filter.transactionId });
    if (filter.since) query.where('last_failure_at', '>=', filter.since);
    if (filter.until) query.where('last_failure_at', '<', filter.until);
    if (filter.errorText) {
      const pattern = `%${filter.errorText.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      query.where((q) => q.whereILike('error_message', pattern).orWhereILike('error_class', pattern));
    }
    if (filter.limit) query.limit(filter.limit);
    return (await query.select()).map(toFailedEvent);
  }

  async get(id: string): Promise<FailedEvent | undefined> {
    if (!/^\d+$/.test(id)) return undefined;
    const row = await this.knex('failed_events').where({ id }).first();
    return row ? toFailedEvent(row) : undefined;
  }

  /** Open records per consumer group: the DLQ depth the metrics and alerts read. */
  async openCounts(): Promise<Array<{ consumerGroup: string; topic: string; count: number }>> {
    const rows = await this.knex('failed_events')
      .where({ status: 'open' })
      .groupBy('consumer_group', 'topic')
      .select('consumer_group', 'topic')
      .count('* as count');
    return rows.map((r) => ({
      consumerGroup: String(r.consumer_group),
      topic: String(r.topic),
      count: Number(r.count),
    }));
  }

  /** Sets the status and writes the audit row, in one transaction. */
  async mark(
    id: string,
    status: 'replayed' | 'purged',
    actor: string,
    detail: Record<string, unknown> = {},
  ): Promise<void> {
    await this.knex.transaction(async (trx) => {
      await trx('failed_events')
        .where({ id })
        .update({
          status,
          updated_at: trx.fn.now(),
          ...(status === 'replayed' ? { replay_count: trx.raw('replay_count + 1') } : {}),
        });
      await trx('failed_event_actions').insert({
        failed_event_id: id,
        action: status === 'replayed' ? 'replay' : 'purge',
        actor,
        detail: JSON.stringify(detail),
      });
    });
  }

  async actions(id: string): Promise<Array<{ action: string; actor: string; at: Date; detail: unknown }>> {
    return this.knex('failed_event_actions')
      .where({ failed_event_id: id })
      .orderBy('id')
      .select('action', 'actor', 'at', 'detail');
  }
}

function toFailedEvent(row: Record<string, unknown>): FailedEvent {
  return {
    id: String(row.id),
    consumerGroup: row.consumer_group as string,
    topic: row.topic as string,
    deadLetterTopic: row.dead_letter_topic as string,
    messageId: row.message_id as string,
    messageKey: row.message_key as string,
    eventId: (row.event_id as string | null) ?? null,
    eventType: (row.event_type as string | null) ?? null,
    transactionId: (row.transaction_id as string | null) ?? null,
    merchantId: (row.merchant_id as string | null) ?? null,
    errorClass: row.error_class as string,
    errorCode: (row.error_code as string | null) ?? null,
    errorMessage: row.error_message as string,
    errorStack: (row.error_stack as string | null) ?? null,
    attempts: Number(row.attempts),
    firstFailureAt: new Date(row.first_failure_at as string),
    lastFailureAt: new Date(row.last_failure_at as string),
    payload: Buffer.from(row.payload as Uint8Array),
    headers: (typeof row.headers === 'string' ? JSON.parse(row.headers) : row.headers) as Headers,
    status: row.status as FailedEventStatus,
    replayCount: Number(row.replay_count),
    createdAt: new Date(row.created_at as string),
  };
}
