/**
 * A transaction's merchant webhooks as the dispatcher stored them (migration 0006): each delivery with
 * every attempt, automatic or manual. Read-only; the views decide what a caller may see of them.
 */
import type { Knex } from 'knex';

export interface WebhookAttemptRecord {
  attemptNumber: number;
  trigger: string;
  /** Back-office user id that asked for a manual resend, and that user's email (when known). */
  requestedBy: string | null;
  requestedByEmail: string | null;
  url: string;
  requestHeaders: Record<string, string>;
  responseStatus: number | null;
  responseHeaders: Record<string, string>;
  responseBodyExcerpt: string | null;
  errorClass: string | null;
  errorMessage: string | null;
  durationMs: number;
  startedAt: Date;
  finishedAt: Date;
}

export interface WebhookDeliveryRecord {
  webhookId: string;
  transactionId: string;
  webhookType: string;
  url: string | null;
  state: string;
  attemptCount: number;
  requestedAt: Date;
  nextAttemptAt: Date | null;
  deliveredAt: Date | null;
  attempts: WebhookAttemptRecord[];
}

const date = (value: unknown): Date => new Date(value as string | Date);
const optionalDate = (value: unknown): Date | null => (value == null ? null : date(value));
const stringMap = (value: unknown): Record<string, string> =>
  value && typeof value === 'object' && !Array.isArray(value)
    ? Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'))
    : {};

export async function loadWebhookDeliveries(
  knex: Knex,
  transactionId: string,
): Promise<WebhookDeliveryRecord[]> {
  const deliveries = await knex('webhook_deliveries')
    .where({ transaction_id: transactionId })
    .orderBy([{ column: 'requested_at' }, { column: 'id' }])
    .select();
  if (deliveries.length === 0) return [];
  const attempts = await knex('webhook_attempts as a')
    .leftJoin('backoffice_users as u', 'u.id', 'a.requested_by')
    .whereIn(
      'a.delivery_id',
      deliveries.map((d) => d.id),
    )
    .orderBy([{ column: 'a.delivery_id' }, { column: 'a.attempt_number' }])
    .select('a.*', 'u.email as requested_by_email');
  return deliveries.map((row) => ({
    webhookId: row.id,
    transactionId: row.transaction_id,
    webhookType: row.webhook_type,
    url: row.url ?? null,
    state: row.state,
    attemptCount: Number(row.attempts),
    requestedAt: date(row.requested_at),
    nextAttemptAt: row.state === 'pending' ? optionalDate(row.next_attempt_at) : null,
    deliveredAt: optionalDate(row.delivered_at),
    attempts: attempts
      .filter((a) => a.delivery_id === row.id)
      .map((a) => ({
        attemptNumber: Number(a.attempt_number),
        trigger: a.trigger,
        requestedBy: a.requested_by ?? null,
        requestedByEmail: a.requested_by_email ?? null,
        url: a.url,
        requestHeaders: stringMap(a.request_headers),
        responseStatus: a.response_status == null ? null : Number(a.response_status),
        responseHeaders: stringMap(a.response_headers),
        responseBodyExcerpt: a.response_body_excerpt ?? null,
        errorClass: a.error_class ?? null,
        errorMessage: a.error_message ?? null,
        durationMs: Number(a.duration_ms),
        startedAt: date(a.started_at),
        finishedAt: date(a.finished_at),
      })),
  }));
}

/** The delivery with this id, if it belongs to this transaction. */
export async function deliveryOfTransaction(
  db: Knex | Knex.Transaction,
  transactionId: string,
  webhookId: string,
): Promise<{ webhookId: string; url: string | null } | undefined> {
  const row = await db('webhook_deliveries')
    .where({ id: webhookId, transaction_id: transactionId })
    .first('id', 'url');
  return row ? { webhookId: row.id as string, url: (row.url as string | null) ?? null } : undefined;
}
