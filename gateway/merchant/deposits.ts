/**
 * Durable acceptance of a deposit (DESIGN decision 1): the transaction, its payment session and the
 * DepositRequested + PaymentSessionCreated facts (outbox events and timeline entries) are written in ONE
 * database transaction; the caller answers only after it committed.
 *
 * Idempotency rests on the unique constraint (merchant_id, merchant_transaction_id): the insert is
 * `on conflict do nothing`, so of two concurrent identical requests one inserts and the other (which
 * waits for the first to commit) inserts nothing, rolls back its empty transaction and reads the winner's
 * row. Same request hash -> the original deposit again; a different hash -> conflict.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { AuthenticatedMerchant } from '../../core/merchants/index.js';
import { appendFacts, isTransactionStatus, type TransactionStatus } from '../../core/transactions/index.js';
import { requestHash } from './canonical-json.js';
import { planDeposit } from './deposit-records.js';
import type { DepositRequest } from './deposit-request.js';

/** A deposit as stored: what the merchant's answer is built from, first time or replayed. */
export interface StoredDeposit {
  transactionId: string;
  merchantTransactionId: string;
  status: TransactionStatus;
  sessionId: string;
  tokenHash: string;
  expiresAt: Date;
}

export type DepositOutcome =
  | { kind: 'created'; deposit: StoredDeposit }
  | { kind: 'replayed'; deposit: StoredDeposit }
  | { kind: 'conflict' };

export interface AcceptDepositInput {
  merchant: Pick<AuthenticatedMerchant, 'merchantId' | 'defaultWebhookUrl'>;
  request: DepositRequest;
  /** The token hash to store for a new session id (see session-links.ts). */
  tokenHashFor: (sessionId: string) => string;
  sessionTtlSeconds: number;
  now: Date;
  /** Correlation id of the events this request causes. */
  correlationId: string;
}

export async function acceptDeposit(knex: Knex, input: AcceptDepositInput): Promise<DepositOutcome> {
  const hash = requestHash(input.request);
  const { merchantId } = input.merchant;
  const mtid = input.request.merchantTransactionId;
  // Replays are common (merchant retries after a timeout): answer them without a failed insert.
  const existing = await findDeposit(knex, merchantId, mtid);
  if (existing) return compare(existing, hash);

  const transactionId = `tx_${randomUUID()}`;
  const sessionId = `ps_${randomUUID()}`;
  const plan = planDeposit({
    merchant: input.merchant,
    request: input.request,
    requestHash: hash,
    transactionId,
    sessionId,
    tokenHash: input.tokenHashFor(sessionId),
    now: input.now,
    sessionTtlSeconds: input.sessionTtlSeconds,
  });
  const inserted = await knex.transaction(async (trx) => {
    const rows = await trx('transactions')
      .insert(plan.transactionRow)
      .onConflict(['merchant_id', 'merchant_transaction_id'])
      .ignore()
      .returning('id');
    if (rows.length === 0) return false; // a concurrent request with this merchantTransactionId won
    await trx('payment_sessions').insert(plan.sessionRow);
    await appendFacts(trx, { transactionId, merchantId }, plan.facts, { correlationId: input.correlationId });
    return true;
  });
  if (inserted) {
    return {
      kind: 'created',
      deposit: {
        transactionId,
        merchantTransactionId: mtid,
        status: 'CREATED',
        sessionId,
        tokenHash: plan.sessionRow.token_hash as string,
        expiresAt: plan.expiresAt,
      },
    };
  }
  const winner = await findDeposit(knex, merchantId, mtid);
  if (!winner)
    throw new Error('deposit insert conflicted but no deposit with that merchantTransactionId exists');
  return compare(winner, hash);
}

function compare(existing: StoredDeposit & { requestHash: string }, hash: string): DepositOutcome {
  if (existing.requestHash !== hash) return { kind: 'conflict' };
  const { requestHash: _ignored, ...deposit } = existing;
  return { kind: 'replayed', deposit };
}

async function findDeposit(
  knex: Knex,
  merchantId: string,
  merchantTransactionId: string,
): Promise<(StoredDeposit & { requestHash: string }) | undefined> {
  const row = (await knex('transactions as t')
    .leftJoin('payment_sessions as s', 's.transaction_id', 't.id')
    .where({ 't.merchant_id': merchantId, 't.merchant_transaction_id': merchantTransactionId })
    .first('t.id', 't.request_hash', 't.status', 's.id as session_id', 's.token_hash', 's.expires_at')) as
    | {
        id: string;
        request_hash: string;
        status: string;
        session_id: string | null;
        token_hash: string | null;
        expires_at: Date | string | null;
      }
    | undefined;
  if (!row) return undefined;
  if (row.session_id === null || row.token_hash === null || row.expires_at === null)
    throw new Error(`transaction ${row.id} has no payment session`);
  if (!isTransactionStatus(row.status))
    throw new Error(`transaction ${row.id} has unknown status ${row.status}`);
  return {
    transactionId: row.id,
    merchantTransactionId,
    status: row.status,
    sessionId: row.session_id,
    tokenHash: row.token_hash,
    expiresAt: new Date(row.expires_at),
    requestHash: row.request_hash,
  };
}
