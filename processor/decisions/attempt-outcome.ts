/**
 * What the orchestrator does with a provider's answer to one attempt. Pure: the caller loads the
 * transaction and attempt, asks the connector, and applies the decision in one DB transaction.
 *
 *   redirect            -> attempt succeeded, AWAITING_PROVIDER, hosted page redirects the customer
 *   customer data       -> attempt waits, AWAITING_CUSTOMER_DATA, hosted page shows the form
 *   pending             -> attempt succeeded, AWAITING_PROVIDER (the callback decides)
 *   approved            -> APPROVED
 *   declined            -> DECLINED (a decline is the customer's outcome: no fallback)
 *   failed (error, timeout, velocity, inactive config, network)
 *                       -> next candidate per routing, or REJECTED when none is left
 * A transaction that already reached a terminal status (a fast callback) keeps it: the answer is
 * still recorded, nothing else changes — except that an approval the final status does not account
 * for raises a charge alert (another attempt already approved it: double charge; the transaction
 * ended otherwise: late success), as the same approval arriving by callback would.
 * What a callback already told about the attempt (approved/declined) is the provider's final word and
 * stays the attempt's outcome, whatever the slower answer says (pending, redirect, a timeout).
 */
import type { PaymentOutcome } from '../connectors/types.js';
import type { PlannedCandidate } from '../routing/types.js';
import { fact, type Fact } from '../../core/transactions/journal.js';
import { canTransition, isTerminal, type TransactionStatus } from '../../core/transactions/status.js';
import { statusChangeFacts } from './status-change.js';

export interface AttemptRef {
  id: string;
  number: number;
  providerId: string;
  subMidId: string;
  group: number;
  idempotencyKey: string;
}

export interface TransactionSnapshot {
  status: TransactionStatus;
  amountMinor: number;
  currency: string;
}

export type SessionUpdate =
  | { state: 'redirect_ready'; redirectUrl: string }
  | { state: 'customer_data_required'; requiredFields: unknown[] }
  | { state: 'loading' | 'completed' | 'failed' };

export interface AttemptUpdate {
  state: 'succeeded' | 'failed' | 'awaiting_customer_data';
  outcome: string | null;
  failureKind: string | null;
  providerErrorCode: string | null;
  outcomeUnknown: boolean;
  providerReference: string | null;
}

/** Money moved in a way the transaction's outcome does not account for: needs a refund or review. */
export type ChargeAlert = 'double_charge' | 'late_success';

export interface AttemptDecision {
  attempt: AttemptUpdate;
  alert: ChargeAlert | null;
  facts: Fact[];
  status: TransactionStatus | null;
  session: SessionUpdate | null;
  /** Start this candidate next (fallback). */
  nextAttempt: PlannedCandidate | null;
}

export interface AttemptOutcomeInput {
  transaction: TransactionSnapshot;
  sessionId: string;
  attempt: AttemptRef;
  outcome: PaymentOutcome;
  /** Asked only after a failure that allows fallback. */
  nextCandidate: () => PlannedCandidate | null;
  /** The outcome a callback already reported for this attempt (approved, declined), if any. */
  callbackOutcome?: string | null;
  /** Another attempt of this transaction was approved by the provider. */
  approvedElsewhere?: boolean;
}

const FINAL_OUTCOMES: readonly string[] = ['approved', 'declined'];

/** The alert an approval deserves when the transaction already has a final status (else none). */
export function approvalAlert(status: TransactionStatus, approvedElsewhere: boolean): ChargeAlert | null {
  if (!isTerminal(status)) return null;
  if (status === 'APPROVED') return approvedElsewhere ? 'double_charge' : null;
  return 'late_success';
}

export function attemptStartedFact(attempt: AttemptRef): Fact {
  return fact(
    'ProviderRequestStarted',
    {
      attemptId: attempt.id,
      attemptNumber: attempt.number,
      providerId: attempt.providerId,
      subMidId: attempt.subMidId,
      providerIdempotencyKey: attempt.idempotencyKey,
    },
    { message: 'payment attempt started', attemptNumber: attempt.number },
  );
}

export function decideAttemptOutcome(input: AttemptOutcomeInput): AttemptDecision {
  const { attempt, outcome, transaction } = input;
  const base = { providerId: attempt.providerId, subMidId: attempt.subMidId, attemptId: attempt.id };
  const move = (
    to: TransactionStatus,
    reason: string,
  ): { status: TransactionStatus | null; facts: Fact[] } =>
    !isTerminal(transaction.status) && transaction.status !== to && canTransition(transaction.status, to)
      ? {
          status: to,
          facts: statusChangeFacts({
            from: transaction.status,
            to,
            reason,
            amountMinor: transaction.amountMinor,
            currency: transaction.currency,
          }),
        }
      : { status: null, facts: [] };
  const alert =
    outcome.kind === 'approved' ? approvalAlert(transaction.status, input.approvedElsewhere ?? false) : null;
  const succeeded = (outcomeName: string, providerReference: string | null): Fact => {
    const payload = { ...base, providerReference, outcome: outcomeName };
    return fact('ProviderRequestSucceeded', payload, null, alert ? { internal: { ...payload, alert } } : {});
  };
  const settled =
    input.callbackOutcome && FINAL_OUTCOMES.includes(input.callbackOutcome) ? input.callbackOutcome : null;
  const done = (
    update: AttemptUpdate,
    facts: Fact[],
    change: { status: TransactionStatus | null; facts: Fact[] },
    session: SessionUpdate | null,
    nextAttempt: PlannedCandidate | null = null,
  ): AttemptDecision => ({
    attempt: settled ? { ...update, outcome: settled } : update,
    alert,
    facts: [...facts, ...change.facts],
    status: change.status,
    session: change.status === null && isTerminal(transaction.status) ? null : session,
    nextAttempt,
  });
  const ok = (outcomeName: string, providerReference: string | null): AttemptUpdate => ({
    state: 'succeeded',
    outcome: outcomeName,
    failureKind: null,
    providerErrorCode: null,
    outcomeUnknown: false,
    providerReference,
  });

  switch (outcome.kind) {
    case 'redirect':
      return done(
        ok('redirect_ready', outcome.providerReference),
        [succeeded('redirect_ready', outcome.providerReference)],
        move('AWAITING_PROVIDER', 'customer_redirected'),
        { state: 'redirect_ready', redirectUrl: outcome.redirectUrl },
      );
    case 'pending':
      return done(
        ok('pending', outcome.providerReference),
        [succeeded('pending', outcome.providerReference)],
        move('AWAITING_PROVIDER', 'provider_pending'),
        { state: 'loading' },
      );
    case 'approved':
      return done(
        ok('approved', outcome.providerReference),
        [succeeded('approved', outcome.providerReference)],
        move('APPROVED', 'provider_approved'),
        { state: 'completed' },
      );
    case 'customer_data_required':
      return done(
        { ...ok('customer_data_required', outcome.providerReference), state: 'awaiting_customer_data' },
        [
          succeeded('customer_data_required', outcome.providerReference),
          fact(
            'CustomerDataRequested',
            { attemptId: attempt.id, sessionId: input.sessionId, fields: outcome.fields },
            { message: 'additional customer data requested', fields: outcome.fields.map((f) => f.name) },
          ),
        ],
        move('AWAITING_CUSTOMER_DATA', 'customer_data_required'),
        { state: 'customer_data_required', requiredFields: outcome.fields },
      );
    case 'declined':
      return done(
        {
          state: 'failed',
          outcome: 'declined',
          failureKind: 'declined',
          providerErrorCode: outcome.code,
          outcomeUnknown: false,
          providerReference: outcome.providerReference,
        },
        [
          fact(
            'ProviderRequestFailed',
            {
              ...base,
              failureKind: 'declined',
              providerErrorCode: outcome.code,
              fallbackAvailable: false,
              outcomeUnknown: false,
            },
            null,
          ),
        ],
        move('DECLINED', 'provider_declined'),
        { state: 'failed' },
      );
    case 'failed': {
      const next = isTerminal(transaction.status) ? null : input.nextCandidate();
      const update: AttemptUpdate = {
        state: 'failed',
        outcome: null,
        failureKind: outcome.failureKind,
        providerErrorCode: outcome.code,
        outcomeUnknown: outcome.outcomeUnknown,
        providerReference: null,
      };
      const failed = fact(
        'ProviderRequestFailed',
        {
          ...base,
          failureKind: outcome.failureKind,
          providerErrorCode: outcome.code,
          fallbackAvailable: next !== null,
          outcomeUnknown: outcome.outcomeUnknown,
        },
        null,
      );
      if (next !== null) return done(update, [failed], { status: null, facts: [] }, null, next);
      const routingFailed = fact(
        'RoutingFailed',
        { reason: 'all_candidates_failed', detail: `last failure: ${outcome.failureKind}` },
        null,
      );
      return done(
        update,
        isTerminal(transaction.status) ? [failed] : [failed, routingFailed],
        move('REJECTED', 'all_candidates_failed'),
        { state: 'failed' },
      );
    }
  }
}
