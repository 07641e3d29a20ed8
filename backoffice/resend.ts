/**
 * A back-office webhook resend: checks the webhook belongs to the (already visible) transaction, asks
 * the dispatcher for one more attempt (webhook-dispatcher `requestResend`: same webhook-id and body, to
 * the URL stored with the delivery — never the merchant's current default) and writes the audit row, in
 * ONE database transaction: a resend is never queued without its audit row. The attempt itself happens
 * asynchronously; the dispatcher records it (trigger manual_resend) on the timeline like any other.
 */
import type { Knex } from 'knex';
import {
  requestResend,
  WebhookNotFoundError,
  WebhookNotResendableError,
} from '../webhook-dispatcher/resend.js';
import { recordAudit, type AuditActor, type AuditEntry } from './audit.js';
import type { TransactionRecord } from './transaction-store.js';
import { deliveryOfTransaction } from './webhook-records.js';

export type ResendOutcome =
  /** `alreadyQueued`: an earlier resend of this webhook is still waiting for its attempt; nothing new was queued. */
  | { kind: 'queued'; webhookId: string; attemptNumber: number; alreadyQueued: boolean }
  | { kind: 'not_found' }
  | { kind: 'not_resendable' };

export async function resendWebhook(
  knex: Knex,
  actor: AuditActor,
  transaction: TransactionRecord,
  webhookId: string,
  options: { topic?: string } = {},
): Promise<ResendOutcome> {
  const entry = (outcome: AuditEntry['outcome'], detail: Record<string, unknown> = {}): AuditEntry => ({
    action: 'webhook.resend',
    target: { type: 'webhook', id: webhookId },
    transactionId: transaction.transactionId,
    merchantId: transaction.merchantId,
    outcome,
    detail,
  });
  const outcome = await knex.transaction(async (trx): Promise<ResendOutcome> => {
    const delivery = await deliveryOfTransaction(trx, transaction.transactionId, webhookId);
    if (!delivery) return { kind: 'not_found' };
    if (delivery.url === null) return { kind: 'not_resendable' };
    try {
      const queued = await requestResend(trx, { webhookId, actor: actor.principal.userId }, options);
      await recordAudit(
        trx,
        actor,
        entry(
          'succeeded',
          queued.alreadyQueued
            ? { attemptNumber: queued.attemptNumber, alreadyQueued: true }
            : { attemptNumber: queued.attemptNumber, correlationId: queued.correlationId },
        ),
      );
      return {
        kind: 'queued',
        webhookId,
        attemptNumber: queued.attemptNumber,
        alreadyQueued: queued.alreadyQueued,
      };
    } catch (error) {
      if (error instanceof WebhookNotFoundError) return { kind: 'not_found' };
      if (error instanceof WebhookNotResendableError) return { kind: 'not_resendable' };
      throw error;
    }
  });
  if (outcome.kind === 'not_found') await recordAudit(knex, actor, entry('not_found'));
  if (outcome.kind === 'not_resendable')
    await recordAudit(knex, actor, entry('rejected', { reason: 'no_url' }));
  return outcome;
}
