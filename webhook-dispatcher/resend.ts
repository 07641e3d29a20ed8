/**
 * Manual resend (back office): one more attempt of an existing webhook, to the URL stored with it when
 * it was requested (not the merchant's current default), with the same `webhook-id` and body. The
 * request only reserves an attempt number and queues the attempt message through the outbox in one
 * transaction; the dispatcher makes the attempt asynchronously and records it (trigger manual_resend,
 * the actor in its internal timeline details) like any other.
 *
 * One resend at a time per webhook: a request while an earlier resend has not been attempted yet (a
 * double click, two support agents) answers that pending resend and queues nothing. A resend still not
 * attempted after RESEND_PENDING_WINDOW_MS is presumed lost (e.g. its message dead-lettered), and the
 * next request queues a new one.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { PlatformError } from '../core/errors.js';
import { enqueueMessages } from '../core/outbox/index.js';
import { attemptMessage, WEBHOOK_ATTEMPTS_TOPIC } from './attempt-messages.js';

export class WebhookNotFoundError extends PlatformError {
  constructor(webhookId: string) {
    super('WEBHOOK_NOT_FOUND', `webhook ${webhookId} does not exist`, { retryable: false });
  }
}

export class WebhookNotResendableError extends PlatformError {
  constructor(webhookId: string) {
    super('WEBHOOK_NOT_RESENDABLE', `webhook ${webhookId} has no URL to send to`, { retryable: false });
  }
}

/** How long a queued resend blocks another one for the same webhook (see the file comment). */
export const RESEND_PENDING_WINDOW_MS = 10 * 60_000;

export interface ResendRequest {
  webhookId: string;
  /** Who asked (back-office user id); stored with the attempt. */
  actor: string;
}

export type ResendQueued =
  /** A new attempt was queued. */
  | { webhookId: string; attemptNumber: number; alreadyQueued: false; correlationId: string }
  /** An earlier resend of this webhook is still waiting for its attempt: that one answers. */
  | { webhookId: string; attemptNumber: number; alreadyQueued: true };

export async function requestResend(
  knex: Knex,
  request: ResendRequest,
  options: { topic?: string } = {},
): Promise<ResendQueued> {
  return knex.transaction(async (trx) => {
    const delivery = await trx('webhook_deliveries')
      .where({ id: request.webhookId })
      .forUpdate()
      .first(
        'id',
        'transaction_id',
        'url',
        'last_attempt_number',
        'resend_pending_number',
        trx.raw(
          `resend_pending_number is not null and resend_requested_at > now() - ? * interval '1 millisecond' as resend_pending`,
          [RESEND_PENDING_WINDOW_MS],
        ),
      );
    if (!delivery) throw new WebhookNotFoundError(request.webhookId);
    if (delivery.url === null) throw new WebhookNotResendableError(request.webhookId);
    if (delivery.resend_pending) {
      return {
        webhookId: delivery.id,
        attemptNumber: Number(delivery.resend_pending_number),
        alreadyQueued: true,
      };
    }
    const attemptNumber = Number(delivery.last_attempt_number) + 1;
    await trx('webhook_deliveries').where({ id: delivery.id }).update({
      last_attempt_number: attemptNumber,
      resend_pending_number: attemptNumber,
      resend_requested_at: trx.fn.now(),
      updated_at: trx.fn.now(),
    });
    const correlationId = randomUUID();
    const message = attemptMessage(delivery.transaction_id, {
      deliveryId: delivery.id,
      attemptNumber,
      trigger: 'manual_resend',
      requestedBy: request.actor,
      correlationId,
      causationId: null,
      deferrals: 0,
    });
    await enqueueMessages(trx, options.topic ?? WEBHOOK_ATTEMPTS_TOPIC, [
      {
        key: message.key,
        id: randomUUID(),
        type: 'WebhookResendRequested',
        value: message.value,
        headers: message.headers ?? {},
      },
    ]);
    return { webhookId: delivery.id, attemptNumber, alreadyQueued: false, correlationId };
  });
}
