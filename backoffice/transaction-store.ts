/**
 * Finding transactions for a back-office caller. Merchant isolation lives here: every query takes the
 * caller's merchant scope and, for a merchant user, is restricted to that merchant in SQL — another
 * merchant's transaction is simply not found (the route answers 404, never 403). Search is keyset
 * paginated on (created_at, id), newest first, so pages stay stable while new deposits arrive.
 */
import type { Knex } from 'knex';
import { isTransactionStatus, type TransactionStatus } from '../core/transactions/status.js';
import type { Cursor, SearchQuery } from './search-query.js';

export interface TransactionRecord {
  transactionId: string;
  merchantId: string;
  merchantTransactionId: string;
  status: TransactionStatus;
  statusReason: string | null;
  amountMinor: number;
  currency: string;
  paymentMethod: string;
  customerCountry: string | null;
  /** The webhook URL stored with the transaction (null: the merchant's default at request time). */
  webhookUrl: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** created_at with microseconds, for the cursor. */
  cursorTime: string;
}

const COLUMNS = [
  'id',
  'merchant_id',
  'merchant_transaction_id',
  'status',
  'status_reason',
  'amount_minor',
  'currency',
  'payment_method',
  'customer_country',
  'webhook_url',
  'created_at',
  'updated_at',
];

/** `merchantScope`: the merchant a merchant user is confined to, null for platform users. */
export async function findVisibleTransaction(
  knex: Knex,
  merchantScope: string | null,
  transactionId: string,
): Promise<TransactionRecord | undefined> {
  const query = knex('transactions').where({ id: transactionId });
  if (merchantScope !== null) query.andWhere({ merchant_id: merchantScope });
  const row = await query.first([...COLUMNS, cursorTime(knex)]);
  return row ? toRecord(row) : undefined;
}

export async function searchTransactions(
  knex: Knex,
  merchantScope: string | null,
  search: SearchQuery,
): Promise<{ records: TransactionRecord[]; next: Cursor | null }> {
  const query = knex('transactions');
  if (merchantScope !== null) query.where({ merchant_id: merchantScope });
  if (search.merchantId !== undefined) query.where({ merchant_id: search.merchantId });
  if (search.transactionId !== undefined) query.where({ id: search.transactionId });
  if (search.merchantTransactionId !== undefined)
    query.where({ merchant_transaction_id: search.merchantTransactionId });
  if (search.statuses !== undefined) query.whereIn('status', search.statuses);
  if (search.createdFrom) query.where('created_at', '>=', search.createdFrom);
  if (search.createdTo) query.where('created_at', '<', search.createdTo);
  if (search.after)
    query.whereRaw('(created_at, id) < (?::timestamptz, ?)', [search.after.createdAt, search.after.id]);
  const rows = await query
    .orderBy([
      { column: 'created_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(search.limit + 1)
    .select([...COLUMNS, cursorTime(knex)]);
  const records = rows.slice(0, search.limit).map(toRecord);
  const last = records.at(-1);
  return {
    records,
    next: rows.length > search.limit && last ? { createdAt: last.cursorTime, id: last.transactionId } : null,
  };
}

function cursorTime(knex: Knex): Knex.Raw {
  return knex.raw(`to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_time`);
}

function toRecord(row: Record<string, unknown>): TransactionRecord {
  const status = row.status;
  if (!isTransactionStatus(status))
    throw new Error(`transaction ${String(row.id)} has unknown status ${String(status)}`);
  return {
    transactionId: row.id as string,
    merchantId: row.merchant_id as string,
    merchantTransactionId: row.merchant_transaction_id as string,
    status,
    statusReason: (row.status_reason as string | null) ?? null,
    amountMinor: Number(row.amount_minor),
    currency: row.currency as string,
    paymentMethod: row.payment_method as string,
    customerCountry: (row.customer_country as string | null) ?? null,
    webhookUrl: (row.webhook_url as string | null) ?? null,
    createdAt: new Date(row.created_at as string | Date),
    updatedAt: new Date(row.updated_at as string | Date),
    cursorTime: row.cursor_time as string,
  };
}
