/**
 * Provider callbacks as PSPs really send them, through the whole platform: before the answer to our
 * request, before we know the provider's reference (parked), twenty times over, contradicting
 * themselves, and for attempts we already gave up on. Each scenario checks what the merchant sees
 * (status, webhooks), what support sees (timeline, attempts, callbacks) and what ops see (metrics).
 *
 * PROVIDER_TIMEOUT_MS is 6 s here: scripted hangs below it are slow answers, above it timeouts. The
 * hangs leave the platform seconds for what must happen meanwhile (a callback parked or applied).
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import Stripe from 'stripe';
import { eventually } from '../support/eventually.js';
import { startTestPlatform } from '../support/platform.js';
import { expectInOrder, FlowDriver, type Row } from './flow-driver.js';

const PROVIDER_TIMEOUT_MS = 6_000;
const HANDLED = 'provider_callbacks_handled_total';
const ALERTS = 'payment_charge_alerts_total';

describe('provider callbacks through the platform (embedded broker on PGlite)', function () {
  this.timeout(90_000);
  let flow: FlowDriver;

  before(async () => {
    flow = new FlowDriver(await startTestPlatform({ PROVIDER_TIMEOUT_MS: String(PROVIDER_TIMEOUT_MS) }));
  });
  after(async () => flow?.t.stop());

  /** Waits until `count` callbacks of the transaction were decided (none parked) and returns them. */
  const handledCallbacks = async (transactionId: string, count: number): Promise<Row[]> => {
    let rows: Row[] = [];
    await eventually(
      async () =>
        (rows = await flow.callbacks(transactionId)).filter((c) => c.state !== 'parked').length >= count,
      30_000,
      `${count} handled callbacks`,
    );
    return rows;
  };
  const waitForEntry = (transactionId: string, type: string) =>
    eventually(
      async () => (await flow.timelineTypes(transactionId)).includes(type),
      30_000,
      `${type} on the timeline`,
    );

  it('applies a callback that arrives while our request is still open; the late answer changes nothing', async () => {
    // The provider approves and notifies at once, but holds the HTTP answer for 2.5 s.
    await flow.sim.addScenario({
      match: { amountMinor: 7250 },
      behaviour: {
        kind: 'timeout',
        hangMs: 2_500,
        then: { kind: 'approved', callbacks: [{ outcome: 'approved' }] },
      },
    });
    const { transactionId } = await flow.deposit(7250);
    await flow.waitForStatus(transactionId, 'approved');
    await waitForEntry(transactionId, 'ProviderRequestSucceeded');
    const [callback] = await handledCallbacks(transactionId, 1);
    const [attempt, ...others] = await flow.attempts(transactionId);
    expect(others, 'no other attempt').to.have.length(0);
    expect(attempt).to.include({ state: 'succeeded', outcome: 'approved' });
    expect(callback).to.include({ state: 'processed', attempt_id: attempt!.id });
    expect(new Date(callback!.processed_at).getTime()).to.be.below(new Date(attempt!.finished_at).getTime());
    expectInOrder(await flow.timelineTypes(transactionId), [
      'ProviderRequestStarted',
      'ProviderCallbackReceived',
      'ProviderCallbackProcessed',
      'TransactionStatusChanged',
      'MerchantWebhookRequested',
      'ProviderRequestSucceeded',
    ]);
    expect(await flow.statusChanges(transactionId)).to.deep.equal([
      'CREATED->PROCESSING',
      'PROCESSING->APPROVED',
    ]);
    await flow.waitForWebhooks(transactionId, 1);
    expect(flow.webhooksFor(transactionId).map((w) => w.payload.status)).to.deep.equal(['approved']);
  });

  it('never falls back after the provider confirmed by callback, even when our request then times out', async () => {
    await flow.sim.addScenario({
      match: { amountMinor: 7350 },
      behaviour: { kind: 'timeout', then: { kind: 'approved', callbacks: [{ outcome: 'approved' }] } },
    });
    const { transactionId } = await flow.deposit(7350);
    await flow.waitForStatus(transactionId, 'approved');
    await waitForEntry(transactionId, 'ProviderRequestFailed'); // after PROVIDER_TIMEOUT_MS
    const attempts = await flow.attempts(transactionId);
    expect(attempts, 'no second attempt, no second charge').to.have.length(1);
    expect(attempts[0]).to.include({
      state: 'failed',
      failure_kind: 'timeout',
      outcome_unknown: true,
      outcome: 'approved',
    });
    const failure = (await flow.timeline(transactionId)).find((e) => e.type === 'ProviderRequestFailed');
    expect(failure!.internal).to.include({ failureKind: 'timeout', fallbackAvailable: false });
    expect(await flow.timelineTypes(transactionId)).to.not.include('RoutingFailed');
    expect(await flow.simPayments(transactionId)).to.have.length(1);
    await flow.waitForWebhooks(transactionId, 1);
    expect(flow.webhooksFor(transactionId).map((w) => w.payload.status)).to.deep.equal(['approved']);
  });

  it('parks a callback that names only the provider reference until the attempt knows it, then applies it', async () => {
    // USD routes to stripe-sim first. The provider creates the payment, then holds its answer for
    // 3.5 s: meanwhile it notifies with nothing but its own payment id (no merchant reference).
    await flow.sim.addScenario({
      match: { provider: 'stripe-sim', amountMinor: 7450 },
      behaviour: { kind: 'timeout', hangMs: 3_500, then: { kind: 'redirect' } },
    });
    const handledBefore = await flow.metric(HANDLED, { provider: 'stripe-sim', result: 'parked' });
    const { transactionId } = await flow.deposit(7450, 'USD');
    let payment: Row | undefined;
    await eventually(
      async () => (payment = (await flow.simPayments(transactionId))[0]) !== undefined,
      30_000,
      'the payment at the provider',
    );
    const event = JSON.stringify({
      id: `evt_${randomBytes(12).toString('hex')}`,
      object: 'event',
      type: 'payment_intent.succeeded',
      data: {
        object: { id: payment!.id, object: 'payment_intent', amount: 7450, currency: 'usd', metadata: {} },
      },
    });
    const posted = await fetch(`${flow.t.url}/callbacks/stripe-sim`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'stripe-signature': Stripe.webhooks.generateTestHeaderString({
          payload: event,
          secret: flow.t.config.providers.secrets['stripe-sim']![0]!,
        }),
      },
      body: event,
    });
    expect(posted.status).to.equal(200);
    const byReference = () => flow.knex('provider_callbacks').where({ provider_reference: payment!.id });
    await eventually(
      async () => (await byReference()).some((c) => c.state === 'parked'),
      30_000,
      'the callback parked',
    );
    expect(await flow.metric('provider_callbacks_parked')).to.be.at.least(1);
    expect(await flow.metric(HANDLED, { provider: 'stripe-sim', result: 'parked' })).to.be.above(
      handledBefore,
    );

    await flow.waitForStatus(transactionId, 'approved');
    const [callback] = await byReference();
    const [attempt] = await flow.attempts(transactionId);
    expect(callback).to.include({
      state: 'processed',
      transaction_id: transactionId,
      attempt_id: attempt!.id,
    });
    expect(attempt).to.include({ state: 'succeeded', provider_reference: payment!.id });
    expectInOrder(await flow.timelineTypes(transactionId), [
      'ProviderRequestStarted',
      'ProviderRequestSucceeded',
      'TransactionStatusChanged',
      'ProviderCallbackReceived',
      'ProviderCallbackProcessed',
      'TransactionStatusChanged',
    ]);
    expect((await flow.statusChanges(transactionId)).slice(-2)).to.deep.equal([
      'PROCESSING->AWAITING_PROVIDER',
      'AWAITING_PROVIDER->APPROVED',
    ]);
    expect(await flow.metric('provider_callbacks_parked')).to.equal(0);
  });

  it('applies twenty copies of a callback once: one status change, one webhook', async () => {
    // Two notifications (ten deliveries each, as a provider retrying), both saying "approved".
    await flow.sim.addScenario({
      match: { amountMinor: 7520 },
      behaviour: {
        kind: 'redirect',
        callbacks: [
          { outcome: 'approved', copies: 10 },
          { outcome: 'approved', copies: 10 },
        ],
      },
    });
    const duplicatesBefore = await flow.metric(HANDLED, { result: 'ignored_duplicate' });
    const { transactionId, hostedPaymentUrl } = await flow.deposit(7520);
    await flow.checkout((await flow.waitForState(hostedPaymentUrl, 'redirect')).redirectUrl);
    const callbacks = await handledCallbacks(transactionId, 20);
    expect(callbacks).to.have.length(20);
    expect(callbacks.filter((c) => c.state === 'processed')).to.have.length(1);
    expect(callbacks.filter((c) => c.state === 'ignored' && c.ignored_reason === 'duplicate')).to.have.length(
      19,
    );
    const timeline = await flow.timeline(transactionId);
    expect(timeline.filter((e) => e.type === 'ProviderCallbackReceived')).to.have.length(20);
    expect(
      timeline.filter((e) => e.type === 'ProviderCallbackIgnored').map((e) => e.internal.reason),
    ).to.deep.equal(Array(19).fill('duplicate'));
    expect((await flow.statusChanges(transactionId)).filter((c) => c.endsWith('->APPROVED'))).to.have.length(
      1,
    );
    expect(timeline.filter((e) => e.type === 'MerchantWebhookRequested')).to.have.length(1);
    expect(await flow.metric(HANDLED, { result: 'ignored_duplicate' })).to.equal(duplicatesBefore + 19);
    await flow.waitForWebhooks(transactionId, 1);
    await waitForEntry(transactionId, 'MerchantWebhookDelivered');
    expect(flow.webhooksFor(transactionId)).to.have.length(1);
  });

  it('records a contradicting late decline as ignored (conflicting) and counts it', async () => {
    const conflictsBefore = await flow.metric(HANDLED, { result: 'ignored_conflicting' });
    const { transactionId, hostedPaymentUrl } = await flow.deposit(7612); // …12: approved, then declined
    await flow.checkout((await flow.waitForState(hostedPaymentUrl, 'redirect')).redirectUrl);
    const callbacks = await handledCallbacks(transactionId, 2);
    expect(callbacks.map((c) => [c.outcome, c.state, c.ignored_reason])).to.deep.equal([
      ['approved', 'processed', null],
      ['declined', 'ignored', 'conflicting'],
    ]);
    const ignored = (await flow.timeline(transactionId)).filter((e) => e.type === 'ProviderCallbackIgnored');
    expect(ignored).to.have.length(1);
    expect(ignored[0]!.internal).to.include({ reason: 'conflicting', alert: null });
    expect(ignored[0]!.merchantView, 'internal only').to.equal(null);
    expect(await flow.metric(HANDLED, { result: 'ignored_conflicting' })).to.equal(conflictsBefore + 1);
    expect((await flow.t.transaction(transactionId)).status).to.equal('approved');
    expect((await flow.statusChanges(transactionId)).at(-1)).to.equal('AWAITING_PROVIDER->APPROVED');
    await flow.waitForWebhooks(transactionId, 1);
    expect(flow.webhooksFor(transactionId).map((w) => w.payload.status)).to.deep.equal(['approved']);
  });

  it('falls back after a timeout and flags a late success of the timed-out attempt as a double charge', async () => {
    // The first Adyen account takes the payment but never answers in time; the next one approves.
    await flow.sim.addScenario({
      match: { provider: 'adyen-sim', amountMinor: 7707 },
      times: 1,
      behaviour: { kind: 'timeout', then: { kind: 'redirect' } },
    });
    const alertsBefore = await flow.metric(ALERTS, { kind: 'double_charge' });
    const { transactionId } = await flow.deposit(7707); // …07: approved synchronously
    await flow.waitForStatus(transactionId, 'approved');
    const [timedOut, approved] = await flow.attempts(transactionId);
    expect(timedOut).to.include({ state: 'failed', failure_kind: 'timeout', outcome_unknown: true });
    expect(approved).to.include({ state: 'succeeded', outcome: 'approved' });
    const failure = (await flow.timeline(transactionId)).find((e) => e.type === 'ProviderRequestFailed');
    expect(failure!.internal).to.include({
      failureKind: 'timeout',
      outcomeUnknown: true,
      fallbackAvailable: true,
    });
    await handledCallbacks(transactionId, 1); // the second attempt's own approval callback

    // The timed-out request went through after all: the customer completes it at the provider.
    const payments = await flow.simPayments(transactionId);
    expect(payments).to.have.length(2);
    const late = payments.find((p) => p.idempotencyKey === timedOut!.idempotency_key)!;
    await flow.checkout(flow.checkoutUrlOf(late));
    await eventually(
      async () => (await flow.metric(ALERTS, { kind: 'double_charge' })) === alertsBefore + 1,
      30_000,
      'the double-charge alert',
    );
    const flagged = (await flow.timeline(transactionId)).filter(
      (e) => e.type === 'ProviderCallbackIgnored' && e.internal.alert === 'double_charge',
    );
    expect(flagged).to.have.length(1);
    expect(flagged[0]!.internal).to.include({ reason: 'conflicting', attemptId: timedOut!.id });
    expect((await flow.attempts(transactionId))[0]).to.include({ outcome: 'approved' });
    expect((await flow.statusChanges(transactionId)).filter((c) => c.endsWith('->APPROVED'))).to.have.length(
      1,
    );
    await flow.waitForWebhooks(transactionId, 1);
    expect(flow.webhooksFor(transactionId)).to.have.length(1);
  });

  it('flags an approval that arrives after the transaction was rejected as a late success', async () => {
    // From 1000.00 EUR only the main Adyen account may take the payment; a timeout there stops routing.
    await flow.sim.addScenario({
      match: { provider: 'adyen-sim', amountMinor: 150_050 },
      behaviour: { kind: 'timeout', then: { kind: 'redirect' } },
    });
    const alertsBefore = await flow.metric(ALERTS, { kind: 'late_success' });
    const { transactionId } = await flow.deposit(150_050);
    await flow.waitForStatus(transactionId, 'rejected');
    expect(await flow.attempts(transactionId)).to.have.length(1);
    const [payment] = await flow.simPayments(transactionId);
    await flow.checkout(flow.checkoutUrlOf(payment!));
    const [callback] = await handledCallbacks(transactionId, 1);
    expect(callback).to.include({ state: 'ignored', ignored_reason: 'late' });
    const ignored = (await flow.timeline(transactionId)).find((e) => e.type === 'ProviderCallbackIgnored');
    expect(ignored!.internal).to.include({ reason: 'late', alert: 'late_success' });
    expect(await flow.metric(ALERTS, { kind: 'late_success' })).to.equal(alertsBefore + 1);
    expect((await flow.t.transaction(transactionId)).status, 'a final status never changes').to.equal(
      'rejected',
    );
    await flow.waitForWebhooks(transactionId, 1);
    expect(flow.webhooksFor(transactionId).map((w) => w.payload.status)).to.deep.equal(['rejected']);
  });

  it('flags a synchronous approval that arrives after another attempt already approved the transaction', async () => {
    // Attempt 1 times out (the provider took it); attempt 2 is slow (3 s). While attempt 2 is still
    // open, the customer completes attempt 1 at the provider: its callback approves the transaction.
    // Then attempt 2 answers "approved" too: two charges for one payment.
    await flow.sim.addScenario({
      match: { amountMinor: 7850 },
      times: 1,
      behaviour: { kind: 'timeout', hangMs: 3_000, then: { kind: 'approved', callbacks: [] } },
    });
    await flow.sim.addScenario({
      match: { amountMinor: 7850 },
      times: 1,
      behaviour: { kind: 'timeout', then: { kind: 'redirect' } },
    });
    const alertsBefore = await flow.metric(ALERTS, { kind: 'double_charge' });
    const { transactionId } = await flow.deposit(7850);
    await eventually(
      async () => (await flow.simPayments(transactionId)).length === 2,
      30_000,
      'the second attempt at the provider',
    );
    const [first] = await flow.attempts(transactionId);
    const late = (await flow.simPayments(transactionId)).find(
      (p) => p.idempotencyKey === first!.idempotency_key,
    )!;
    await flow.checkout(flow.checkoutUrlOf(late));
    await flow.waitForStatus(transactionId, 'approved');
    await eventually(
      async () => (await flow.attempts(transactionId))[1]?.state === 'succeeded',
      30_000,
      'the second answer recorded',
    );
    const [approvedByCallback, approvedByAnswer] = await flow.attempts(transactionId);
    expect(approvedByCallback).to.include({ outcome: 'approved' });
    expect(approvedByAnswer).to.include({ outcome: 'approved' });
    expect(await flow.metric(ALERTS, { kind: 'double_charge' })).to.equal(alertsBefore + 1);
    const answer = (await flow.timeline(transactionId)).find(
      (e) => e.type === 'ProviderRequestSucceeded' && e.internal.attemptId === approvedByAnswer!.id,
    );
    expect(answer!.internal).to.include({ outcome: 'approved', alert: 'double_charge' });
    expect((await flow.statusChanges(transactionId)).filter((c) => c.endsWith('->APPROVED'))).to.have.length(
      1,
    );
    await flow.waitForWebhooks(transactionId, 1);
    expect(flow.webhooksFor(transactionId)).to.have.length(1);
  });
});
