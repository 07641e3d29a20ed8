/**
 * The dispatcher's database work: creating a delivery from a MerchantWebhookRequested event, reading
 * what an attempt needs, and recording a finished attempt together with the delivery's new state and
 * the attempt's business facts in ONE transaction (so the timeline, the outbox and the attempt row
 * never disagree). No transaction is ever held while a request to a merchant is in flight.
 */
import type { Knex } from 'knex';
import { NonRetryableError } from '../core/errors.js';
import { appendFacts } from '../core/transactions/journal.js';
import type { EventOf } from '../schemas/index.js';
import { attemptFacts } from './attempt-facts.js';
import { decideOutcome, type OutcomeDecision } from './attempt-plan.js';
import type { AttemptCommand, AttemptResult, Delivery, DeliveryState } from './model.js';
import { buildWebhookPayload } from './payload.js';
import { parseRetryAfter } from './retry-schedule.js';

interface DeliveryRow {
  id: string;
  transaction_id: string;
  merchant_id: string;
  webhook_type: string;
  url: string | null;
  payload: string;
  state: DeliveryState;
  attempts: number;
  last_attempt_number: number;
  next_attempt_number: number | null;
  next_attempt_at: Date | string | null;
  requested_at: Date | string;
}

const toDate = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));

function toDelivery(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    transactionId: row.transaction_id,
    merchantId: row.merchant_id,
    webhookType: row.webhook_type,
    url: row.url,
    payload: row.payload,
    state: row.state,
    attempts: Number(row.attempts),
    lastAttemptNumber: Number(row.last_attempt_number),
    nextAttemptNumber: row.next_attempt_number === null ? null : Number(row.next_attempt_number),
    nextAttemptAt: row.next_attempt_at === null ? null : toDate(row.next_attempt_at),
    requestedAt: toDate(row.requested_at),
  };
}

/**
 * Creates the delivery of a requested webhook, with the transaction's webhook URL and the body as they
 * are now; attempt 1 is scheduled for now. Returns the delivery (the existing one if the webhook id
 * was already used: a webhook id names one delivery for good).
 */
export async function createDelivery(
  trx: Knex.Transaction,
  event: EventOf<'MerchantWebhookRequested'>,
  now: Date,
): Promise<{ delivery: Delivery; created: boolean }> {
  const { envelope, payload } = event;
  const transaction = await trx('transactions as t')
    .join('merchants as m', 'm.id', 't.merchant_id')
    .where('t.id', envelope.transactionId)
    .first(
      't.id',
      't.merchant_id',
      't.merchant_transaction_id',
      't.amount_minor',
      't.currency',
      trx.raw('coalesce(t.webhook_url, m.default_webhook_url) as url'),
    );
  if (!transaction) {
    throw new NonRetryableError(
      `webhook ${payload.webhookId} requested for unknown transaction ${envelope.transactionId}`,
      { code: 'WEBHOOK_UNKNOWN_TRANSACTION' },
    );
  }
  if (transaction.merchant_id !== envelope.merchantId) {
    throw new NonRetryableError(`webhook ${payload.webhookId}: merchant does not own the transaction`, {
      code: 'WEBHOOK_MERCHANT_MISMATCH',
    });
  }
  const body = buildWebhookPayload({
    webhookId: payload.webhookId,
    webhookType: payload.webhookType,
    status: payload.status,
    sequence: envelope.sequence,
    occurredAt: envelope.occurredAt,
    transaction: {
      id: transaction.id,
      merchantTransactionId: transaction.merchant_transaction_id,
      amountMinor: Number(transaction.amount_minor),
      currency: transaction.currency,
    },
  });
  const url: string | null = transaction.url ?? null;
  const inserted: DeliveryRow[] = await trx('webhook_deliveries')
    .insert({
      id: payload.webhookId,
      transaction_id: envelope.transactionId,
      merchant_id: envelope.merchantId,
      webhook_type: payload.webhookType,
      url,
      payload: JSON.stringify(body),
      sequence: envelope.sequence,
      source_event_id: envelope.eventId,
      correlation_id: envelope.correlationId,
      requested_at: envelope.occurredAt,
      state: url === null ? 'skipped' : 'pending',
      last_attempt_number: url === null ? 0 : 1,
      next_attempt_number: url === null ? null : 1,
      next_attempt_at: url === null ? null : now,
    })
    .onConflict('id')
    .ignore()
    .returning('*');
  if (inserted[0]) return { delivery: toDelivery(inserted[0]), created: true };
  const existing = await trx<DeliveryRow>('webhook_deliveries').where({ id: payload.webhookId }).first();
  return { delivery: toDelivery(existing!), created: false };
}

export async function loadDelivery(knex: Knex, id: string): Promise<Delivery | undefined> {
  const row = await knex<DeliveryRow>('webhook_deliveries').where({ id }).first();
  return row ? toDelivery(row) : undefined;
}

/** The recorded attempt with this number, if any (what makes a redelivered attempt message a no-op). */
export async function recordedAttempt(
  knex: Knex,
  deliveryId: string,
  attemptNumber: number,
): Promise<{ nextAttemptNumber: number | null } | undefined> {
  const row = await knex('webhook_attempts')
    .where({ delivery_id: deliveryId, attempt_number: attemptNumber })
    .first('next_attempt_number');
  if (!row) return undefined;
  return { nextAttemptNumber: row.next_attempt_number === null ? null : Number(row.next_attempt_number) };
}

/** Secrets the merchant's endpoint may verify with: not expired (several while a rotation is under way). */
export async function activeSecrets(knex: Knex, merchantId: string): Promise<string[]> {
  const rows: Array<{ secret: string }> = await knex('merchant_webhook_secrets')
    .where({ merchant_id: merchantId })
    .andWhere((q) => q.whereNull('expires_at').orWhere('expires_at', '>', knex.fn.now()))
    .orderBy('id')
    .select('secret');
  return rows.map((row) => row.secret);
}

export interface RecordPolicy {
  schedule: readonly number[];
  maxRetryAfterMs: number;
  random?: () => number;
}

export type RecordOutcome =
  | { recorded: false }
  | { recorded: true; delivery: Delivery; decision: OutcomeDecision; totalAttempts: number };

/**
 * Records a finished attempt: the attempt row, the delivery's new state and next retry, and the facts
 * (Delivered, or Failed + RetryScheduled / RetryExhausted) — all or nothing. If another process already
 * recorded the same attempt number, records nothing.
 */
export async function recordAttempt(
  knex: Knex,
  input: { command: AttemptCommand; url: string; result: AttemptResult; now: Date; policy: RecordPolicy },
): Promise<RecordOutcome> {
  const { command, result, now, policy } = input;
  return knex.transaction(async (trx) => {
    const row = await trx<DeliveryRow>('webhook_deliveries')
      .where({ id: command.deliveryId })
      .forUpdate()
      .first();
    if (!row) throw new Error(`webhook delivery ${command.deliveryId} disappeared`);
    const delivery = toDelivery(row);
    const already = await trx('webhook_attempts')
      .where({ delivery_id: delivery.id, attempt_number: command.attemptNumber })
      .first('id');
    if (already) return { recorded: false } as const;
    const counted = await trx('webhook_attempts')
      .where({ delivery_id: delivery.id, trigger: 'automatic' })
      .count({ count: '*' })
      .first();
    const automaticAttempts = Number(counted?.count ?? 0) + (command.trigger === 'automatic' ? 1 : 0);
    const decision = decideOutcome({
      delivery,
      command,
      delivered: result.delivered,
      automaticAttempts,
      schedule: policy.schedule,
      retryAfterMs: result.delivered
        ? undefined
        : parseRetryAfter(result.responseHeaders['retry-after'], now),
      maxRetryAfterMs: policy.maxRetryAfterMs,
      ...(policy.random ? { random: policy.random } : {}),
      now,
    });
    await trx('webhook_attempts').insert({
      delivery_id: delivery.id,
      attempt_number: command.attemptNumber,
      trigger: command.trigger,
      requested_by: command.requestedBy,
      url: input.url,
      request_headers: JSON.stringify(result.requestHeaders),
      response_status: result.status,
      response_headers: JSON.stringify(result.responseHeaders),
      response_body_excerpt: result.bodyExcerpt,
      error_class: result.errorClass,
      error_message: result.errorMessage,
      duration_ms: result.durationMs,
      next_attempt_number: decision.nextAttempt ? decision.nextAttempt.number : null,
      started_at: result.startedAt,
      finished_at: result.finishedAt,
    });
    const totalAttempts = delivery.attempts + 1;
    const schedule =
      decision.nextAttempt === undefined
        ? {}
        : {
            next_attempt_number: decision.nextAttempt?.number ?? null,
            next_attempt_at: decision.nextAttempt?.at ?? null,
            last_attempt_number: Math.max(delivery.lastAttemptNumber, decision.nextAttempt?.number ?? 0),
          };
    await trx('webhook_deliveries')
      .where({ id: delivery.id })
      .update({
        state: decision.state,
        attempts: totalAttempts,
        last_attempt_at: result.finishedAt,
        ...(decision.newlyDelivered ? { delivered_at: result.finishedAt } : {}),
        ...schedule,
        updated_at: trx.fn.now(),
      });
    await appendFacts(
      trx,
      { transactionId: delivery.transactionId, merchantId: delivery.merchantId },
      attemptFacts({ webhookId: delivery.id, url: input.url, command, result, decision, totalAttempts }),
      command.causationId
        ? { cause: { eventId: command.causationId, correlationId: command.correlationId } }
        : { correlationId: command.correlationId },
    );
    return { recorded: true, delivery, decision, totalAttempts } as const;
  });
}
