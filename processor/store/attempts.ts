/** Payment attempts and routing plans: the orchestrator's record of what it asked which provider. */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { AttemptRef, AttemptUpdate } from '../decisions/attempt-outcome.js';
import type {
  AttemptFailureKind,
  PlannedCandidate,
  VelocityLookup,
  VelocityUsage,
} from '../routing/types.js';

export interface AttemptRow extends AttemptRef {
  transactionId: string;
  state: string;
  outcome: string | null;
  failureKind: string | null;
  providerReference: string | null;
}

export async function savePlan(
  trx: Knex.Transaction,
  transactionId: string,
  plan: { rulesVersion: string; ruleId: string; candidates: PlannedCandidate[] },
): Promise<void> {
  await trx('routing_plans').insert({
    transaction_id: transactionId,
    rules_version: plan.rulesVersion,
    rule_id: plan.ruleId,
    candidates: JSON.stringify(plan.candidates),
  });
}

export async function readPlan(trx: Knex.Transaction, transactionId: string): Promise<PlannedCandidate[]> {
  const row = await trx('routing_plans').where({ transaction_id: transactionId }).first('candidates');
  return (row?.candidates as PlannedCandidate[] | undefined) ?? [];
}

/** A new attempt on a candidate. Its idempotency key is fixed here, so a re-driven call reuses it. */
export async function createAttempt(
  trx: Knex.Transaction,
  transaction: { id: string; amountMinor: number; currency: string },
  candidate: PlannedCandidate,
): Promise<AttemptRef> {
  const previous = await trx('payment_attempts')
    .where({ transaction_id: transaction.id })
    .max('attempt_number as n')
    .first();
  const number = Number(previous?.n ?? 0) + 1;
  const id = `att_${randomUUID().replace(/-/g, '')}`;
  const attempt: AttemptRef = {
    id,
    number,
    providerId: candidate.providerId,
    subMidId: candidate.subMidId,
    group: candidate.group,
    idempotencyKey: `${transaction.id}:${number}`,
  };
  await trx('payment_attempts').insert({
    id,
    transaction_id: transaction.id,
    attempt_number: number,
    provider_id: attempt.providerId,
    sub_mid_id: attempt.subMidId,
    candidate_group: attempt.group,
    idempotency_key: attempt.idempotencyKey,
    amount_minor: transaction.amountMinor,
    currency: transaction.currency,
  });
  return attempt;
}

export async function readAttempt(
  knex: Knex,
  id: string,
  options: { lock?: boolean } = {},
): Promise<AttemptRow | null> {
  const query = knex('payment_attempts').where({ id }).first();
  if (options.lock) void query.forUpdate();
  const row = await query;
  return row ? toAttempt(row) : null;
}

/** The latest attempt of a transaction waiting for customer data, if any. */
export async function waitingAttempt(knex: Knex, transactionId: string): Promise<AttemptRow | null> {
  const row = await knex('payment_attempts')
    .where({ transaction_id: transactionId, state: 'awaiting_customer_data' })
    .orderBy('attempt_number', 'desc')
    .first();
  return row ? toAttempt(row) : null;
}

export async function attemptsOf(trx: Knex.Transaction, transactionId: string): Promise<AttemptRow[]> {
  const rows = await trx('payment_attempts')
    .where({ transaction_id: transactionId })
    .orderBy('attempt_number');
  return rows.map(toAttempt);
}

export async function findAttemptByReference(
  trx: Knex.Transaction,
  providerId: string,
  providerReference: string,
  attemptId: string | null,
): Promise<AttemptRow | null> {
  const row = await trx('payment_attempts')
    .where({ provider_id: providerId, provider_reference: providerReference })
    .modify((q) => (attemptId ? q.orWhere({ id: attemptId, provider_id: providerId }) : q))
    .first();
  return row ? toAttempt(row) : null;
}

export async function recordAttemptUpdate(
  trx: Knex.Transaction,
  id: string,
  update: AttemptUpdate,
): Promise<void> {
  await trx('payment_attempts')
    .where({ id })
    .update({
      state: update.state,
      outcome: update.outcome,
      failure_kind: update.failureKind,
      provider_error_code: update.providerErrorCode,
      outcome_unknown: update.outcomeUnknown,
      provider_reference: update.providerReference,
      finished_at: update.state === 'awaiting_customer_data' ? null : trx.fn.now(),
    });
}

export async function setAttemptOutcome(trx: Knex.Transaction, id: string, outcome: string): Promise<void> {
  await trx('payment_attempts').where({ id }).update({ outcome });
}

export function failuresOf(
  attempts: readonly AttemptRow[],
): Array<{ subMidId: string; failureKind: AttemptFailureKind }> {
  return attempts
    .filter((a) => a.state === 'failed' && a.failureKind)
    .map((a) => ({ subMidId: a.subMidId, failureKind: a.failureKind as AttemptFailureKind }));
}

/**
 * Usage of every configured (SUB MID, window) pair, read once, so routing stays a pure function.
 * Every attempt counts (a provider counts requests, not successes) except ones refused before reaching it.
 */
export async function loadVelocity(
  knex: Knex,
  windows: ReadonlyArray<{ subMidId: string; windowSeconds: number }>,
  now: Date,
): Promise<VelocityLookup> {
  const usage = new Map<string, VelocityUsage>();
  if (windows.length > 0) {
    // One round trip for every (SUB MID, window) pair: this runs before each routing decision.
    const pairs = windows.map(() => '(?::text, ?::int)').join(', ');
    const { rows } = (await knex.raw(
      `select w.sub_mid_id, w.window_seconds,
              count(a.id)::int as count, coalesce(sum(a.amount_minor), 0)::bigint as amount
         from (values ${pairs}) as w(sub_mid_id, window_seconds)
         left join payment_attempts a
           on a.sub_mid_id = w.sub_mid_id
          and a.started_at > ?::timestamptz - make_interval(secs => w.window_seconds)
          and (a.failure_kind is null or a.failure_kind not in ('velocity_limited', 'inactive_config'))
        group by w.sub_mid_id, w.window_seconds`,
      [...windows.flatMap((w) => [w.subMidId, w.windowSeconds]), now],
    )) as { rows: Array<{ sub_mid_id: string; window_seconds: number; count: number; amount: string }> };
    for (const row of rows) {
      usage.set(`${row.sub_mid_id}/${row.window_seconds}`, {
        count: Number(row.count),
        amountMinor: Number(row.amount),
      });
    }
  }
  return (subMidId, windowSeconds) =>
    usage.get(`${subMidId}/${windowSeconds}`) ?? { count: 0, amountMinor: 0 };
}

function toAttempt(row: Record<string, unknown>): AttemptRow {
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
