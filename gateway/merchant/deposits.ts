/**
 * Durable acceptance of a deposit (DESIGN decision 1): the transaction, its payment session and the
 * DepositRequested + PaymentSessionCreated facts (outbox events and timeline entries) are written in ONE
 * database transaction; the caller answers only after it committed.
 *
 * Idempotency rests on the unique constraint (merchant_id, merchant_transaction_id): the single
 * statement that writes all of it fails as a whole on that constraint, so of two concurrent identical
 * requests one inserts and the other (which waits for the first to commit) writes nothing and reads the
 * winner's row. Same request hash -> the original deposit again; a different hash -> conflict. A replay
 * therefore costs one refused statement plus one read; a new deposit (the common case) one statement,
 * shared with the deposits accepted at the same moment (deposit-writer.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { AuthenticatedMerchant } from '../../core/merchants/index.js';
import { insertAll } from '../../core/db/insert-all.js';
import { OUTBOX_CHANNEL } from '../../core/outbox/index.js';
import type { DepositWrite } from './deposit-writer.js';
import {
  isTransactionStatus,
  journalEntries,
  type TransactionStatus,
} from '../../core/transactions/index.js';
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

/**
 * `write` commits a new deposit's rows; by default one statement of its own, in the gateway the group
 * commit of deposit-writer.ts (which may share the statement with concurrent deposits).
 */
export async function acceptDeposit(
  knex: Knex,
  input: AcceptDepositInput,
  write: DepositWrite = async (tables) => void (await insertAll(knex, tables, { notify: OUTBOX_CHANNEL })),
): Promise<DepositOutcome> {
  const hash = requestHash(input.request);
  const { merchantId } = input.merchant;
  const mtid = input.request.merchantTransactionId;
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
  // A new transaction's facts are numbered from 1, so everything is known before writing: the
  // transaction, its session, its outbox events, its timeline and the relay's wake-up go in ONE
  // statement (atomic on its own, one round trip).
  const journal = journalEntries({ transactionId, merchantId }, plan.facts, 1, {
    correlationId: input.correlationId,
  });
  try {
    await write([
      { table: 'transactions', rows: [{ ...plan.transactionRow, last_sequence: plan.facts.length }] },
      { table: 'payment_sessions', rows: [plan.sessionRow] },
      ...journal.tables,
    ]);
  } catch (error) {
    if (!isDuplicateDeposit(error)) throw error;
    // A replay (or a concurrent duplicate, which waited for the winner to commit): answer from the
    // stored deposit. The failed statement wrote nothing.
    const existing = await findDeposit(knex, merchantId, mtid);
    if (!existing)
      throw new Error('deposit insert conflicted but no deposit with that merchantTransactionId exists');
    return compare(existing, hash);
  }
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

/** The unique (merchant_id, merchant_transaction_id) constraint of migration 0004 refused the insert. */
function isDuplicateDeposit(error: unknown): boolean {
  const { code, constraint } = error as { code?: unknown; constraint?: unknown };
  return code === UNIQUE_VIOLATION && constraint === MERCHANT_TRANSACTION_ID_UNIQUE;
}

const UNIQUE_VIOLATION = '23505';
const MERCHANT_TRANSACTION_ID_UNIQUE = 'transactions_merchant_id_merchant_transaction_id_unique';

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
