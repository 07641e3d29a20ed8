/**
 * The dispatcher's reads and the creation of deliveries, each ONE statement for a whole batch of
 * concurrent handlers (see core/batching/batcher.ts; recording attempts is attempt-recorder.ts):
 *
 * - `readRequestContexts`: what a MerchantWebhookRequested needs from its transaction (body fields, the
 *   webhook URL falling back to the merchant default) plus the merchant's active signing secrets.
 * - `insertDeliveries`: the inbox row and the delivery row of each requested webhook, in one atomic
 *   statement (data-modifying CTEs): a redelivered event finds its inbox row and creates nothing.
 * - `readAttemptContexts`: the delivery, whether the asked attempt is already recorded, and the
 *   merchant's active secrets.
 *
 * Rows travel as one JSON parameter (`json_to_recordset`), which PostgreSQL and PGlite read the same
 * way. No transaction is ever held while a request to a merchant is in flight.
 */
import type { Knex } from 'knex';
import { NonRetryableError } from '../core/errors.js';
import type { EventOf } from '../schemas/index.js';
import type { Delivery, DeliveryState } from './model.js';
import { buildWebhookPayload } from './payload.js';

type Db = Knex | Knex.Transaction;

export interface DeliveryRow {
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

export function toDelivery(row: DeliveryRow): Delivery {
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

/** Secrets the merchant's endpoint may verify with: not expired (several while a rotation is under way). */
const ACTIVE_SECRETS = `(select coalesce(json_agg(s.secret order by s.id), '[]'::json)
    from merchant_webhook_secrets s
    where s.merchant_id = %MERCHANT% and (s.expires_at is null or s.expires_at > now()))`;

const activeSecretsOf = (merchantColumn: string) => ACTIVE_SECRETS.replace('%MERCHANT%', merchantColumn);

/** A json column as an array of strings (drivers hand json over parsed or as text). */
const jsonStrings = (value: unknown): string[] =>
  (typeof value === 'string' ? JSON.parse(value) : value) as string[];

/** What a requested webhook needs from its transaction when the request is handled. */
export interface RequestContext {
  transactionId: string;
  merchantId: string;
  merchantTransactionId: string;
  amountMinor: number;
  currency: string;
  /** The transaction's webhook URL, else the merchant's default; null when neither is set. */
  url: string | null;
  secrets: string[];
}

/** The request contexts of these transactions (missing ones are absent from the map). */
export async function readRequestContexts(
  db: Db,
  transactionIds: readonly string[],
): Promise<Map<string, RequestContext>> {
  const result = await db.raw(
    `select t.id, t.merchant_id, t.merchant_transaction_id, t.amount_minor, t.currency,
            coalesce(t.webhook_url, m.default_webhook_url) as url,
            ${activeSecretsOf('t.merchant_id')} as secrets
     from transactions t join merchants m on m.id = t.merchant_id
     where t.id = any(?::text[])`,
    [[...new Set(transactionIds)]],
  );
  const contexts = new Map<string, RequestContext>();
  for (const row of result.rows as Array<Record<string, unknown>>) {
    contexts.set(row.id as string, {
      transactionId: row.id as string,
      merchantId: row.merchant_id as string,
      merchantTransactionId: row.merchant_transaction_id as string,
      amountMinor: Number(row.amount_minor),
      currency: row.currency as string,
      url: (row.url as string | null) ?? null,
      secrets: jsonStrings(row.secrets),
    });
  }
  return contexts;
}

/** A delivery about to be created, exactly as it will be stored. */
export interface DeliveryDraft {
  eventId: string;
  correlationId: string;
  sequence: number;
  delivery: Delivery;
}

/**
 * The delivery of a requested webhook, with the transaction's webhook URL and the body as they are
 * now; attempt 1 is scheduled for now (or the delivery is `skipped` when there is no URL at all). Pure.
 */
export function draftDelivery(
  event: EventOf<'MerchantWebhookRequested'>,
  context: RequestContext | undefined,
  now: Date,
): DeliveryDraft {
  const { envelope, payload } = event;
  if (!context) {
    throw new NonRetryableError(
      `webhook ${payload.webhookId} requested for unknown transaction ${envelope.transactionId}`,
      { code: 'WEBHOOK_UNKNOWN_TRANSACTION' },
    );
  }
  if (context.merchantId !== envelope.merchantId) {
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
      id: context.transactionId,
      merchantTransactionId: context.merchantTransactionId,
      amountMinor: context.amountMinor,
      currency: context.currency,
    },
  });
  const hasUrl = context.url !== null;
  return {
    eventId: envelope.eventId,
    correlationId: envelope.correlationId,
    sequence: envelope.sequence,
    delivery: {
      id: payload.webhookId,
      transactionId: envelope.transactionId,
      merchantId: envelope.merchantId,
      webhookType: payload.webhookType,
      url: context.url,
      payload: JSON.stringify(body),
      state: hasUrl ? 'pending' : 'skipped',
      attempts: 0,
      lastAttemptNumber: hasUrl ? 1 : 0,
      nextAttemptNumber: hasUrl ? 1 : null,
      nextAttemptAt: hasUrl ? now : null,
      requestedAt: envelope.occurredAt,
    },
  };
}

/**
 * `created`: this event created the delivery. `reused`: the event is new but its webhook id already
 * names a delivery (which stands). `duplicate`: the event was already handled (inbox).
 */
export type CreationOutcome = 'created' | 'reused' | 'duplicate';

/**
 * Creates the drafted deliveries in one statement, recording each event in the inbox of `consumer`
 * (null: no inbox, e.g. tools creating a delivery directly). A webhook id names one delivery for good.
 */
export async function insertDeliveries(
  db: Db,
  consumer: string | null,
  drafts: readonly DeliveryDraft[],
): Promise<CreationOutcome[]> {
  if (drafts.length === 0) return [];
  const rows = drafts.map(({ eventId, correlationId, sequence, delivery: d }) => ({
    event_id: eventId,
    id: d.id,
    transaction_id: d.transactionId,
    merchant_id: d.merchantId,
    webhook_type: d.webhookType,
    url: d.url,
    payload: d.payload,
    sequence,
    correlation_id: correlationId,
    requested_at: d.requestedAt.toISOString(),
    state: d.state,
    last_attempt_number: d.lastAttemptNumber,
    next_attempt_number: d.nextAttemptNumber,
    next_attempt_at: d.nextAttemptAt?.toISOString() ?? null,
  }));
  const fresh =
    consumer === null
      ? 'select event_id from v'
      : `insert into inbox (consumer, event_id) select ?, event_id from v
         on conflict (consumer, event_id) do nothing returning event_id`;
  const result = await db.raw(
    `with v as (
       select * from json_to_recordset(?::json) as v(
         event_id text, id text, transaction_id text, merchant_id text, webhook_type text, url text,
         payload text, sequence bigint, correlation_id text, requested_at timestamptz, state text,
         last_attempt_number int, next_attempt_number int, next_attempt_at timestamptz)
     ),
     i as (${fresh}),
     d as (
       insert into webhook_deliveries (id, transaction_id, merchant_id, webhook_type, url, payload, sequence,
         source_event_id, correlation_id, requested_at, state, last_attempt_number, next_attempt_number,
         next_attempt_at)
       select id, transaction_id, merchant_id, webhook_type, url, payload, sequence, event_id,
         correlation_id, requested_at, state, last_attempt_number, next_attempt_number, next_attempt_at
       from v where event_id in (select event_id from i)
       on conflict (id) do nothing
       returning source_event_id
     )
     select (select coalesce(json_agg(event_id), '[]'::json) from i) as fresh,
            (select coalesce(json_agg(source_event_id), '[]'::json) from d) as created`,
    consumer === null ? [JSON.stringify(rows)] : [JSON.stringify(rows), consumer],
  );
  const row = result.rows[0] as { fresh: unknown; created: unknown };
  const freshIds = new Set(jsonStrings(row.fresh));
  const createdIds = new Set(jsonStrings(row.created));
  return drafts.map(({ eventId }) =>
    createdIds.has(eventId) ? 'created' : freshIds.has(eventId) ? 'reused' : 'duplicate',
  );
}

/**
 * Creates the delivery of one requested webhook (no inbox): the existing one stands if the webhook id
 * was already used. For tools and tests that set up deliveries without running the dispatcher.
 */
export async function createDelivery(
  db: Db,
  event: EventOf<'MerchantWebhookRequested'>,
  now: Date,
): Promise<{ created: boolean }> {
  const contexts = await readRequestContexts(db, [event.envelope.transactionId]);
  const draft = draftDelivery(event, contexts.get(event.envelope.transactionId), now);
  const [outcome] = await insertDeliveries(db, null, [draft]);
  return { created: outcome === 'created' };
}

/** What an attempt message needs: the delivery, the attempt if already recorded, the active secrets. */
export interface AttemptContext {
  delivery: Delivery;
  /** The recorded attempt with the asked number, if any (what makes a redelivered message a no-op). */
  recorded: { nextAttemptNumber: number | null } | undefined;
  secrets: string[];
}

export interface AttemptKey {
  deliveryId: string;
  attemptNumber: number;
}

/** The contexts of these attempts, in order (undefined for an unknown delivery). */
export async function readAttemptContexts(
  db: Db,
  keys: readonly AttemptKey[],
): Promise<Array<AttemptContext | undefined>> {
  if (keys.length === 0) return [];
  const result = await db.raw(
    `select v.ord, d.*, a.id is not null as recorded, a.next_attempt_number as recorded_next,
            ${activeSecretsOf('d.merchant_id')} as secrets
     from json_to_recordset(?::json) as v(ord int, id text, n int)
     join webhook_deliveries d on d.id = v.id
     left join webhook_attempts a on a.delivery_id = v.id and a.attempt_number = v.n`,
    [JSON.stringify(keys.map((key, ord) => ({ ord, id: key.deliveryId, n: key.attemptNumber })))],
  );
  const contexts: Array<AttemptContext | undefined> = keys.map(() => undefined);
  for (const row of result.rows as Array<DeliveryRow & Record<string, unknown>>) {
    contexts[Number(row.ord)] = {
      delivery: toDelivery(row),
      recorded: row.recorded
        ? { nextAttemptNumber: row.recorded_next === null ? null : Number(row.recorded_next) }
        : undefined,
      secrets: jsonStrings(row.secrets),
    };
  }
  return contexts;
}
