/**
 * DepositRequested -> routing. In one DB transaction (with the inbox row): CREATED -> PROCESSING,
 * RoutingStarted, then either RoutingCompleted + the first attempt (ProviderRequestStarted, which the
 * provider-request handler drives) or RoutingFailed -> REJECTED. No provider I/O here. The plan, the
 * attempt and the facts are written by one statement (see record.ts).
 */
import { processOnce } from '../../core/inbox.js';
import { fact, type Fact } from '../../core/transactions/journal.js';
import type { EventOf } from '../../schemas/index.js';
import { attemptStartedFact } from '../decisions/attempt-outcome.js';
import { statusChangeFacts } from '../decisions/status-change.js';
import type { ProcessorDeps } from '../ports.js';
import { newAttempt, planRows } from '../store/attempts.js';
import { lockForRouting } from '../store/velocity.js';
import { record } from './record.js';

export const PROCESSOR_CONSUMER = 'processor';

export async function onDepositRequested(
  deps: ProcessorDeps,
  event: EventOf<'DepositRequested'>,
): Promise<void> {
  const { knex, routing, metrics } = deps;
  const now = (deps.clock ?? (() => new Date()))();
  await processOnce(knex, PROCESSOR_CONSUMER, event.envelope.eventId, async (trx) => {
    const locked = await lockForRouting(trx, event.envelope.transactionId, routing.velocityWindows(), now);
    if (!locked) throw new Error(`transaction ${event.envelope.transactionId} not found`);
    const { transaction: tx, velocity } = locked;
    if (tx.status !== 'CREATED') return;
    const money = { amountMinor: tx.amountMinor, currency: tx.currency };
    const decision = routing.plan(
      {
        merchantId: tx.merchantId,
        amountMinor: tx.amountMinor,
        currency: tx.currency,
        country: tx.country,
        paymentMethod: tx.paymentMethod,
      },
      velocity,
    );
    const facts: Fact[] = [
      ...statusChangeFacts({ from: 'CREATED', to: 'PROCESSING', reason: 'routing', ...money }),
      fact('RoutingStarted', { routingRulesVersion: decision.rulesVersion }, null),
    ];
    if (!decision.ok) {
      facts.push(
        fact('RoutingFailed', { reason: decision.reason, detail: decision.detail }, null),
        ...statusChangeFacts({ from: 'PROCESSING', to: 'REJECTED', reason: decision.reason, ...money }),
      );
      await record(trx, tx, { facts, session: { state: 'failed' } }, event.envelope, metrics);
      return;
    }
    // A CREATED transaction has no attempts yet: this is attempt 1.
    const { attempt, rows } = newAttempt(tx, decision.candidates[0]!, 1);
    facts.push(
      fact(
        'RoutingCompleted',
        {
          routingRulesVersion: decision.rulesVersion,
          candidates: decision.candidates.map(({ providerId, subMidId, group }) => ({
            providerId,
            subMidId,
            group,
          })),
        },
        null,
        { internal: { ruleId: decision.ruleId, candidates: decision.candidates } },
      ),
      attemptStartedFact(attempt),
    );
    await record(trx, tx, { facts }, event.envelope, metrics, { inserts: [planRows(tx.id, decision), rows] });
  });
}
