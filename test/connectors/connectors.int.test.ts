/**
 * Both provider connectors against the running provider simulator over real HTTP, one suite for each:
 * every behaviour the orchestrator relies on (redirect, customer fields, decline, timeout with an unknown
 * outcome, 5xx, velocity, inactive account), idempotent re-drives that never create a second payment,
 * and the callbacks the simulator sends — verified by the Provider Gateway's verifiers — parsed back
 * into facts that name the same payment and attempt.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  createAdyenSimConnector,
  createStripeSimConnector,
  type CallbackFacts,
  type PaymentOutcome,
  type PaymentRequest,
  type ProviderConnector,
} from '../../processor/connectors/index.js';
import type { RunningSimulator } from '../../provider-simulator/index.js';
import {
  startCallbackReceiver,
  startTestSimulator,
  type CallbackReceiver,
  type SimControl,
} from '../support/simulator.js';

interface ProviderCase {
  id: 'stripe-sim' | 'adyen-sim';
  connector: ProviderConnector;
  credentials: Record<string, string>;
  /** What the simulator calls the account (scenarios match on it). */
  account: string;
  /** The magic "requires fields" amount asks for these (our names). */
  requiredFields: string[];
  declineCode: string;
}

const CASES: ProviderCase[] = [
  {
    id: 'stripe-sim',
    connector: createStripeSimConnector(),
    credentials: { apiKey: 'sk_test_connector_suite', stripeAccount: 'acct_suite1' },
    account: 'acct_suite1',
    requiredFields: ['email', 'phone'],
    declineCode: 'card_declined',
  },
  {
    id: 'adyen-sim',
    connector: createAdyenSimConnector(),
    credentials: { apiKey: 'AQE_test_api_key_suite', merchantAccount: 'SuiteMerchantECOM' },
    account: 'SuiteMerchantECOM',
    requiredFields: ['email', 'phone', 'dateOfBirth'],
    declineCode: 'Refused',
  },
];

const TIMEOUT = { timeoutMs: 5_000 };

function headersOf(received: CallbackReceiver['received'][number]): Record<string, string> {
  return Object.fromEntries(
    Object.entries(received.headers).map(([name, value]) => [
      name,
      Array.isArray(value) ? value.join(', ') : (value ?? ''),
    ]),
  );
}

function providerRef(outcome: PaymentOutcome): string {
  if (!('providerReference' in outcome) || outcome.providerReference === null)
    throw new Error(`no provider reference in ${JSON.stringify(outcome)}`);
  return outcome.providerReference;
}

for (const provider of CASES) {
  describe(`${provider.id} connector against the provider simulator`, function () {
    this.timeout(20_000);
    let sim: RunningSimulator;
    let control: SimControl;
    let receiver: CallbackReceiver;

    before(async () => {
      const started = await startTestSimulator();
      sim = started.sim;
      control = started.control;
      receiver = await startCallbackReceiver(started.secrets);
    });
    after(async () => {
      await sim.close();
      await receiver.close();
    });

    function request(amountMinor: number, overrides: Partial<PaymentRequest> = {}): PaymentRequest {
      const attemptId = `att_${randomUUID()}`;
      return {
        account: {
          subMidId: `submid-${provider.id}`,
          providerId: provider.id,
          apiBaseUrl: sim.apiBaseUrls[provider.id],
          credentials: provider.credentials,
        },
        idempotencyKey: attemptId,
        attemptId,
        transactionId: `tx_${randomUUID()}`,
        amountMinor,
        currency: 'EUR',
        paymentMethod: 'card',
        customer: {},
        returnUrl: 'https://pay.example.test/return/sess_1',
        callbackUrl: receiver.callbackUrl(provider.id),
        ...overrides,
      };
    }

    /** Facts of every callback received so far for `reference`, in arrival order. */
    function factsFor(reference: string): CallbackFacts[] {
      return receiver.received
        .filter((r) => r.provider === provider.id)
        .flatMap((r) => provider.connector.parseCallback(r.body, headersOf(r)))
        .filter((fact) => fact.providerReference === reference);
    }

    async function completeCheckout(redirectUrl: string, action: 'pay' | 'cancel' = 'pay'): Promise<string> {
      const page = await fetch(redirectUrl);
      expect(page.status).to.equal(200);
      expect(await page.text()).to.contain('id="pay"');
      const submitted = await fetch(redirectUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `action=${action}`,
        redirect: 'manual',
      });
      expect(submitted.status).to.equal(303);
      return submitted.headers.get('location')!;
    }

    it('redirects to the provider page; paying there returns the customer and sends an approved callback', async () => {
      const req = request(1000);
      const outcome = await provider.connector.createPayment(req, TIMEOUT);
      expect(outcome.kind).to.equal('redirect');
      if (outcome.kind !== 'redirect') return;
      expect(outcome.redirectUrl.startsWith(sim.url)).to.equal(true);

      const location = await completeCheckout(outcome.redirectUrl);
      expect(location.startsWith(req.returnUrl)).to.equal(true);
      await sim.callbacksIdle();

      const received = receiver.received.filter((r) => r.provider === provider.id);
      expect(received.every((r) => r.verified)).to.equal(true);
      expect(factsFor(outcome.providerReference)).to.deep.equal([
        {
          providerReference: outcome.providerReference,
          attemptId: req.attemptId,
          notificationId: factsFor(outcome.providerReference)[0]!.notificationId,
          outcome: 'approved',
          providerStatus: provider.id === 'stripe-sim' ? 'payment_intent.succeeded' : 'AUTHORISATION:true',
          amountMinor: 1000,
          currency: 'EUR',
        },
      ]);
    });

    it('a re-driven request with the same idempotency key gets the same payment, never a second one', async () => {
      const req = request(2500);
      const first = await provider.connector.createPayment(req, TIMEOUT);
      const again = await provider.connector.createPayment(req, TIMEOUT);
      expect(again).to.deep.equal(first);
      expect(await control.paymentCount({ idempotencyKey: req.idempotencyKey })).to.equal(1);
      expect(await control.paymentCount({ transactionId: req.transactionId })).to.equal(1);
      const log = await control.get<{ requests: { replayed: boolean }[] }>('requests', {
        idempotencyKey: req.idempotencyKey,
      });
      expect(log.requests.map((r) => r.replayed)).to.deep.equal([false, true]);
    });

    it('asks for the missing customer fields in our names, then continues with them to a redirect', async () => {
      const req = request(1004);
      const outcome = await provider.connector.createPayment(req, TIMEOUT);
      expect(outcome.kind).to.equal('customer_data_required');
      if (outcome.kind !== 'customer_data_required') return;
      expect(outcome.fields.map((f) => f.name)).to.deep.equal(provider.requiredFields);
      expect(outcome.fields.every((f) => f.required)).to.equal(true);
      expect(outcome.fields.find((f) => f.name === 'email')!.kind).to.equal('email');

      const filled = {
        ...req,
        customer: { email: 'ada@example.test', phone: '+44 20 7946 0000', dateOfBirth: '1990-12-10' },
      };
      const continued = await provider.connector.submitCustomerData(
        filled,
        outcome.providerReference,
        TIMEOUT,
      );
      expect(continued.kind).to.equal('redirect');
      expect(providerRef(continued)).to.equal(outcome.providerReference);
      // Re-driving the same submission replays it.
      expect(
        await provider.connector.submitCustomerData(filled, outcome.providerReference, TIMEOUT),
      ).to.deep.equal(continued);
      expect(await control.paymentCount({ idempotencyKey: req.idempotencyKey })).to.equal(1);
    });

    it('asks only for the fields the merchant did not send', async () => {
      const outcome = await provider.connector.createPayment(
        request(1004, { customer: { email: 'ada@example.test' } }),
        TIMEOUT,
      );
      expect(outcome.kind).to.equal('customer_data_required');
      if (outcome.kind === 'customer_data_required')
        expect(outcome.fields.map((f) => f.name)).to.deep.equal(
          provider.requiredFields.filter((f) => f !== 'email'),
        );
    });

    it('maps a decline, and the declined callback that follows', async () => {
      const outcome = await provider.connector.createPayment(request(1001), TIMEOUT);
      expect(outcome).to.deep.include({ kind: 'declined', code: provider.declineCode });
      await sim.callbacksIdle();
      expect(factsFor(providerRef(outcome)).map((f) => f.outcome)).to.deep.equal(['declined']);
    });

    it('maps approved and pending answers; a pending payment settles through callbacks', async () => {
      const approved = await provider.connector.createPayment(request(1007), TIMEOUT);
      expect(approved.kind).to.equal('approved');
      await control.addScenario({
        match: { provider: provider.id, amountMinor: 1008 },
        behaviour: {
          kind: 'pending',
          callbacks: [{ outcome: 'pending' }, { outcome: 'approved', deliverAfterMs: 50 }],
        },
      });
      const pending = await provider.connector.createPayment(request(1008), TIMEOUT);
      expect(pending.kind).to.equal('pending');
      await sim.callbacksIdle();
      expect(factsFor(providerRef(pending)).map((f) => f.outcome)).to.deep.equal(['pending', 'approved']);
    });

    it('a timeout is a failure with an unknown outcome; re-driving with the same key finds the payment', async () => {
      const req = request(1003);
      const outcome = await provider.connector.createPayment(req, { timeoutMs: 300 });
      expect(outcome).to.deep.equal({
        kind: 'failed',
        failureKind: 'timeout',
        code: 'timeout',
        outcomeUnknown: true,
      });
      const redriven = await provider.connector.createPayment(req, TIMEOUT);
      expect(redriven.kind).to.equal('redirect');
      expect(await control.paymentCount({ transactionId: req.transactionId })).to.equal(1);
    });

    it('5xx: 503 is a provider error that processed nothing; 500 may have been processed', async () => {
      const unavailable = await provider.connector.createPayment(request(1002), TIMEOUT);
      expect(unavailable).to.deep.include({
        kind: 'failed',
        failureKind: 'provider_error',
        outcomeUnknown: false,
      });

      const req = request(3000);
      await control.addScenario({
        match: { transactionId: req.transactionId },
        behaviour: { kind: 'server_error', status: 500 },
      });
      const internal = await provider.connector.createPayment(req, TIMEOUT);
      expect(internal).to.deep.include({
        kind: 'failed',
        failureKind: 'provider_error',
        outcomeUnknown: true,
      });
      expect(await control.paymentCount({ transactionId: req.transactionId })).to.equal(0);
    });

    it('velocity limit and inactive account are failures that created nothing', async () => {
      const velocity = request(1005);
      expect(await provider.connector.createPayment(velocity, TIMEOUT)).to.deep.include({
        kind: 'failed',
        failureKind: 'velocity_limited',
        outcomeUnknown: false,
      });
      const inactive = request(1006);
      expect(await provider.connector.createPayment(inactive, TIMEOUT)).to.deep.include({
        kind: 'failed',
        failureKind: 'inactive_config',
        outcomeUnknown: false,
      });
      for (const req of [velocity, inactive])
        expect(await control.paymentCount({ transactionId: req.transactionId })).to.equal(0);
    });

    it('scenarios match on the account: one SUB MID inactive, the same request elsewhere fine', async () => {
      await control.addScenario({
        match: { provider: provider.id, account: provider.account },
        behaviour: { kind: 'inactive_account' },
        times: 1,
      });
      const refused = await provider.connector.createPayment(request(1000), TIMEOUT);
      expect(refused).to.deep.include({ kind: 'failed', failureKind: 'inactive_config' });
      expect((await provider.connector.createPayment(request(1000), TIMEOUT)).kind).to.equal('redirect');
    });

    it('refused credentials are an inactive configuration; missing ones are not even sent', async () => {
      const bad = request(1000);
      bad.account = {
        ...bad.account,
        credentials:
          provider.id === 'stripe-sim'
            ? { apiKey: 'sk_live_nope' }
            : { apiKey: 'short', merchantAccount: 'M' },
      };
      expect(await provider.connector.createPayment(bad, TIMEOUT)).to.deep.include({
        kind: 'failed',
        failureKind: 'inactive_config',
        outcomeUnknown: false,
      });
      const before = (await control.get<{ requests: unknown[] }>('requests')).requests.length;
      const missing = request(1000);
      missing.account = { ...missing.account, credentials: {} };
      expect(await provider.connector.createPayment(missing, TIMEOUT)).to.deep.equal({
        kind: 'failed',
        failureKind: 'inactive_config',
        code: 'missing_credentials',
        outcomeUnknown: false,
      });
      expect((await control.get<{ requests: unknown[] }>('requests')).requests.length).to.equal(before);
    });

    it('a customer who cancels on the provider page produces a declined callback', async () => {
      const outcome = await provider.connector.createPayment(request(1000), TIMEOUT);
      if (outcome.kind !== 'redirect') throw new Error(outcome.kind);
      await completeCheckout(outcome.redirectUrl, 'cancel');
      await sim.callbacksIdle();
      expect(factsFor(outcome.providerReference).map((f) => f.outcome)).to.deep.equal(['declined']);
    });

    it('never sends credentials or customer values to the request log', async () => {
      await provider.connector.createPayment(
        request(1000, { customer: { email: 'secret.person@example.test' } }),
        TIMEOUT,
      );
      const log = JSON.stringify(await control.get('requests'));
      const secrets = [provider.credentials.apiKey!];
      for (const secret of secrets) expect(log).not.to.contain(secret);
      expect(log).not.to.contain('secret.person@example.test');
    });
  });
}
