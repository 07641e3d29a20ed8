/**
 * What a provider callback does to its transaction. Pure; the caller has matched the callback to an
 * attempt (by provider reference) and loads the facts below inside the transaction's row lock.
 *
 * - A notification the provider already sent (same notification id) is a duplicate: ignored.
 * - A terminal transaction never changes: the same outcome again is a duplicate; an approval for a
 *   different attempt than the approved one is a suspected double charge; an approval after a failure
 *   (a timed-out attempt that went through late) is a late success; both raise an alert.
 * - Otherwise approved -> APPROVED; declined for the current attempt -> DECLINED (a decline of an
 *   older, already abandoned attempt changes nothing); pending -> recorded, no change.
 */
import type { CallbackFacts } from '../connectors/types.js';
import { fact, type Fact } from '../../core/transactions/journal.js';
import { canTransition, isTerminal, type TransactionStatus } from '../../core/transactions/status.js';
import type { ChargeAlert, SessionUpdate, TransactionSnapshot } from './attempt-outcome.js';
import { statusChangeFacts } from './status-change.js';

export type CallbackAlert = ChargeAlert;

export interface CallbackInput {
  callbackId: string;
  providerId: string;
  callback: CallbackFacts;
  transaction: TransactionSnapshot;
  attempt: { id: string; outcome: string | null };
  /** The transaction's latest attempt. */
  currentAttemptId: string;
  /** Attempts of this transaction already known to be approved. */
  approvedAttemptIds: readonly string[];
  /** This provider notification id was already processed or ignored. */
  duplicateNotification: boolean;
}

export type CallbackDecision =
  | {
      kind: 'ignore';
      reason: 'duplicate' | 'late' | 'conflicting';
      detail: string;
      alert: CallbackAlert | null;
      facts: Fact[];
    }
  | {
      kind: 'apply';
      status: TransactionStatus | null;
      attemptOutcome: 'approved' | 'declined' | null;
      session: SessionUpdate | null;
      facts: Fact[];
    };

export function decideCallback(input: CallbackInput): CallbackDecision {
  const { callback, transaction, attempt } = input;
  const ignore = (
    reason: 'duplicate' | 'late' | 'conflicting',
    detail: string,
    alert: CallbackAlert | null = null,
  ): CallbackDecision => ({
    kind: 'ignore',
    reason,
    detail,
    alert,
    facts: [
      fact(
        'ProviderCallbackIgnored',
        { callbackId: input.callbackId, providerId: input.providerId, reason, detail },
        null,
        {
          internal: { reason, detail, alert, attemptId: attempt.id, providerStatus: callback.providerStatus },
        },
      ),
    ],
  });
  const processed = (resultingStatus: TransactionStatus | null): Fact =>
    fact(
      'ProviderCallbackProcessed',
      {
        callbackId: input.callbackId,
        providerId: input.providerId,
        providerStatus: callback.providerStatus,
        resultingStatus,
      },
      null,
    );

  if (input.duplicateNotification)
    return ignore('duplicate', `notification ${callback.notificationId} already seen`);

  if (isTerminal(transaction.status)) {
    const status = transaction.status;
    if (callback.outcome === 'approved') {
      if (status === 'APPROVED') {
        return input.approvedAttemptIds.includes(attempt.id) || input.approvedAttemptIds.length === 0
          ? ignore('duplicate', 'transaction already approved by this attempt')
          : ignore(
              'conflicting',
              'a second attempt was approved for an approved transaction',
              'double_charge',
            );
      }
      return ignore('late', `approval arrived after the transaction became ${status}`, 'late_success');
    }
    if (callback.outcome === 'declined') {
      return status === 'DECLINED'
        ? ignore('duplicate', 'transaction already declined')
        : ignore('conflicting', `decline contradicts the final status ${status}`);
    }
    return ignore('late', `pending notification after the transaction became ${status}`);
  }

  if (callback.outcome === 'pending') {
    return { kind: 'apply', status: null, attemptOutcome: null, session: null, facts: [processed(null)] };
  }
  const to: TransactionStatus = callback.outcome === 'approved' ? 'APPROVED' : 'DECLINED';
  if (to === 'DECLINED' && attempt.id !== input.currentAttemptId) {
    return {
      kind: 'apply',
      status: null,
      attemptOutcome: 'declined',
      session: null,
      facts: [processed(null)],
    };
  }
  if (!canTransition(transaction.status, to)) {
    return ignore('conflicting', `cannot move from ${transaction.status} to ${to}`);
  }
  return {
    kind: 'apply',
    status: to,
    attemptOutcome: callback.outcome,
    session: { state: to === 'APPROVED' ? 'completed' : 'failed' },
    facts: [
      processed(to),
      ...statusChangeFacts({
        from: transaction.status,
        to,
        reason: to === 'APPROVED' ? 'provider_approved' : 'provider_declined',
        amountMinor: transaction.amountMinor,
        currency: transaction.currency,
      }),
    ],
  };
}
