/**
 * A status change as facts: `TransactionStatusChanged` always (internal stages too, for the timeline),
 * and a `MerchantWebhookRequested` only when what the merchant sees changes (pending -> an outcome).
 * Refuses transitions the state machine does not allow (terminal statuses never change).
 */
import { randomUUID } from 'node:crypto';
import { fact, type Fact } from '../../core/transactions/journal.js';
import { canTransition, merchantStatus, type TransactionStatus } from '../../core/transactions/status.js';

export const STATUS_WEBHOOK_TYPE = 'transaction.status_changed';

export interface StatusChangeInput {
  from: TransactionStatus;
  to: TransactionStatus;
  reason: string | null;
  amountMinor: number;
  currency: string;
  newWebhookId?: () => string;
}

export class IllegalTransitionError extends Error {
  constructor(from: TransactionStatus, to: TransactionStatus) {
    super(`transaction status cannot change from ${from} to ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

export function statusChangeFacts(input: StatusChangeInput): Fact[] {
  const { from, to } = input;
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
  const before = merchantStatus(from);
  const after = merchantStatus(to);
  const merchantVisible = before !== after;
  const facts: Fact[] = [
    fact(
      'TransactionStatusChanged',
      {
        fromStatus: from,
        toStatus: to,
        reason: input.reason,
        amount: { amountMinor: input.amountMinor, currency: input.currency },
      },
      merchantVisible ? { status: after } : null,
    ),
  ];
  if (merchantVisible) {
    const webhookId = (input.newWebhookId ?? (() => `msg_${randomUUID().replace(/-/g, '')}`))();
    facts.push(
      fact(
        'MerchantWebhookRequested',
        { webhookId, webhookType: STATUS_WEBHOOK_TYPE, status: after },
        { webhookId, status: after },
      ),
    );
  }
  return facts;
}
