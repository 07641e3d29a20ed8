import { expect } from 'chai';
import fc from 'fast-check';
import type { CallbackFacts, PaymentOutcome } from '../../processor/connectors/types.js';
import { decideAttemptOutcome, type AttemptRef } from '../../processor/decisions/attempt-outcome.js';
import { decideCallback, type CallbackInput } from '../../processor/decisions/callback.js';
import { IllegalTransitionError, statusChangeFacts } from '../../processor/decisions/status-change.js';
import { TRANSACTION_STATUSES, isTerminal, type TransactionStatus } from '../../core/transactions/status.js';

const attempt: AttemptRef = {
  id: 'att_1',
  number: 1,
  providerId: 'stripe-sim',
  subMidId: 'stripe-eu-1',
  group: 0,
  idempotencyKey: 'tx_1:1',
};
const tx = (status: TransactionStatus) => ({ status, amountMinor: 1250, currency: 'EUR' });
const types = (facts: { type: string }[]) => facts.map((f) => f.type);
const next = {
  providerId: 'adyen-sim',
  subMidId: 'adyen-eu-1',
  group: 1,
  groupFallback: 'stop' as const,
  velocity: [],
};

describe('status change facts', () => {
  it('asks for a merchant webhook only when what the merchant sees changes', () => {
    const internal = statusChangeFacts({
      from: 'PROCESSING',
      to: 'AWAITING_PROVIDER',
      reason: null,
      amountMinor: 1,
      currency: 'EUR',
    });
    expect(types(internal)).to.deep.equal(['TransactionStatusChanged']);
    expect(internal[0]!.merchantView).to.equal(null);
    const final = statusChangeFacts({
      from: 'AWAITING_PROVIDER',
      to: 'APPROVED',
      reason: null,
      amountMinor: 1,
      currency: 'EUR',
      newWebhookId: () => 'msg_1',
    });
    expect(types(final)).to.deep.equal(['TransactionStatusChanged', 'MerchantWebhookRequested']);
    expect(final[1]!.payload).to.deep.equal({
      webhookId: 'msg_1',
      webhookType: 'transaction.status_changed',
      status: 'approved',
    });
  });

  it('refuses every transition out of a terminal status', () => {
    for (const from of TRANSACTION_STATUSES.filter(isTerminal)) {
      for (const to of TRANSACTION_STATUSES) {
        expect(() => statusChangeFacts({ from, to, reason: null, amountMinor: 1, currency: 'EUR' })).to.throw(
          IllegalTransitionError,
        );
      }
    }
  });
});

describe('decideAttemptOutcome', () => {
  const decide = (outcome: PaymentOutcome, status: TransactionStatus = 'PROCESSING', candidate = next) =>
    decideAttemptOutcome({
      transaction: tx(status),
      sessionId: 'ps_1',
      attempt,
      outcome,
      nextCandidate: () => candidate,
    });

  it('redirect: the attempt succeeded, the customer is sent to the provider', () => {
    const d = decide({
      kind: 'redirect',
      providerReference: 'pi_1',
      redirectUrl: 'https://psp/checkout/pi_1',
    });
    expect(d.status).to.equal('AWAITING_PROVIDER');
    expect(d.session).to.deep.equal({ state: 'redirect_ready', redirectUrl: 'https://psp/checkout/pi_1' });
    expect(d.attempt).to.include({ state: 'succeeded', providerReference: 'pi_1' });
    expect(types(d.facts)).to.deep.equal(['ProviderRequestSucceeded', 'TransactionStatusChanged']);
  });

  it('missing fields: the hosted page asks the customer, the attempt waits', () => {
    const fields = [{ name: 'phone', kind: 'tel', required: true, pattern: null, label: 'Phone' }];
    const d = decide({ kind: 'customer_data_required', providerReference: 'ref', fields });
    expect(d.status).to.equal('AWAITING_CUSTOMER_DATA');
    expect(d.attempt.state).to.equal('awaiting_customer_data');
    expect(d.session).to.deep.equal({ state: 'customer_data_required', requiredFields: fields });
    expect(types(d.facts)).to.include('CustomerDataRequested');
  });

  it('decline is final: no fallback, the merchant is told', () => {
    const d = decide({ kind: 'declined', providerReference: 'pi_1', code: 'card_declined' });
    expect(d.status).to.equal('DECLINED');
    expect(d.nextAttempt).to.equal(null);
    expect(types(d.facts)).to.deep.equal([
      'ProviderRequestFailed',
      'TransactionStatusChanged',
      'MerchantWebhookRequested',
    ]);
  });

  for (const failureKind of [
    'provider_error',
    'timeout',
    'velocity_limited',
    'inactive_config',
    'network',
  ] as const) {
    it(`${failureKind}: falls back to the next candidate, and rejects when none is left`, () => {
      const outcome: PaymentOutcome = {
        kind: 'failed',
        failureKind,
        code: null,
        outcomeUnknown: failureKind === 'timeout',
      };
      const fallback = decide(outcome);
      expect(fallback.nextAttempt).to.deep.equal(next);
      expect(fallback.status).to.equal(null);
      expect(fallback.facts[0]!.payload).to.include({
        fallbackAvailable: true,
        outcomeUnknown: failureKind === 'timeout',
      });
      const none = decide(outcome, 'PROCESSING', null as never);
      expect(none.nextAttempt).to.equal(null);
      expect(none.status).to.equal('REJECTED');
      expect(types(none.facts)).to.deep.equal([
        'ProviderRequestFailed',
        'RoutingFailed',
        'TransactionStatusChanged',
        'MerchantWebhookRequested',
      ]);
    });
  }

  it('never changes a terminal transaction, whatever the provider answers', () => {
    const outcomes = fc.constantFrom<PaymentOutcome>(
      { kind: 'approved', providerReference: 'p' },
      { kind: 'redirect', providerReference: 'p', redirectUrl: 'https://x' },
      { kind: 'declined', providerReference: null, code: null },
      { kind: 'failed', failureKind: 'timeout', code: null, outcomeUnknown: true },
      { kind: 'pending', providerReference: 'p' },
    );
    const terminal = fc.constantFrom(...TRANSACTION_STATUSES.filter(isTerminal));
    fc.assert(
      fc.property(outcomes, terminal, (outcome, status) => {
        const d = decide(outcome, status);
        expect(d.status).to.equal(null);
        expect(d.nextAttempt).to.equal(null);
        expect(d.session).to.equal(null);
        expect(types(d.facts)).not.to.include('TransactionStatusChanged');
      }),
    );
  });

  it('flags an approving answer the final status does not account for, once per approval', () => {
    const approved: PaymentOutcome = { kind: 'approved', providerReference: 'p' };
    const answer = (status: TransactionStatus, approvedElsewhere: boolean) =>
      decideAttemptOutcome({
        transaction: tx(status),
        sessionId: 'ps_1',
        attempt,
        outcome: approved,
        nextCandidate: () => null,
        approvedElsewhere,
      });
    expect(answer('PROCESSING', false).alert).to.equal(null);
    expect(answer('APPROVED', false).alert, "approved by this attempt's own callback").to.equal(null);
    const double = answer('APPROVED', true);
    expect(double.alert).to.equal('double_charge');
    expect(double.facts[0]!.internal).to.include({ outcome: 'approved', alert: 'double_charge' });
    for (const status of ['DECLINED', 'REJECTED', 'EXPIRED'] as const)
      expect(answer(status, false).alert, status).to.equal('late_success');
    const redirect = decideAttemptOutcome({
      transaction: tx('APPROVED'),
      sessionId: 'ps_1',
      attempt,
      outcome: { kind: 'redirect', providerReference: 'p', redirectUrl: 'https://x' },
      nextCandidate: () => null,
      approvedElsewhere: true,
    });
    expect(redirect.alert, 'not charged yet: the customer is never sent there').to.equal(null);
  });

  it('keeps the outcome a callback reported while the answer was on its way', () => {
    for (const outcome of [
      { kind: 'pending', providerReference: 'p' },
      { kind: 'failed', failureKind: 'timeout', code: null, outcomeUnknown: true },
    ] as PaymentOutcome[]) {
      const d = decideAttemptOutcome({
        transaction: tx('APPROVED'),
        sessionId: 'ps_1',
        attempt,
        outcome,
        nextCandidate: () => next,
        callbackOutcome: 'approved',
      });
      expect(d.attempt.outcome, outcome.kind).to.equal('approved');
      expect(d.nextAttempt, 'never a fallback after an approval').to.equal(null);
    }
    const unsettled = decide({ kind: 'pending', providerReference: 'p' });
    expect(unsettled.attempt.outcome).to.equal('pending');
  });
});

describe('decideCallback', () => {
  const callback = (outcome: CallbackFacts['outcome'], notificationId = 'n1'): CallbackFacts => ({
    providerReference: 'pi_1',
    attemptId: null,
    notificationId,
    outcome,
    providerStatus: outcome,
    amountMinor: 1250,
    currency: 'EUR',
  });
  const input = (over: Partial<CallbackInput>): CallbackInput => ({
    callbackId: 'cb_1',
    providerId: 'stripe-sim',
    callback: callback('approved'),
    transaction: tx('AWAITING_PROVIDER'),
    attempt: { id: 'att_1', outcome: 'redirect_ready' },
    currentAttemptId: 'att_1',
    approvedAttemptIds: [],
    duplicateNotification: false,
    ...over,
  });

  it('approves a waiting transaction once; the same notification again is a duplicate', () => {
    const first = decideCallback(input({}));
    expect(first).to.include({ kind: 'apply', status: 'APPROVED' });
    expect(types(first.facts)).to.deep.equal([
      'ProviderCallbackProcessed',
      'TransactionStatusChanged',
      'MerchantWebhookRequested',
    ]);
    const again = decideCallback(input({ duplicateNotification: true }));
    expect(again).to.include({ kind: 'ignore', reason: 'duplicate', alert: null });
  });

  it('ignores a conflicting decline after approval, without a status change', () => {
    const d = decideCallback(
      input({
        callback: callback('declined', 'n2'),
        transaction: tx('APPROVED'),
        approvedAttemptIds: ['att_1'],
      }),
    );
    expect(d).to.include({ kind: 'ignore', reason: 'conflicting' });
    expect(types(d.facts)).to.deep.equal(['ProviderCallbackIgnored']);
  });

  it('flags a double charge when a second attempt is approved', () => {
    const d = decideCallback(
      input({
        transaction: tx('APPROVED'),
        attempt: { id: 'att_1', outcome: null },
        currentAttemptId: 'att_2',
        approvedAttemptIds: ['att_2'],
      }),
    );
    expect(d).to.include({ kind: 'ignore', reason: 'conflicting', alert: 'double_charge' });
  });

  it('flags a late success when a timed-out attempt is approved after the transaction was rejected', () => {
    const d = decideCallback(input({ transaction: tx('REJECTED') }));
    expect(d).to.include({ kind: 'ignore', reason: 'late', alert: 'late_success' });
  });

  it('records a pending notification without changing anything', () => {
    const d = decideCallback(input({ callback: callback('pending') }));
    expect(d).to.include({ kind: 'apply', status: null });
  });

  it('a decline of an abandoned older attempt does not decline the transaction', () => {
    const d = decideCallback(
      input({ callback: callback('declined'), currentAttemptId: 'att_2', transaction: tx('PROCESSING') }),
    );
    expect(d).to.include({ kind: 'apply', status: null });
  });

  it('never changes a terminal status, for any callback', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TRANSACTION_STATUSES.filter(isTerminal)),
        fc.constantFrom<CallbackFacts['outcome']>('approved', 'declined', 'pending'),
        fc.boolean(),
        (status, outcome, duplicate) => {
          const d = decideCallback(
            input({ transaction: tx(status), callback: callback(outcome), duplicateNotification: duplicate }),
          );
          expect(d.kind).to.equal('ignore');
          expect(types(d.facts)).not.to.include('TransactionStatusChanged');
        },
      ),
    );
  });
});
