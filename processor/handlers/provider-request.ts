/**
 * Drives one payment attempt: ProviderRequestStarted -> connector.createPayment, and
 * CustomerDataSubmitted -> connector.submitCustomerData for the attempt waiting for those fields.
 *
 * The provider call happens outside any DB transaction, guarded by the attempt's state rather than
 * the inbox: if the process dies mid-call the message is redelivered, the attempt is still in the
 * state it was, and the call is made again with the SAME idempotency key (the provider returns the
 * first result; never a second charge). The answer is applied under the transaction's row lock and
 * only if the attempt is still in that state, so two deliveries racing apply it once.
 */
import type { Knex } from 'knex';
import type { EventEnvelope, EventOf } from '../../schemas/index.js';
import type { PaymentOutcome, PaymentRequest } from '../connectors/types.js';
import { attemptStartedFact, decideAttemptOutcome } from '../decisions/attempt-outcome.js';
import type { ProcessorDeps } from '../ports.js';
import type { VelocityLookup } from '../routing/types.js';
import {
  attemptToDrive,
  attemptUpdate,
  attemptsOf,
  failuresOf,
  newAttempt,
  readPlan,
  type AttemptRow,
} from '../store/attempts.js';
import { lockTransaction, type TransactionRow } from '../store/transactions.js';
import { loadVelocity } from '../store/velocity.js';
import { drainParkedCallbacks } from './provider-callback.js';
import { record, type Writes } from './record.js';

export async function onProviderRequestStarted(
  deps: ProcessorDeps,
  event: EventOf<'ProviderRequestStarted'>,
): Promise<void> {
  const found = await attemptToDrive(deps.knex, { id: event.payload.attemptId });
  if (!found || found.attempt.state !== 'started') return;
  await driveAttempt(deps, found, 'started', event.envelope, (connector, request) =>
    connector.createPayment(request, { timeoutMs: deps.providerTimeoutMs }),
  );
}

export async function onCustomerDataSubmitted(
  deps: ProcessorDeps,
  event: EventOf<'CustomerDataSubmitted'>,
): Promise<void> {
  const found = await attemptToDrive(deps.knex, {
    transactionId: event.envelope.transactionId,
    state: 'awaiting_customer_data',
  });
  if (!found) return;
  await driveAttempt(deps, found, 'awaiting_customer_data', event.envelope, (connector, request) =>
    connector.submitCustomerData(request, found.attempt.providerReference, {
      timeoutMs: deps.providerTimeoutMs,
    }),
  );
}

async function driveAttempt(
  deps: ProcessorDeps,
  { attempt, transaction: tx }: { attempt: AttemptRow; transaction: TransactionRow },
  expectedState: string,
  cause: Pick<EventEnvelope, 'eventId' | 'correlationId'>,
  call: (
    connector: ReturnType<ProcessorDeps['connector']>,
    request: PaymentRequest,
  ) => Promise<PaymentOutcome>,
): Promise<void> {
  const { knex, metrics } = deps;
  const started = Date.now();
  const outcome = await call(deps.connector(attempt.providerId), paymentRequest(deps, tx, attempt));
  metrics.attempt(
    attempt.providerId,
    outcome.kind === 'failed' ? outcome.failureKind : outcome.kind,
    (Date.now() - started) / 1000,
  );

  // Only a failure may fall back to another candidate: only then are velocity usage and the plan needed.
  const fallback = outcome.kind === 'failed';
  const now = (deps.clock ?? (() => new Date()))();
  const velocity: VelocityLookup | null = fallback
    ? await loadVelocity(knex, deps.routing.velocityWindows(), now)
    : null;
  const applied = await knex.transaction(async (trx: Knex.Transaction) => {
    const locked = await lockTransaction(trx, tx.id);
    if (!locked) return null;
    // Read under the lock: every writer of this transaction's attempts holds it, so this is current.
    const attempts = await attemptsOf(trx, tx.id);
    const current = attempts.find((a) => a.id === attempt.id);
    if (current?.state !== expectedState) return null;
    const plan = fallback ? await readPlan(trx, tx.id) : [];
    const decision = decideAttemptOutcome({
      transaction: locked,
      sessionId: locked.sessionId,
      attempt,
      outcome,
      // A callback may have settled this attempt while we waited for the answer.
      callbackOutcome: current.outcome,
      approvedElsewhere: attempts.some((a) => a.id !== attempt.id && a.outcome === 'approved'),
      nextCandidate: () =>
        velocity
          ? deps.routing.next(
              { candidates: plan, amountMinor: locked.amountMinor },
              [...failuresOf(attempts), { subMidId: attempt.subMidId, failureKind: failureKindOf(outcome) }],
              velocity,
            )
          : null,
    });
    const writes: Required<Writes> = {
      inserts: [],
      updates: [attemptUpdate(trx, attempt.id, decision.attempt)],
    };
    const facts = [...decision.facts];
    if (decision.nextAttempt) {
      const number = Math.max(0, ...attempts.map((a) => a.number)) + 1;
      const next = newAttempt(locked, decision.nextAttempt, number);
      writes.inserts.push(next.rows);
      facts.push(attemptStartedFact(next.attempt));
    }
    await record(
      trx,
      locked,
      { facts, status: decision.status, session: decision.session },
      cause,
      metrics,
      writes,
    );
    return { reference: decision.attempt.providerReference, alert: decision.alert };
  });
  if (applied?.alert) {
    metrics.chargeAlert(applied.alert);
    deps.logger.error('payment needs review: provider charged outside the transaction outcome', {
      alert: applied.alert,
      attempt: attempt.id,
    });
  }
  if (applied?.reference) await drainParkedCallbacks(deps, attempt.providerId, applied.reference);
}

function failureKindOf(outcome: PaymentOutcome) {
  return outcome.kind === 'failed' ? outcome.failureKind : 'declined';
}

function paymentRequest(deps: ProcessorDeps, tx: TransactionRow, attempt: AttemptRow): PaymentRequest {
  return {
    account: deps.routing.account(attempt.subMidId),
    idempotencyKey: attempt.idempotencyKey,
    attemptId: attempt.id,
    transactionId: tx.id,
    amountMinor: tx.amountMinor,
    currency: tx.currency,
    paymentMethod: tx.paymentMethod,
    customer: tx.customer,
    returnUrl: deps.returnUrl(tx.sessionId),
    callbackUrl: `${deps.publicBaseUrl.replace(/\/+$/, '')}/callbacks/${attempt.providerId}`,
  };
}
