/**
 * Writes one decision of the orchestrator: the new status and session state, and the facts (events +
 * timeline) — inside the caller's DB transaction, so all of it commits with the inbox/attempt change.
 */
import type { Knex } from 'knex';
import { appendFacts, type Fact } from '../../core/transactions/journal.js';
import type { TransactionStatus } from '../../core/transactions/status.js';
import type { EventEnvelope } from '../../schemas/index.js';
import type { SessionUpdate } from '../decisions/attempt-outcome.js';
import type { ProcessorMetrics } from '../metrics.js';
import { statusColumns, updateSession, type TransactionRow } from '../store/transactions.js';

export interface Outcome {
  facts: Fact[];
  status?: TransactionStatus | null;
  reason?: string | null;
  session?: SessionUpdate | null;
}

export async function record(
  trx: Knex.Transaction,
  transaction: TransactionRow,
  outcome: Outcome,
  cause: Pick<EventEnvelope, 'eventId' | 'correlationId'> | undefined,
  metrics: ProcessorMetrics,
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
  if (outcome.session) await updateSession(trx, transaction.id, outcome.session);
  await appendFacts(
    trx,
    { transactionId: transaction.id, merchantId: transaction.merchantId },
    outcome.facts,
    { cause, set },
  );
  trx.executionPromise?.then(
    () => transitions.forEach((t) => metrics.transition(t.fromStatus ?? 'none', t.toStatus)),
    () => undefined,
  );
}
