/**
 * The simulator's HTTP surface as a provider client and a tester see it: the two provider APIs (auth,
 * validation, idempotency replay and misuse, continuing with customer fields), the hosted checkout page,
 * and the `/_sim` control API (problems on bad input, scenario lifecycle, logs without secrets).
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import type { RunningSimulator } from '../../provider-simulator/index.js';
import { eventually } from '../support/eventually.js';
import {
  startCallbackReceiver,
  startTestSimulator,
  type CallbackReceiver,
  type SimControl,
} from '../support/simulator.js';

/** The members of provider answers this suite reads (Stripe PaymentIntent, Adyen payment answer). */
interface Answer {
  id: string;
  status: string;
  next_action: {
    type: string;
    redirect_to_url: { url: string };
    collect_customer_data: { fields: Array<{ name: string }> };
  };
  resultCode: string;
  pspReference: string;
  action: { type: string; url: string; paymentData: string; fields: Array<{ name: string }> };
}

const STRIPE_KEY = 'sk_test_api_suite_key';
const ADYEN_KEY = 'AQE_api_suite_key';

describe('provider simulator HTTP API', function () {
  this.timeout(15_000);
  let sim: RunningSimulator;
  let control: SimControl;
  let receiver: CallbackReceiver;

  before(async () => {
    const started = await startTestSimulator();
    ({ sim, control } = started);
    receiver = await startCallbackReceiver(started.secrets);
  });
  after(async () => {
    await sim.close();
    await receiver.close();
  });

  function stripe(path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
    return fetch(`${sim.apiBaseUrls['stripe-sim']}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${STRIPE_KEY}`,
        'content-type': 'application/x-www-form-urlencoded',
        ...headers,
      },
      body: new URLSearchParams(form),
    });
  }

  function adyen(path: string, body: unknown, headers: Record<string, string> = {}) {
    return fetch(`${sim.apiBaseUrls['adyen-sim']}${path}`, {
      method: 'POST',
      headers: { 'x-api-key': ADYEN_KEY, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  }

  const stripeForm = (amount: number, extra: Record<string, string> = {}): Record<string, string> => ({
    amount: String(amount),
    currency: 'eur',
    return_url: 'https://shop.test/return?session=s1',
    webhook_url: receiver.callbackUrl('stripe-sim'),
    'metadata[reference]': `att_${randomUUID()}`,
    ...extra,
  });

  const adyenBody = (value: number, extra: Record<string, unknown> = {}) => ({
    merchantAccount: 'ApiSuiteECOM',
    reference: `att_${randomUUID()}`,
    amount: { value, currency: 'EUR' },
    returnUrl: 'https://shop.test/return',
    notificationUrl: receiver.callbackUrl('adyen-sim'),
    ...extra,
  });

  describe('stripe-sim API', () => {
    it('creates a PaymentIntent from a form or JSON, with a redirect to the provider page', async () => {
      const form = await stripe('/v1/payment_intents', stripeForm(1000));
      expect(form.status).to.equal(200);
      const intent = (await form.json()) as Answer;
      expect(intent).to.deep.include({
        object: 'payment_intent',
        amount: 1000,
        currency: 'eur',
        status: 'requires_action',
      });
      expect(intent.next_action.type).to.equal('redirect_to_url');
      expect(intent.next_action.redirect_to_url.url).to.equal(`${sim.url}/stripe-sim/checkout/${intent.id}`);

      const json = await fetch(`${sim.apiBaseUrls['stripe-sim']}/v1/payment_intents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${STRIPE_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ amount: 1007, currency: 'usd', return_url: 'https://shop.test/r' }),
      });
      expect(((await json.json()) as { status: string }).status).to.equal('succeeded');
    });

    it('refuses missing or foreign keys with 401 and bad parameters with 400, Stripe-style', async () => {
      const none = await fetch(`${sim.apiBaseUrls['stripe-sim']}/v1/payment_intents`, { method: 'POST' });
      expect(none.status).to.equal(401);
      expect(((await none.json()) as { error: { type: string } }).error.type).to.equal(
        'invalid_request_error',
      );
      const live = await stripe('/v1/payment_intents', stripeForm(1000), {
        authorization: 'Bearer sk_live_abcdefgh',
      });
      expect(live.status).to.equal(401);
      const noAmount = await stripe('/v1/payment_intents', {
        currency: 'eur',
        return_url: 'https://shop.test/r',
      });
      expect(noAmount.status).to.equal(400);
      expect(((await noAmount.json()) as { error: { param: string } }).error.param).to.equal('amount');
      const badForm = await stripe('/v1/payment_intents', { '__proto__[x]': '1' });
      expect(badForm.status).to.equal(400);
    });

    it('replays the stored answer for a reused key and refuses the key with other parameters', async () => {
      const key = randomUUID();
      const form = stripeForm(1001);
      const first = await stripe('/v1/payment_intents', form, { 'idempotency-key': key });
      const firstBody = await first.text();
      expect(first.status).to.equal(402);
      const replay = await stripe('/v1/payment_intents', form, { 'idempotency-key': key });
      expect(replay.status).to.equal(402);
      expect(replay.headers.get('idempotent-replayed')).to.equal('true');
      expect(await replay.text()).to.equal(firstBody);
      const other = await stripe(
        '/v1/payment_intents',
        { ...form, amount: '1002' },
        { 'idempotency-key': key },
      );
      expect(other.status).to.equal(400);
      expect(((await other.json()) as { error: { type: string } }).error.type).to.equal('idempotency_error');
      expect(await control.paymentCount({ idempotencyKey: key })).to.equal(1);
    });

    it('does not store refusals: after a 503 the same key is evaluated again', async () => {
      const key = randomUUID();
      const form = stripeForm(4000);
      const transactionId = `tx_${randomUUID()}`;
      form['metadata[transaction_id]'] = transactionId;
      await control.addScenario({ match: { transactionId }, behaviour: { kind: 'server_error' }, times: 1 });
      expect((await stripe('/v1/payment_intents', form, { 'idempotency-key': key })).status).to.equal(503);
      expect((await stripe('/v1/payment_intents', form, { 'idempotency-key': key })).status).to.equal(200);
      expect(await control.paymentCount({ idempotencyKey: key })).to.equal(1);
    });

    it('asks for billing details, takes them on confirm, and refuses a confirm in another state', async () => {
      const created = (await (await stripe('/v1/payment_intents', stripeForm(1004))).json()) as Answer;
      expect(created.status).to.equal('requires_action');
      expect(created.next_action.type).to.equal('collect_customer_data');
      expect(
        created.next_action.collect_customer_data.fields.map((f: { name: string }) => f.name),
      ).to.deep.equal(['email', 'phone']);
      const partial = (await (
        await stripe(`/v1/payment_intents/${created.id}/confirm`, {
          'payment_method_data[billing_details][email]': 'ada@example.test',
        })
      ).json()) as Answer;
      expect(
        partial.next_action.collect_customer_data.fields.map((f: { name: string }) => f.name),
      ).to.deep.equal(['phone']);
      const done = (await (
        await stripe(`/v1/payment_intents/${created.id}/confirm`, {
          'payment_method_data[billing_details][phone]': '+44 20 7946 0000',
        })
      ).json()) as Answer;
      expect(done.next_action.type).to.equal('redirect_to_url');
      const again = await stripe(`/v1/payment_intents/${created.id}/confirm`, {});
      expect(again.status).to.equal(400);
      expect(((await again.json()) as { error: { code: string } }).error.code).to.equal(
        'payment_intent_unexpected_state',
      );
      const retrieved = await fetch(`${sim.apiBaseUrls['stripe-sim']}/v1/payment_intents/${created.id}`, {
        headers: { authorization: `Bearer ${STRIPE_KEY}` },
      });
      expect(((await retrieved.json()) as { status: string }).status).to.equal('requires_action');
      const missing = await stripe('/v1/payment_intents/pi_nope/confirm', {});
      expect(missing.status).to.equal(404);
    });

    it('keeps intents apart per account: another key cannot confirm or read them', async () => {
      const created = (await (await stripe('/v1/payment_intents', stripeForm(1004))).json()) as {
        id: string;
      };
      const foreign = { authorization: 'Bearer sk_test_someone_else' };
      expect((await stripe(`/v1/payment_intents/${created.id}/confirm`, {}, foreign)).status).to.equal(404);
    });
  });

  describe('adyen-sim API', () => {
    it('answers RedirectShopper with a redirect action, and Adyen-style errors', async () => {
      const ok = (await (await adyen('/v71/payments', adyenBody(1000))).json()) as Answer;
      expect(ok.resultCode).to.equal('RedirectShopper');
      expect(ok.pspReference).to.match(/^\d{16}$/);
      expect(ok.action).to.deep.include({
        type: 'redirect',
        method: 'GET',
        url: `${sim.url}/adyen-sim/checkout/${ok.pspReference}`,
      });

      const noKey = await adyen('/v71/payments', adyenBody(1000), { 'x-api-key': '' });
      expect(noKey.status).to.equal(401);
      expect(await noKey.json()).to.deep.include({ status: 401, errorType: 'security' });
      const invalid = await adyen('/v71/payments', { ...adyenBody(1000), reference: undefined });
      expect(invalid.status).to.equal(422);
      expect(((await invalid.json()) as { message: string }).message).to.contain('reference');
      const form = await fetch(`${sim.apiBaseUrls['adyen-sim']}/v71/payments`, {
        method: 'POST',
        headers: { 'x-api-key': ADYEN_KEY, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'a=1',
      });
      expect(form.status).to.equal(400);
      expect((await adyen('/v71/payments', adyenBody(1001))).status).to.equal(200);
      expect(
        ((await (await adyen('/v71/payments', adyenBody(1005))).json()) as { status: number }).status,
      ).to.equal(429);
      expect(
        ((await (await adyen('/v71/payments', adyenBody(1006))).json()) as { errorCode: string }).errorCode,
      ).to.equal('901');
    });

    it('replays by Idempotency-Key and refuses the key with another body (704)', async () => {
      const key = randomUUID();
      const body = adyenBody(1000);
      const first = await (await adyen('/v71/payments', body, { 'idempotency-key': key })).text();
      const replay = await adyen('/v71/payments', body, { 'idempotency-key': key });
      expect(await replay.text()).to.equal(first);
      const other = await adyen(
        '/v71/payments',
        { ...body, amount: { value: 1, currency: 'EUR' } },
        { 'idempotency-key': key },
      );
      expect(other.status).to.equal(422);
      expect(((await other.json()) as { errorCode: string }).errorCode).to.equal('704');
    });

    it('asks for shopper data and continues through /payments/details', async () => {
      const created = (await (
        await adyen('/v71/payments', adyenBody(1004, { shopperEmail: 'a@b.test' }))
      ).json()) as Answer;
      expect(created.resultCode).to.equal('ShopperDataRequired');
      expect(created.action.fields.map((f: { name: string }) => f.name)).to.deep.equal([
        'telephoneNumber',
        'dateOfBirth',
      ]);
      const done = (await (
        await adyen('/v71/payments/details', {
          paymentData: created.action.paymentData,
          details: { telephoneNumber: '+31 20 123 4567', dateOfBirth: '1990-12-10' },
        })
      ).json()) as Answer;
      expect(done).to.deep.include({ resultCode: 'RedirectShopper', pspReference: created.pspReference });
      const unknown = await adyen('/v71/payments/details', { paymentData: 'nope', details: {} });
      expect(unknown.status).to.equal(422);
    });
  });

  describe('checkout page', () => {
    it('shows the payment, completes it once, and sends the customer back with the provider parameters', async () => {
      const intent = (await (await stripe('/v1/payment_intents', stripeForm(1234))).json()) as Answer;
      const url: string = intent.next_action.redirect_to_url.url;
      const page = await fetch(url);
      expect(page.headers.get('content-security-policy')).to.contain("default-src 'none'");
      expect(await page.text()).to.contain('12.34 EUR');
      const pay = () =>
        fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'action=pay',
          redirect: 'manual',
        });
      const first = await pay();
      expect(first.status).to.equal(303);
      const back = new URL(first.headers.get('location')!);
      expect(back.origin + back.pathname).to.equal('https://shop.test/return');
      expect(Object.fromEntries(back.searchParams)).to.deep.include({
        session: 's1',
        payment_intent: intent.id,
        redirect_status: 'succeeded',
      });
      const second = await pay();
      expect(second.status).to.equal(303);
      await sim.callbacksIdle();
      const { callbacks } = await control.get<{ callbacks: unknown[] }>('callbacks', {
        paymentId: intent.id,
      });
      expect(callbacks).to.have.length(1);
      expect(await (await fetch(url)).text()).to.contain('This payment is approved');
    });

    it('escapes what the merchant sent and answers 404 for unknown payments', async () => {
      const created = (await (
        await adyen('/v71/payments', adyenBody(1000, { reference: '<script>alert(1)</script>' }))
      ).json()) as Answer;
      const html = await (await fetch(created.action.url)).text();
      expect(html).not.to.contain('<script>');
      expect(html).to.contain('&#60;script&#62;');
      expect((await fetch(`${sim.url}/adyen-sim/checkout/0000`)).status).to.equal(404);
    });

    it('adds redirectResult for adyen-sim', async () => {
      const created = (await (await adyen('/v71/payments', adyenBody(1000))).json()) as Answer;
      const answer = await fetch(created.action.url, {
        method: 'POST',
        body: new URLSearchParams({ action: 'pay' }),
        redirect: 'manual',
      });
      const result = new URL(answer.headers.get('location')!).searchParams.get('redirectResult')!;
      expect(JSON.parse(Buffer.from(result, 'base64url').toString('utf8'))).to.deep.equal({
        pspReference: created.pspReference,
        resultCode: 'Authorised',
      });
    });
  });

  describe('control API', () => {
    it('answers problems for invalid scenarios and unknown ids', async () => {
      const bad = await fetch(`${sim.url}/_sim/scenarios`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ behaviour: { kind: 'explode' } }),
      });
      expect(bad.status).to.equal(400);
      expect(bad.headers.get('content-type')).to.contain('application/problem+json');
      const problem = (await bad.json()) as { code: string; errors: Array<{ path: string }> };
      expect(problem.code).to.equal('INVALID_SCENARIO');
      expect(problem.errors[0]!.path).to.equal('$.behaviour.kind');
      const notJson = await fetch(`${sim.url}/_sim/scenarios`, {
        method: 'POST',
        body: '{',
        headers: { 'content-type': 'application/json' },
      });
      expect(notJson.status).to.equal(400);
      expect((await fetch(`${sim.url}/_sim/scenarios/scn_nope`, { method: 'DELETE' })).status).to.equal(404);
      expect((await fetch(`${sim.url}/_sim/nothing`)).status).to.equal(404);
    });

    it('lists, applies `times` and deletes scenarios', async () => {
      const transactionId = `tx_${randomUUID()}`;
      const scenario = await control.addScenario({
        match: { transactionId },
        behaviour: { kind: 'velocity' },
        times: 2,
      });
      const form = stripeForm(1000, { 'metadata[transaction_id]': transactionId });
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await stripe('/v1/payment_intents', form)).status);
      expect(statuses).to.deep.equal([429, 429, 200]);
      const listed = await control.get<{ scenarios: Array<{ id: string; remaining: number }> }>('scenarios');
      expect(listed.scenarios.find((s) => s.id === scenario.id)?.remaining).to.equal(0);
      expect((await fetch(`${sim.url}/_sim/scenarios/${scenario.id}`, { method: 'DELETE' })).status).to.equal(
        204,
      );
      const requests = await control.get<{ requests: Array<{ result: string; scenarioId: string | null }> }>(
        'requests',
        {
          transactionId,
        },
      );
      expect(requests.requests.map((r) => r.result)).to.deep.equal([
        'velocity',
        'velocity',
        'requires_action',
      ]);
      expect(requests.requests[0]!.scenarioId).to.equal(scenario.id);
    });

    it('publishes the magic amount table', async () => {
      const table = await control.get<{ magicAmounts: Array<{ suffix: number }> }>('magic-amounts');
      expect(table.magicAmounts.map((m) => m.suffix)).to.include.members([1, 2, 3, 4, 5, 6]);
    });
  });

  it('auto-completes redirects after a delay when configured', async () => {
    const started = await startTestSimulator({ autoCompleteAfterMs: 10 });
    try {
      const created = (await (
        await fetch(`${started.sim.apiBaseUrls['stripe-sim']}/v1/payment_intents`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${STRIPE_KEY}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: new URLSearchParams({ amount: '1000', currency: 'eur', return_url: 'https://shop.test/r' }),
        })
      ).json()) as { id: string };
      await eventually(
        async () => {
          const intent = await fetch(
            `${started.sim.apiBaseUrls['stripe-sim']}/v1/payment_intents/${created.id}`,
            {
              headers: { authorization: `Bearer ${STRIPE_KEY}` },
            },
          );
          return ((await intent.json()) as { status: string }).status === 'succeeded';
        },
        5_000,
        'the payment to complete by itself',
      );
    } finally {
      await started.sim.close();
    }
  });
});
