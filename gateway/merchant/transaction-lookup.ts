/**
 * Reads one merchant's transactions for the merchant API. Every query is scoped by merchant id, so
 * another merchant's transaction is simply not found (404, never 403: its existence is not revealed).
 */
import type { Knex } from 'knex';
import { isTransactionStatus, type TransactionStatus } from '../../core/transactions/index.js';

export interface MerchantTransaction {
  transactionId: string;
  merchantTransactionId: string;
  status: TransactionStatus;
  amountMinor: number;
  currency: string;
  paymentMethod: string;
  createdAt: Date;
  updatedAt: Date;
}

export async function findMerchantTransaction(
  knex: Knex,
  merchantId: string,
  by: { transactionId: string } | { merchantTransactionId: string },
): Promise<MerchantTransaction | undefined> {
  const row = (await knex('transactions')
    .where({ merchant_id: merchantId })
    .andWhere(
      'transactionId' in by
        ? { id: by.transactionId }
        : { merchant_transaction_id: by.merchantTransactionId },
    )
    .first(
      'id',
      'merchant_transaction_id',
      'status',
      'amount_minor',
      'currency',
      'payment_method',
      'created_at',
      'updated_at',
    )) as
    | {
        id: string;
        merchant_transaction_id: string;
        status: string;
        amount_minor: string | number;
        currency: string;
        payment_method: string;
        created_at: Date | string;
        updated_at: Date | string;
      }
    | undefined;
  if (!row) return undefined;
  if (!isTransactionStatus(row.status))
    throw new Error(`transaction ${row.id} has unknown status ${row.status}`);
  return {
    transactionId: row.id,
    merchantTransactionId: row.merchant_transaction_id,
    status: row.status,
    amountMinor: Number(row.amount_minor),
    currency: row.currency,
    paymentMethod: row.payment_method,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
  };
}
