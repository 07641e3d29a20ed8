/**
 * Records finished attempts — the attempt row, the delivery's new state and next retry, and the
 * attempt's business facts (outbox events + timeline entries, numbered in the transaction's sequence)
 * — all or nothing, for a whole batch of concurrent attempts in ONE database transaction of five
 * statements, however many attempts it carries (before: eleven per attempt):
 *
 *   BEGIN
 *   lock the deliveries (in id order) and read what the decisions need (already recorded? automatic
 *     attempts so far?)
 *   update the deliveries and allocate every transaction's sequence numbers (one statement)
 *   insert attempts + outbox events + timeline entries, NOTIFY the relay (one statement, insert-all.ts)
 *   COMMIT
 *
 * The decisions are the pure `decideOutcome` on the locked rows, so a batch records exactly what
 * recording its attempts one by one would. A batch never holds two attempts of one delivery (the
 * batcher keeps them apart), and within a transaction the sequence numbers follow the batch order, as
 * do the outbox rows: outbox order = sequence order still holds. An attempt whose number another
 * process already recorded is not recorded again (`recorded: false`).
 */
import type { Knex } from 'knex';
import { insertAll, type TableRows } from '../core/db/insert-all.js';
import { OUTBOX_CHANNEL } from '../core/outbox/index.js';
import { journalEntries } from '../core/transactions/index.js';
import { attemptFacts } from './attempt-facts.js';
import { decideOutcome, type OutcomeDecision } from './attempt-plan.js';
import { toDelivery, type DeliveryRow } from './delivery-store.js';
import type { AttemptCommand, AttemptResult, Delivery } from './model.js';
import { parseRetryAfter } from './retry-schedule.js';

export interface RecordPolicy {
  schedule: readonly number[];
  maxRetryAfterMs: number;
  random?: () => number;
}

/** One finished attempt to record. */
export interface AttemptRecord {
  command: AttemptCommand;
  url: string;
  result: AttemptResult;
  now: Date;
}

export type RecordOutcome =
  | { recorded: false }
  | { recorded: true; delivery: Delivery; decision: OutcomeDecision; totalAttempts: number };

interface Planned {
  index: number;
  record: AttemptRecord;
  delivery: Delivery;
  decision: OutcomeDecision;
  totalAttempts: number;
  facts: ReturnType<typeof attemptFacts>;
}

/** Records a batch of attempts of distinct deliveries in one transaction; outcomes in input order. */
export async function recordAttempts(
  knex: Knex,
  records: readonly AttemptRecord[],
  policy: RecordPolicy,
): Promise<RecordOutcome[]> {
  if (records.length === 0) return [];
  if (new Set(records.map((r) => r.command.deliveryId)).size !== records.length)
    throw new Error('recordAttempts: one attempt per delivery per batch');
  return knex.transaction(async (trx) => {
    const locked = await lockDeliveries(trx, records);
    const outcomes: RecordOutcome[] = records.map(() => ({ recorded: false }));
    const planned: Planned[] = [];
    records.forEach((record, index) => {
      const row = locked[index];
      if (!row) throw new Error(`webhook delivery ${record.command.deliveryId} disappeared`);
      if (row.already) return;
      const delivery = toDelivery(row);
      const { command, result, now } = record;
      const decision = decideOutcome({
        delivery,
        command,
        delivered: result.delivered,
        automaticAttempts: row.automaticAttempts + (command.trigger === 'automatic' ? 1 : 0),
        schedule: policy.schedule,
        retryAfterMs: result.delivered
          ? undefined
          : parseRetryAfter(result.responseHeaders['retry-after'], now),
        maxRetryAfterMs: policy.maxRetryAfterMs,
        ...(policy.random ? { random: policy.random } : {}),
        now,
      });
      const totalAttempts = delivery.attempts + 1;
      const facts = attemptFacts({
        webhookId: delivery.id,
        url: record.url,
        command,
        result,
        decision,
        totalAttempts,
      });
      planned.push({ index, record, delivery, decision, totalAttempts, facts });
      outcomes[index] = { recorded: true, delivery, decision, totalAttempts };
    });
    if (planned.length === 0) return outcomes;
    const firstSequences = await updateDeliveriesAndSequences(trx, planned);
    const attempts: TableRows = { table: 'webhook_attempts', rows: planned.map(attemptRow) };
    const journal = new Map<string, TableRows>();
    for (const item of planned) {
      const { delivery, record } = item;
      const { command } = record;
      const entries = journalEntries(
        { transactionId: delivery.transactionId, merchantId: delivery.merchantId },
        item.facts,
        firstSequences.get(item)!,
        command.causationId
          ? { cause: { eventId: command.causationId, correlationId: command.correlationId } }
          : { correlationId: command.correlationId },
      );
      for (const table of entries.tables) {
        const merged = journal.get(table.table);
        if (merged) (merged.rows as Record<string, unknown>[]).push(...table.rows);
        else journal.set(table.table, { table: table.table, rows: [...table.rows] });
      }
    }
    await insertAll(trx, [attempts, ...journal.values()], { notify: OUTBOX_CHANNEL });
    return outcomes;
  });
}

/** Records one attempt (a batch of one). */
export async function recordAttempt(
  knex: Knex,
  input: AttemptRecord & { policy: RecordPolicy },
): Promise<RecordOutcome> {
  const [outcome] = await recordAttempts(knex, [input], input.policy);
  return outcome!;
}

type LockedRow = DeliveryRow & { already: boolean; automaticAttempts: number };

/** Locks the batch's deliveries in id order (concurrent batches cannot deadlock on them). */
async function lockDeliveries(
  trx: Knex.Transaction,
  records: readonly AttemptRecord[],
): Promise<Array<LockedRow | undefined>> {
  const result = await trx.raw(
    `select v.ord, d.*,
            exists (select 1 from webhook_attempts a
                    where a.delivery_id = d.id and a.attempt_number = v.n) as already,
            (select count(*) from webhook_attempts a
             where a.delivery_id = d.id and a.trigger = 'automatic')::int as automatic_attempts
     from json_to_recordset(?::json) as v(ord int, id text, n int)
     join webhook_deliveries d on d.id = v.id
     order by d.id
     for update of d`,
    [
      JSON.stringify(
        records.map((r, ord) => ({ ord, id: r.command.deliveryId, n: r.command.attemptNumber })),
      ),
    ],
  );
  const rows: Array<LockedRow | undefined> = records.map(() => undefined);
  for (const row of result.rows as Array<DeliveryRow & Record<string, unknown>>) {
    rows[Number(row.ord)] = {
      ...row,
      already: Boolean(row.already),
      automaticAttempts: Number(row.automatic_attempts),
    };
  }
  return rows;
}

/**
 * Applies every delivery's new state and allocates the facts' sequence numbers of every transaction
 * in the batch (locked in id order), in one statement. Returns the first sequence number of each
 * planned attempt's facts: a transaction's numbers are handed out in batch order.
 */
async function updateDeliveriesAndSequences(
  trx: Knex.Transaction,
  planned: readonly Planned[],
): Promise<Map<Planned, number>> {
  const deliveries = planned.map(({ delivery, decision, record }) => {
    const next = decision.nextAttempt;
    return {
      id: delivery.id,
      state: decision.state,
      finished: record.result.finishedAt.toISOString(),
      delivered: decision.newlyDelivered,
      // `undefined` keeps the scheduled retry as it is (a failed manual resend).
      set_schedule: next !== undefined,
      next_number: next?.number ?? null,
      next_at: next?.at.toISOString() ?? null,
      last_number: Math.max(delivery.lastAttemptNumber, next?.number ?? 0),
      resend_number: record.command.trigger === 'manual_resend' ? record.command.attemptNumber : null,
    };
  });
  const counts = new Map<string, number>();
  for (const item of planned) {
    const id = item.delivery.transactionId;
    counts.set(id, (counts.get(id) ?? 0) + item.facts.length);
  }
  const sequences = [...counts]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, n]) => ({ id, n }));
  const result = await trx.raw(
    `with u as (
       select * from json_to_recordset(?::json) as u(id text, state text, finished timestamptz,
         delivered boolean, set_schedule boolean, next_number int, next_at timestamptz, last_number int,
         resend_number int)
     ),
     d as (
       update webhook_deliveries w set
         state = u.state,
         attempts = w.attempts + 1,
         last_attempt_at = u.finished,
         delivered_at = case when u.delivered then u.finished else w.delivered_at end,
         next_attempt_number = case when u.set_schedule then u.next_number else w.next_attempt_number end,
         next_attempt_at = case when u.set_schedule then u.next_at else w.next_attempt_at end,
         last_attempt_number = case when u.set_schedule then u.last_number else w.last_attempt_number end,
         -- the pending back-office resend is no longer pending once its attempt is recorded
         resend_pending_number = case when w.resend_pending_number = u.resend_number then null
           else w.resend_pending_number end,
         updated_at = now()
       from u where w.id = u.id
     ),
     s as materialized (
       select t.id, x.n from transactions t
       join json_to_recordset(?::json) as x(id text, n int) on x.id = t.id
       order by t.id
       for update of t
     )
     update transactions t set last_sequence = t.last_sequence + s.n
     from s where t.id = s.id
     returning t.id, t.last_sequence`,
    [JSON.stringify(deliveries), JSON.stringify(sequences)],
  );
  const next = new Map<string, number>();
  for (const row of result.rows as Array<{ id: string; last_sequence: string | number }>) {
    next.set(row.id, Number(row.last_sequence) - counts.get(row.id)! + 1);
  }
  const firsts = new Map<Planned, number>();
  for (const item of planned) {
    const id = item.delivery.transactionId;
    const first = next.get(id);
    if (first === undefined) throw new Error(`transaction ${id} does not exist`);
    firsts.set(item, first);
    next.set(id, first + item.facts.length);
  }
  return firsts;
}

function attemptRow({ record, decision }: Planned): Record<string, unknown> {
  const { command, result } = record;
  return {
    delivery_id: command.deliveryId,
    attempt_number: command.attemptNumber,
    trigger: command.trigger,
    requested_by: command.requestedBy,
    url: record.url,
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
  };
}
