/**
 * Provider callbacks as the orchestrator stores them: each notification once (keyed by gateway callback
 * id + index), parked until applied to its attempt, then processed or ignored.
 */
import type { Knex } from 'knex';
import type { RowUpdate } from '../../core/db/insert-all.js';
import type { CallbackFacts } from '../connectors/types.js';
import { toAttempt, type AttemptRow } from './attempts.js';

export interface StoredCallback {
  id: string;
  callbackId: string;
  providerId: string;
  facts: CallbackFacts;
  receivedAt: Date;
}

/** Stores a notification as parked; false when it was stored before (a redelivered message). */
export async function insertCallback(knex: Knex, stored: StoredCallback): Promise<boolean> {
  const { facts } = stored;
  const inserted = await knex('provider_callbacks')
    .insert({
      id: stored.id,
      callback_id: stored.callbackId,
      provider_id: stored.providerId,
      provider_reference: facts.providerReference,
      notification_id: facts.notificationId,
      outcome: facts.outcome,
      provider_status: facts.providerStatus,
      attempt_id: facts.attemptId,
      state: 'parked',
      received_at: stored.receivedAt,
    })
    .onConflict('id')
    .ignore()
    .returning('id');
  return inserted.length > 0;
}

/** A stored notification still waiting to be applied, or null. */
export async function readParkedCallback(trx: Knex.Transaction, id: string): Promise<StoredCallback | null> {
  const row = await trx('provider_callbacks').where({ id }).first();
  return row && row.state === 'parked' ? toStored(row) : null;
}

export interface CallbackContext {
  /** The notification's state now (parked unless someone applied or expired it meanwhile). */
  state: string;
  /** The provider sent this notification id before, and it was processed or ignored. */
  duplicate: boolean;
  /** The transaction's attempts, oldest first. */
  attempts: AttemptRow[];
}

/**
 * What deciding a callback needs, in one statement: its state (row-locked against the sweeper expiring
 * it), whether its notification was seen, and the transaction's attempts. Call it holding the
 * transaction's lock: the statement's snapshot is then taken after every writer of those attempts and
 * of this transaction's callbacks (all hold that lock) finished, so it is current.
 */
export async function lockCallback(
  trx: Knex.Transaction,
  stored: StoredCallback,
  transactionId: string,
): Promise<CallbackContext | null> {
  const { rows } = (await trx.raw(
    `select c.state,
            exists (select 1 from provider_callbacks d
                     where d.provider_id = ? and d.notification_id = ?
                       and d.state in ('processed', 'ignored')) as duplicate,
            (select coalesce(json_agg(a order by a.attempt_number), '[]'::json)
               from payment_attempts a where a.transaction_id = ?) as attempts
       from provider_callbacks c
      where c.id = ?
        for update of c`,
    [stored.providerId, stored.facts.notificationId, transactionId, stored.id],
  )) as { rows: Array<{ state: string; duplicate: boolean; attempts: unknown }> };
  const row = rows[0];
  if (!row) return null;
  const attempts = (typeof row.attempts === 'string' ? JSON.parse(row.attempts) : row.attempts) as Array<
    Record<string, unknown>
  >;
  return { state: row.state, duplicate: row.duplicate === true, attempts: attempts.map(toAttempt) };
}

/** The notification's final state (written with the decision's facts, see handlers/record.ts). */
export function callbackDoneUpdate(
  trx: Knex.Transaction,
  id: string,
  done: { ignoredReason: string | null; transactionId: string; attemptId: string },
): RowUpdate {
  return {
    table: 'provider_callbacks',
    set: {
      state: done.ignoredReason === null ? 'processed' : 'ignored',
      ignored_reason: done.ignoredReason,
      transaction_id: done.transactionId,
      attempt_id: done.attemptId,
      processed_at: trx.fn.now(),
    },
    where: { id },
  };
}

export function toStored(row: Record<string, unknown>): StoredCallback {
  return {
    id: row.id as string,
    callbackId: row.callback_id as string,
    providerId: row.provider_id as string,
    receivedAt: new Date(row.received_at as string),
    facts: {
      providerReference: row.provider_reference as string,
      attemptId: (row.attempt_id as string | null) ?? null,
      notificationId: row.notification_id as string,
      outcome: row.outcome as CallbackFacts['outcome'],
      providerStatus: row.provider_status as string,
      amountMinor: null,
      currency: null,
    },
  };
}
