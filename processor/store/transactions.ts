/** The orchestrator's reads and writes of transactions and their payment sessions. */
import type { Knex } from 'knex';
import type { RowUpdate } from '../../core/db/insert-all.js';
import type { TransactionStatus } from '../../core/transactions/status.js';
import type { SessionUpdate, TransactionSnapshot } from '../decisions/attempt-outcome.js';

export interface TransactionRow extends TransactionSnapshot {
  id: string;
  merchantId: string;
  paymentMethod: string;
  country: string | null;
  customer: Record<string, string>;
  sessionId: string;
  /**
   * The last sequence number of the transaction's facts. Only trustworthy on a row read under the lock
   * (lockTransaction): then nobody else can allocate numbers before this DB transaction ends, so the
   * next facts are numbered from here without asking the database again (see handlers/record.ts).
   */
  lastSequence: number;
}

/** Reads the transaction under a row lock: every writer of one transaction serialises here. */
export async function lockTransaction(trx: Knex.Transaction, id: string): Promise<TransactionRow | null> {
  const row = await trx('transactions as t')
    .leftJoin('payment_sessions as s', 's.transaction_id', 't.id')
    .where('t.id', id)
    .forUpdate('t')
    .first('t.*', 's.id as session_id');
  return row ? toTransactionRow(row) : null;
}

export async function readTransaction(knex: Knex, id: string): Promise<TransactionRow | null> {
  const row = await knex('transactions as t')
    .leftJoin('payment_sessions as s', 's.transaction_id', 't.id')
    .where('t.id', id)
    .first('t.*', 's.id as session_id');
  return row ? toTransactionRow(row) : null;
}

/** The transactions columns of a status change (written with the change's facts, see record.ts). */
export function statusColumns(
  trx: Knex.Transaction,
  status: TransactionStatus,
  reason: string | null,
): Record<string, unknown> {
  return { status, status_reason: reason, updated_at: trx.fn.now() };
}

/** The update of the transaction's payment session (written with the decision's facts, see record.ts). */
export function sessionUpdate(
  trx: Knex.Transaction,
  transactionId: string,
  update: SessionUpdate,
): RowUpdate {
  return {
    table: 'payment_sessions',
    set: {
      state: update.state,
      redirect_url: update.state === 'redirect_ready' ? update.redirectUrl : null,
      required_fields:
        update.state === 'customer_data_required' ? JSON.stringify(update.requiredFields) : null,
      updated_at: trx.fn.now(),
    },
    where: { transaction_id: transactionId },
  };
}

export function toTransactionRow(row: Record<string, unknown>): TransactionRow {
  return {
    id: row.id as string,
    merchantId: row.merchant_id as string,
    status: row.status as TransactionStatus,
    amountMinor: Number(row.amount_minor),
    currency: row.currency as string,
    paymentMethod: row.payment_method as string,
    country: (row.customer_country as string | null) ?? null,
    customer: (row.customer_data as Record<string, string> | null) ?? {},
    sessionId: row.session_id as string,
    lastSequence: Number(row.last_sequence),
  };
}
