/**
 * Expires transactions whose payment session ran out before the customer finished: the merchant gets
 * a final `expired` status. A provider approval that still arrives later is flagged as a late success
 * (see decisions/callback.ts), so nobody is charged silently for an expired transaction.
 */
import type { Knex } from 'knex';
import { statusChangeFacts } from '../decisions/status-change.js';
import type { ProcessorDeps } from '../ports.js';
import { lockTransaction } from '../store/transactions.js';
import { record } from './record.js';

const EXPIRABLE = ['CREATED', 'AWAITING_CUSTOMER_DATA', 'AWAITING_PROVIDER'] as const;

export async function expireSessions(deps: ProcessorDeps, limit = 200): Promise<number> {
  const now = (deps.clock ?? (() => new Date()))();
  const due = await deps
    .knex('payment_sessions as s')
    .join('transactions as t', 't.id', 's.transaction_id')
    .where('s.expires_at', '<', now)
    .whereIn('t.status', EXPIRABLE)
    .limit(limit)
    .pluck('t.id');
  let expired = 0;
  for (const id of due as string[]) {
    await deps.knex.transaction(async (trx: Knex.Transaction) => {
      const tx = await lockTransaction(trx, id);
      if (!tx || !(EXPIRABLE as readonly string[]).includes(tx.status)) return;
      const facts = statusChangeFacts({
        from: tx.status,
        to: 'EXPIRED',
        reason: 'payment_session_expired',
        amountMinor: tx.amountMinor,
        currency: tx.currency,
      });
      await record(trx, tx, { facts, session: { state: 'failed' } }, undefined, deps.metrics);
      expired++;
    });
  }
  return expired;
}
