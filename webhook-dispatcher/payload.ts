/**
 * The body merchants receive, built once when the webhook is requested and stored, so every retry and
 * resend carries the same bytes. Merchant-safe: the coarse merchant status, never internal stages,
 * provider names or customer data. `sequence` increases with every event of the transaction: a merchant
 * that already processed a higher sequence for the transaction can ignore an older webhook (retries
 * may arrive after a newer status; see docs/decisions/0016-merchant-webhooks.md).
 */
import { NonRetryableError } from '../core/errors.js';
import { isTransactionStatus, merchantStatus, type MerchantStatus } from '../core/transactions/status.js';

const MERCHANT_STATUSES: readonly MerchantStatus[] = [
  'pending',
  'approved',
  'declined',
  'rejected',
  'expired',
];

export interface WebhookPayload {
  type: string;
  /** The `webhook-id`: stable across retries and resends, for merchant-side deduplication. */
  id: string;
  transactionId: string;
  merchantTransactionId: string;
  status: MerchantStatus;
  /** Integer minor units (cents) and ISO 4217 currency, as in the event stream. */
  amount: { value: number; currency: string };
  sequence: number;
  occurredAt: string;
}

/** The merchant-facing status for a status named in MerchantWebhookRequested (internal or already merchant-safe). */
export function merchantSafeStatus(status: string): MerchantStatus {
  if (isTransactionStatus(status)) return merchantStatus(status);
  if ((MERCHANT_STATUSES as readonly string[]).includes(status)) return status as MerchantStatus;
  throw new NonRetryableError(`webhook requested with unknown status "${status}"`, {
    code: 'WEBHOOK_UNKNOWN_STATUS',
  });
}

export function buildWebhookPayload(input: {
  webhookId: string;
  webhookType: string;
  status: string;
  sequence: number;
  occurredAt: Date;
  transaction: { id: string; merchantTransactionId: string; amountMinor: number; currency: string };
}): WebhookPayload {
  return {
    type: input.webhookType,
    id: input.webhookId,
    transactionId: input.transaction.id,
    merchantTransactionId: input.transaction.merchantTransactionId,
    status: merchantSafeStatus(input.status),
    amount: { value: input.transaction.amountMinor, currency: input.transaction.currency },
    sequence: input.sequence,
    occurredAt: input.occurredAt.toISOString(),
  };
}
