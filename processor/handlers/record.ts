/**
 * Writes one decision of the orchestrator — the new status and session state, the facts (events +
 * timeline), and the handler's own rows (attempts, plan, callback state) — as ONE statement inside the
 * caller's DB transaction (core/db/insert-all.ts), so all of it commits with the inbox/attempt change.
 *
 * The facts are numbered from the transaction row the caller read under its lock (lockTransaction):
 * every writer of `last_sequence` updates the row, so nobody can number facts in between; the
 * transactions update still names the number it read and the decision is refused (the caller's DB
 * transaction rolls back) should the row not match.
 */
import type { Knex } from 'knex';
import { insertAll, type RowUpdate, type TableRows } from '../../core/db/insert-all.js';
import { OUTBOX_CHANNEL } from '../../core/outbox/index.js';
import { journalEntries, type Fact } from '../../core/transactions/journal.js';
import type { TransactionStatus } from '../../core/transactions/status.js';
import type { EventEnvelope } from '../../schemas/index.js';
import type { SessionUpdate } from '../decisions/attempt-outcome.js';
import type { ProcessorMetrics } from '../metrics.js';
import { sessionUpdate, statusColumns, type TransactionRow } from '../store/transactions.js';

export interface Outcome {
  facts: Fact[];
  status?: TransactionStatus | null;
  reason?: string | null;
  session?: SessionUpdate | null;
}

/** The handler's own rows to write with the decision. */
export interface Writes {
  inserts?: TableRows[];
  updates?: RowUpdate[];
}

/** `transaction` must have been read by lockTransaction in `trx`; call once per DB transaction. */
export async function record(
  trx: Knex.Transaction,
  transaction: TransactionRow,
  outcome: Outcome,
  cause: Pick<EventEnvelope, 'eventId' | 'correlationId'> | undefined,
  metrics: ProcessorMetrics,
  writes: Writes = {},
): Promise<void> {
  const transitions = outcome.facts.flatMap((f) =>
    f.type === 'TransactionStatusChanged'
      ? [f.payload as { fromStatus: string | null; toStatus: string; reason: string | null }]
      : [],
  );
  const last = transitions.at(-1);
  const status = outcome.status ?? (last?.toStatus as TransactionStatus | undefined);
  const set =
    status && status !== transaction.status
      ? statusColumns(trx, status, outcome.reason ?? last?.reason ?? null)
      : undefined;
  const { facts } = outcome;
  const entries = journalEntries(
    { transactionId: transaction.id, merchantId: transaction.merchantId },
    facts,
    transaction.lastSequence + 1,
    { cause },
  );
  const updates: RowUpdate[] = [];
  if (set || facts.length > 0)
    updates.push({
      table: 'transactions',
      set: { ...set, last_sequence: transaction.lastSequence + facts.length },
      where: { id: transaction.id, last_sequence: transaction.lastSequence },
    });
  if (outcome.session) updates.push(sessionUpdate(trx, transaction.id, outcome.session));
  updates.push(...(writes.updates ?? []));
  const { updated } = await insertAll(trx, [...(writes.inserts ?? []), ...entries.tables], {
    notify: facts.length > 0 ? OUTBOX_CHANNEL : undefined,
    updates,
  });
  if (updates[0]?.table === 'transactions' && updated[0] !== 1)
    throw new Error(
      `transaction ${transaction.id} changed under its lock (sequence ${transaction.lastSequence})`,
    );
  trx.executionPromise?.then(
    () => transitions.forEach((t) => metrics.transition(t.fromStatus ?? 'none', t.toStatus)),
    () => undefined,
  );
}
