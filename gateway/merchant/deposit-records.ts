/**
 * What durable acceptance writes for one deposit, decided without I/O: the transactions row, the
 * payment_sessions row and the two facts (DepositRequested, PaymentSessionCreated) with their
 * merchant-safe timeline views. deposits.ts writes them in one database transaction. Pure.
 */
import type { AuthenticatedMerchant } from '../../core/merchants/index.js';
import { fact, type Fact } from '../../core/transactions/index.js';
import type { DepositRequest } from './deposit-request.js';

export interface DepositPlanInput {
  merchant: Pick<AuthenticatedMerchant, 'merchantId' | 'defaultWebhookUrl'>;
  request: DepositRequest;
  requestHash: string;
  transactionId: string;
  sessionId: string;
  tokenHash: string;
  now: Date;
  sessionTtlSeconds: number;
}

export interface DepositPlan {
  transactionRow: Record<string, unknown>;
  sessionRow: Record<string, unknown>;
  facts: Fact[];
  expiresAt: Date;
}

export function planDeposit(input: DepositPlanInput): DepositPlan {
  const { request, merchant } = input;
  const expiresAt = new Date(input.now.getTime() + input.sessionTtlSeconds * 1000);
  const customer = request.customer ?? {};
  const transactionRow = {
    id: input.transactionId,
    merchant_id: merchant.merchantId,
    merchant_transaction_id: request.merchantTransactionId,
    request_hash: input.requestHash,
    amount_minor: request.amount.value,
    currency: request.amount.currency,
    payment_method: request.paymentMethod,
    customer_country: customer.country ?? null,
    customer_data: JSON.stringify(customer),
    // The URL in force when the deposit was accepted stays with the transaction (retries, resends).
    webhook_url: request.webhookUrl ?? merchant.defaultWebhookUrl ?? null,
    return_urls: JSON.stringify(request.returnUrls),
    metadata: JSON.stringify(request.metadata ?? {}),
    status: 'CREATED',
  };
  const sessionRow = {
    id: input.sessionId,
    transaction_id: input.transactionId,
    token_hash: input.tokenHash,
    expires_at: expiresAt,
  };
  const facts: Fact[] = [
    fact(
      'DepositRequested',
      {
        merchantTransactionId: request.merchantTransactionId,
        amount: { amountMinor: request.amount.value, currency: request.amount.currency },
        paymentMethod: request.paymentMethod,
        customerCountry: customer.country ?? null,
        // Names only: customer values stay in the database, never on the event stream.
        providedCustomerFields: Object.keys(customer).sort(),
      },
      {
        merchantTransactionId: request.merchantTransactionId,
        amount: { value: request.amount.value, currency: request.amount.currency },
        paymentMethod: request.paymentMethod,
      },
      { occurredAt: input.now },
    ),
    fact(
      'PaymentSessionCreated',
      { sessionId: input.sessionId, expiresAt },
      { expiresAt: expiresAt.toISOString() },
      { occurredAt: input.now },
    ),
  ];
  return { transactionRow, sessionRow, facts, expiresAt };
}
