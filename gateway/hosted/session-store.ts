/**
 * The hosted page's database access: find a session by its token (only the hash is stored) and apply a
 * customer-data submission. A submission is one knex transaction: lock the transaction row (the
 * per-transaction serialisation point every writer takes first, as appendFacts does), read the session
 * fresh, decide (submission.ts), then merge the values into transactions.customer_data, put the session
 * back to `loading` and record CustomerDataSubmitted (field names only) in the outbox and timeline.
 */
import type { Knex } from 'knex';
import { hashSessionToken } from '../../core/transactions/session-token.js';
import { appendFacts, fact } from '../../core/transactions/journal.js';
import type { SessionSnapshot } from './session-view.js';
import { decideSubmission, type SubmissionDecision } from './submission.js';

const SNAPSHOT_COLUMNS = [
  'ps.id as session_id',
  'ps.transaction_id',
  'ps.state',
  'ps.required_fields',
  'ps.redirect_url',
  'ps.expires_at',
  'ps.customer_data_submitted_at',
  't.merchant_id',
  't.status as transaction_status',
  't.return_urls',
  't.amount_minor',
  't.currency',
  'm.name as merchant_name',
];

function snapshotQuery(knex: Knex | Knex.Transaction) {
  return knex('payment_sessions as ps')
    .join('transactions as t', 't.id', 'ps.transaction_id')
    .join('merchants as m', 'm.id', 't.merchant_id');
}

/** The session a hosted-page token opens, or null when no session has that token. */
export async function findSession(knex: Knex, token: string): Promise<SessionSnapshot | null> {
  const row = await snapshotQuery(knex)
    .where('ps.token_hash', hashSessionToken(token))
    .first(SNAPSHOT_COLUMNS);
  return row ? toSnapshot(row) : null;
}

export interface SubmissionResult {
  snapshot: SessionSnapshot;
  decision: SubmissionDecision;
}

/** Decides and, when accepted, applies a submission atomically. Null when no session has that token. */
export async function submitCustomerData(
  knex: Knex,
  token: string,
  values: Readonly<Record<string, unknown>>,
  now: Date,
): Promise<SubmissionResult | null> {
  const tokenHash = hashSessionToken(token);
  return knex.transaction(async (trx) => {
    const session = await trx('payment_sessions').where({ token_hash: tokenHash }).first('transaction_id');
    if (!session) return null;
    await trx('transactions').where({ id: session.transaction_id }).forUpdate().first('id');
    const row = await snapshotQuery(trx)
      .where('ps.token_hash', tokenHash)
      .first([...SNAPSHOT_COLUMNS, 't.customer_data']);
    const snapshot = toSnapshot(row);
    const decision = decideSubmission(snapshot, jsonObject(row.customer_data), values, now);
    if (decision.kind !== 'accept') return { snapshot, decision };

    const moved = await trx('payment_sessions')
      .where({ id: snapshot.sessionId, state: 'customer_data_required' })
      .update({ state: 'loading', customer_data_submitted_at: now, updated_at: trx.fn.now() });
    // Unreachable while every writer locks the transaction row first; refuse rather than overwrite.
    if (moved !== 1) return { snapshot, decision: { kind: 'not-awaiting' } };
    await trx('transactions')
      .where({ id: snapshot.transactionId })
      .update({
        customer_data: trx.raw('customer_data || ?::jsonb', [JSON.stringify(decision.values)]),
        updated_at: trx.fn.now(),
      });
    await appendFacts(trx, { transactionId: snapshot.transactionId, merchantId: snapshot.merchantId }, [
      fact(
        'CustomerDataSubmitted',
        { sessionId: snapshot.sessionId, fieldNames: decision.fieldNames },
        { message: 'customer submitted the requested details', fieldNames: decision.fieldNames },
        { occurredAt: now },
      ),
    ]);
    return { snapshot: { ...snapshot, sessionState: 'loading', customerDataSubmittedAt: now }, decision };
  });
}

function toSnapshot(row: Record<string, unknown>): SessionSnapshot {
  return {
    sessionId: String(row.session_id),
    transactionId: String(row.transaction_id),
    merchantId: String(row.merchant_id),
    merchantName: String(row.merchant_name),
    amountMinor: Number(row.amount_minor),
    currency: String(row.currency),
    sessionState: String(row.state),
    requiredFields: row.required_fields,
    redirectUrl: typeof row.redirect_url === 'string' ? row.redirect_url : null,
    expiresAt: new Date(row.expires_at as string | Date),
    customerDataSubmittedAt:
      row.customer_data_submitted_at === null || row.customer_data_submitted_at === undefined
        ? null
        : new Date(row.customer_data_submitted_at as string | Date),
    transactionStatus: String(row.transaction_status),
    returnUrls: row.return_urls,
  };
}

function jsonObject(value: unknown): Record<string, unknown> {
  const parsed = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : {};
}
