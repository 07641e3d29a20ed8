/** Payment attempts and routing plans: the orchestrator's record of what it asked which provider. */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { RowUpdate, TableRows } from '../../core/db/insert-all.js';
import type { AttemptRef, AttemptUpdate } from '../decisions/attempt-outcome.js';
import type { AttemptFailureKind, PlannedCandidate } from '../routing/types.js';
import { toTransactionRow, type TransactionRow } from './transactions.js';

export interface AttemptRow extends AttemptRef {
  transactionId: string;
  state: string;
  outcome: string | null;
  failureKind: string | null;
  providerReference: string | null;
}

/** The routing plan's row, written with the routing decision's facts (see handlers/record.ts). */
export function planRows(
  transactionId: string,
  plan: { rulesVersion: string; ruleId: string; candidates: PlannedCandidate[] },
): TableRows {
  return {
    table: 'routing_plans',
    rows: [
      {
        transaction_id: transactionId,
        rules_version: plan.rulesVersion,
        rule_id: plan.ruleId,
        candidates: JSON.stringify(plan.candidates),
      },
    ],
  };
}

export async function readPlan(trx: Knex.Transaction, transactionId: string): Promise<PlannedCandidate[]> {
  const row = await trx('routing_plans').where({ transaction_id: transactionId }).first('candidates');
  return (row?.candidates as PlannedCandidate[] | undefined) ?? [];
}

/**
 * A new attempt on a candidate, numbered `number` (1 + the highest number the caller read under the
 * transaction's lock; the unique (transaction, number) key refuses a wrong one). Its idempotency key is
 * fixed here and written with the facts that start it, so a re-driven call reuses it.
 */
export function newAttempt(
  transaction: { id: string; amountMinor: number; currency: string },
  candidate: PlannedCandidate,
  number: number,
): { attempt: AttemptRef; rows: TableRows } {
  const id = `att_${randomUUID().replace(/-/g, '')}`;
  const attempt: AttemptRef = {
    id,
    number,
    providerId: candidate.providerId,
    subMidId: candidate.subMidId,
    group: candidate.group,
    idempotencyKey: `${transaction.id}:${number}`,
  };
  const row = {
    id,
    transaction_id: transaction.id,
    attempt_number: number,
    provider_id: attempt.providerId,
    sub_mid_id: attempt.subMidId,
    candidate_group: attempt.group,
    idempotency_key: attempt.idempotencyKey,
    amount_minor: transaction.amountMinor,
    currency: transaction.currency,
  };
  return { attempt, rows: { table: 'payment_attempts', rows: [row] } };
}

/**
 * An attempt to drive and its transaction, in one read (no lock: the answer is applied under the
 * transaction's lock, re-checking the attempt's state). By id, or the transaction's latest attempt
 * waiting for customer data.
 */
export async function attemptToDrive(
  knex: Knex,
  which: { id: string } | { transactionId: string; state: 'awaiting_customer_data' },
): Promise<{ attempt: AttemptRow; transaction: TransactionRow } | null> {
  const query = knex('payment_attempts as a')
    .join('transactions as t', 't.id', 'a.transaction_id')
    .leftJoin('payment_sessions as s', 's.transaction_id', 't.id')
    .first('a.*', knex.raw('row_to_json(t) as tx'), 's.id as session_id');
  if ('id' in which) void query.where('a.id', which.id);
  else
    void query
      .where({ 'a.transaction_id': which.transactionId, 'a.state': which.state })
      .orderBy('a.attempt_number', 'desc');
  const row = await query;
  if (!row) return null;
  const tx = typeof row.tx === 'string' ? JSON.parse(row.tx) : row.tx;
  return { attempt: toAttempt(row), transaction: toTransactionRow({ ...tx, session_id: row.session_id }) };
}

/** Every attempt of a transaction, oldest first (read under the transaction's lock to be current). */
export async function attemptsOf(trx: Knex.Transaction, transactionId: string): Promise<AttemptRow[]> {
  const rows = await trx('payment_attempts')
    .where({ transaction_id: transactionId })
    .orderBy('attempt_number');
  return rows.map(toAttempt);
}

/**
 * The attempt a provider callback names (by the provider's reference, or our attempt id when the
 * provider echoes it) and its transaction, read under the transaction's row lock, in one statement.
 * The attempt's columns may predate the lock (only the transaction row is re-read after waiting for
 * it); which transaction an attempt belongs to never changes, so the lock is the right one — read the
 * attempts again under it for their current state. Null: no such attempt (yet).
 */
export async function lockTransactionOfAttempt(
  trx: Knex.Transaction,
  providerId: string,
  providerReference: string,
  attemptId: string | null,
): Promise<{ attempt: AttemptRow; transaction: TransactionRow } | null> {
  const row = await trx('payment_attempts as a')
    .join('transactions as t', 't.id', 'a.transaction_id')
    .leftJoin('payment_sessions as s', 's.transaction_id', 't.id')
    .where('a.provider_id', providerId)
    .andWhere((q) =>
      attemptId
        ? q.where('a.provider_reference', providerReference).orWhere('a.id', attemptId)
        : q.where('a.provider_reference', providerReference),
    )
    .forUpdate('t')
    .first('t.*', 's.id as session_id', trx.raw('row_to_json(a) as attempt'));
  if (!row) return null;
  const attempt = typeof row.attempt === 'string' ? JSON.parse(row.attempt) : row.attempt;
  return { attempt: toAttempt(attempt), transaction: toTransactionRow(row) };
}

/** The provider's answer on the attempt row (written with the decision's facts, see handlers/record.ts). */
export function attemptUpdate(trx: Knex.Transaction, id: string, update: AttemptUpdate): RowUpdate {
  return {
    table: 'payment_attempts',
    set: {
      state: update.state,
      outcome: update.outcome,
      failure_kind: update.failureKind,
      provider_error_code: update.providerErrorCode,
      outcome_unknown: update.outcomeUnknown,
      provider_reference: update.providerReference,
      finished_at: update.state === 'awaiting_customer_data' ? null : trx.fn.now(),
    },
    where: { id },
  };
}

export function attemptOutcomeUpdate(id: string, outcome: string): RowUpdate {
  return { table: 'payment_attempts', set: { outcome }, where: { id } };
}

export function failuresOf(
  attempts: readonly AttemptRow[],
): Array<{ subMidId: string; failureKind: AttemptFailureKind }> {
  return attempts
    .filter((a) => a.state === 'failed' && a.failureKind)
    .map((a) => ({ subMidId: a.subMidId, failureKind: a.failureKind as AttemptFailureKind }));
}

export function toAttempt(row: Record<string, unknown>): AttemptRow {
  return {
    id: row.id as string,
    transactionId: row.transaction_id as string,
    number: Number(row.attempt_number),
    providerId: row.provider_id as string,
    subMidId: row.sub_mid_id as string,
    group: Number(row.candidate_group),
    idempotencyKey: row.idempotency_key as string,
    state: row.state as string,
    outcome: (row.outcome as string | null) ?? null,
    failureKind: (row.failure_kind as string | null) ?? null,
    providerReference: (row.provider_reference as string | null) ?? null,
  };
}
