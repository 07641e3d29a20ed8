/**
 * The whole payment flow through the real platform (gateway, relay, processor, webhook dispatcher,
 * provider simulator) over real HTTP, on every broker: deposit -> hosted page -> provider -> callback ->
 * status -> signed merchant webhook, and the timeline that tells the story. The callback edge cases
 * (ordering, duplicates, conflicts, late successes) are in provider-callbacks.int.test.ts.
 */
import { expect } from 'chai';
import { sampleFieldValue } from '../../platform/demo/sample-values.js';
import { eventually } from '../support/eventually.js';
import { requireTestBackend, TEST_BACKENDS } from '../support/platform-backends.js';
import { startTestPlatform } from '../support/platform.js';
import { expectInOrder, FlowDriver } from './flow-driver.js';

for (const { backend, name } of TEST_BACKENDS) {
  describe(`payment flow: ${name}`, function () {
    this.timeout(90_000);
    let flow: FlowDriver;

    before(async function () {
      this.timeout(120_000);
      requireTestBackend(this, backend);
      flow = new FlowDriver(await startTestPlatform({}, { backend }));
    });
    after(async () => flow?.t.stop());

    it('approves a card payment: redirect, customer pays at the provider, callback, signed webhook', async () => {
      const { transactionId, hostedPaymentUrl } = await flow.deposit(1000);
      const redirect = await flow.waitForState(hostedPaymentUrl, 'redirect');
      expect(redirect.redirectUrl).to.match(/\/checkout\//);
      await flow.checkout(redirect.redirectUrl);
      await flow.waitForStatus(transactionId, 'approved');
      await flow.waitForWebhooks(transactionId, 1);
      const [webhook] = flow.webhooksFor(transactionId);
      expect(webhook!.verified).to.equal(true);
      expect(webhook!.payload).to.include({ transactionId, status: 'approved' });
      expect(await flow.hostedState(hostedPaymentUrl)).to.include({ state: 'completed' });
      await eventually(
        async () => (await flow.timelineTypes(transactionId)).includes('MerchantWebhookDelivered'),
        30_000,
        'the delivery on the timeline',
      );
      expectInOrder(await flow.timelineTypes(transactionId), [
        'DepositRequested',
        'PaymentSessionCreated',
        'TransactionStatusChanged',
        'RoutingStarted',
        'RoutingCompleted',
        'ProviderRequestStarted',
        'ProviderRequestSucceeded',
        'TransactionStatusChanged',
        'ProviderCallbackReceived',
        'ProviderCallbackProcessed',
        'TransactionStatusChanged',
        'MerchantWebhookRequested',
        'MerchantWebhookDelivered',
      ]);
      expect(await flow.statusChanges(transactionId)).to.deep.equal([
        'CREATED->PROCESSING',
        'PROCESSING->AWAITING_PROVIDER',
        'AWAITING_PROVIDER->APPROVED',
      ]);
    });

    it('falls back to the next provider account when the first answers 503, with one charge', async () => {
      await flow.sim.addScenario({
        match: { provider: 'adyen-sim', amountMinor: 2100 },
        behaviour: { kind: 'server_error', status: 503 },
      });
      const { transactionId, hostedPaymentUrl } = await flow.deposit(2100);
      const redirect = await flow.waitForState(hostedPaymentUrl, 'redirect');
      expect(redirect.redirectUrl).to.contain('/stripe-sim/');
      // adyen-eu-2 may be passed over for its 2-a-minute velocity limit: one or two Adyen attempts.
      const attempts = await flow.attempts(transactionId);
      const failed = attempts.slice(0, -1);
      expect(failed.length).to.be.within(1, 2);
      for (const attempt of failed)
        expect([attempt.provider_id, attempt.state, attempt.failure_kind]).to.deep.equal([
          'adyen-sim',
          'failed',
          'provider_error',
        ]);
      expect([attempts.at(-1)!.provider_id, attempts.at(-1)!.state]).to.deep.equal([
        'stripe-sim',
        'succeeded',
      ]);
      expect(await flow.simPayments(transactionId), 'one payment at the providers').to.have.length(1);
      const types = await flow.timelineTypes(transactionId);
      expect(types.filter((type) => type === 'ProviderRequestStarted')).to.have.length(attempts.length);
      expect(types.filter((type) => type === 'ProviderRequestFailed')).to.have.length(failed.length);
      expect(types).to.not.include('RoutingFailed');
    });

    it('rejects when every candidate fails, and tells the merchant once', async () => {
      const { transactionId, hostedPaymentUrl } = await flow.deposit(3102);
      await flow.waitForStatus(transactionId, 'rejected');
      expect(await flow.hostedState(hostedPaymentUrl)).to.include({ state: 'failed' });
      await flow.waitForWebhooks(transactionId, 1);
      expect(flow.webhooksFor(transactionId).map((w) => w.payload.status)).to.deep.equal(['rejected']);
      const types = await flow.timelineTypes(transactionId);
      expectInOrder(types, ['ProviderRequestFailed', 'RoutingFailed']);
      expect((await flow.statusChanges(transactionId)).at(-1)).to.equal('PROCESSING->REJECTED');
      expect(await flow.simPayments(transactionId)).to.have.length(0);
    });

    it('declines without fallback when the provider declines', async () => {
      const { transactionId } = await flow.deposit(4101);
      await flow.waitForStatus(transactionId, 'declined');
      // The declined callback may be applied before the synchronous answer is recorded: wait for both.
      await eventually(
        async () => (await flow.timelineTypes(transactionId)).includes('ProviderRequestFailed'),
        30_000,
        'the recorded answer',
      );
      expect(await flow.attempts(transactionId)).to.have.length(1);
      const failure = (await flow.timeline(transactionId)).find((e) => e.type === 'ProviderRequestFailed');
      expect(failure?.internal).to.include({ failureKind: 'declined', fallbackAvailable: false });
      expect((await flow.statusChanges(transactionId)).at(-1)).to.equal('PROCESSING->DECLINED');
      await flow.waitForWebhooks(transactionId, 1);
      expect(flow.webhooksFor(transactionId)[0]!.payload.status).to.equal('declined');
    });

    it('asks the customer for missing fields on the hosted page, then continues to the provider', async () => {
      const { transactionId, hostedPaymentUrl } = await flow.deposit(5104);
      const form = await flow.waitForState(hostedPaymentUrl, 'form');
      expect(form.fields.length).to.be.greaterThan(0);
      const values = Object.fromEntries(
        (form.fields as Array<{ name: string; kind: string }>).map((f) => [
          f.name,
          sampleFieldValue(f.name, f.kind),
        ]),
      );
      const submitted = await fetch(`${hostedPaymentUrl}/customer-data`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: new URL(flow.t.url).origin },
        body: JSON.stringify({ values }),
      });
      expect(submitted.status, await submitted.clone().text()).to.be.oneOf([200, 202, 204]);
      const redirect = await flow.waitForState(hostedPaymentUrl, 'redirect');
      await flow.checkout(redirect.redirectUrl);
      await flow.waitForStatus(transactionId, 'approved');
      expectInOrder(await flow.timelineTypes(transactionId), [
        'ProviderRequestSucceeded',
        'CustomerDataRequested',
        'CustomerDataSubmitted',
        'ProviderRequestSucceeded',
        'ProviderCallbackProcessed',
      ]);
      expect(await flow.statusChanges(transactionId)).to.deep.equal([
        'CREATED->PROCESSING',
        'PROCESSING->AWAITING_CUSTOMER_DATA',
        'AWAITING_CUSTOMER_DATA->AWAITING_PROVIDER',
        'AWAITING_PROVIDER->APPROVED',
      ]);
      expect(await flow.attempts(transactionId), 'the same attempt continues').to.have.length(1);
    });

    it('applies a duplicated callback once: one status change, one webhook', async () => {
      const { transactionId, hostedPaymentUrl } = await flow.deposit(6110);
      const redirect = await flow.waitForState(hostedPaymentUrl, 'redirect');
      await flow.checkout(redirect.redirectUrl);
      await flow.waitForStatus(transactionId, 'approved');
      await eventually(
        async () => (await flow.callbacks(transactionId)).length >= 2,
        30_000,
        'both copies of the callback',
      );
      const callbacks = await flow.callbacks(transactionId);
      expect(callbacks.map((c) => [c.state, c.ignored_reason])).to.deep.equal([
        ['processed', null],
        ['ignored', 'duplicate'],
      ]);
      const timeline = await flow.timeline(transactionId);
      const ignored = timeline.filter((e) => e.type === 'ProviderCallbackIgnored');
      expect(ignored.map((e) => e.internal.reason)).to.deep.equal(['duplicate']);
      expect(await flow.statusChanges(transactionId)).to.include('AWAITING_PROVIDER->APPROVED');
      expect(
        (await flow.statusChanges(transactionId)).filter((c) => c.endsWith('->APPROVED')),
      ).to.have.length(1);
      expect(timeline.filter((e) => e.type === 'MerchantWebhookRequested')).to.have.length(1);
      await flow.waitForWebhooks(transactionId, 1);
      expect(flow.webhooksFor(transactionId)).to.have.length(1);
    });
  });
}
