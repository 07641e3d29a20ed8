/**
 * The merchant API's response bodies: merchant-safe views only (the coarse merchant status, never
 * internal statuses, provider names or reasons). Shapes match the OpenAPI document. Pure.
 */
import { merchantStatus, type MerchantStatus } from '../../core/transactions/index.js';
import type { StoredDeposit } from './deposits.js';
import type { MerchantTransaction } from './transaction-lookup.js';

export interface DepositAnswer {
  transactionId: string;
  merchantTransactionId: string;
  status: MerchantStatus;
  hostedPaymentUrl: string;
  expiresAt: string;
}

export function depositAnswer(deposit: StoredDeposit, hostedPaymentUrl: string): DepositAnswer {
  return {
    transactionId: deposit.transactionId,
    merchantTransactionId: deposit.merchantTransactionId,
    status: merchantStatus(deposit.status),
    hostedPaymentUrl,
    expiresAt: deposit.expiresAt.toISOString(),
  };
}

export interface TransactionView {
  transactionId: string;
  merchantTransactionId: string;
  status: MerchantStatus;
  amount: { value: number; currency: string };
  paymentMethod: string;
  createdAt: string;
  updatedAt: string;
}

export function transactionView(transaction: MerchantTransaction): TransactionView {
  return {
    transactionId: transaction.transactionId,
    merchantTransactionId: transaction.merchantTransactionId,
    status: merchantStatus(transaction.status),
    amount: { value: transaction.amountMinor, currency: transaction.currency },
    paymentMethod: transaction.paymentMethod,
    createdAt: transaction.createdAt.toISOString(),
    updatedAt: transaction.updatedAt.toISOString(),
  };
}
