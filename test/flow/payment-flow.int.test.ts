/**
 * The whole payment flow through the real platform (gateway, relay, processor, webhook dispatcher,
 * provider simulator) over real HTTP: deposit -> hosted page -> provider -> callback -> status ->
 * signed merchant webhook, and the timeline that tells the story.
 */
import { expect } from 'chai';
import { eventually } from '../support/eventually.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { sampleFieldValue } from '../../platform/demo/sample-values.js';

describe('payment flow on embedded defaults', function () {
  this.timeout(90_000);
  let t: TestPlatform;
  let order = 0;

  before(async () => {
    t = await startTestPlatform();
  });
  after(async () => t?.stop());

  const deposit = async (value: number, currency = 'EUR') => {
    const { status, body } = await t.deposit({
      merchantTransactionId: `flow-${Date.now()}-${order++}`,
      amount: { value, currency },
      paymentMethod: 'card',
      customer: { email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', country: 'DE' },
      returnUrls: { success: 'https://shop.example/ok', failure: 'https://shop.example/failed' },
    });
    expect(status, JSON.stringify(body)).to.equal(201);
    return body as { transactionId: string; hostedPaymentUrl: string };
  };
  const hostedState = async (url: string) =>
    (await (await fetch(`${url}/state`)).json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const waitForState = async (url: string, state: string) => {
    let last: Record<string, any> = {}; // eslint-disable-line @typescript-eslint/no-explicit-any
    await eventually(
      async () => (last = await hostedState(url)).state === state,
      30_000,
      `hosted page state ${state}`,
    );
    return last;
  };
  const waitForStatus = async (id: string, status: string) =>
    eventually(async () => (await t.transaction(id)).status === status, 30_000, `merchant status ${status}`);
  const timeline = async (id: string) =>
    (await t.platform.database.knex('transaction_timeline').where({ transaction_id: id }).orderBy('id')).map(
      (row) => row.entry_type as string,
    );
  const webhooksFor = (id: string) =>
    t.receiver.received
      .filter((w) => JSON.parse(w.body).transactionId === id)
      .map((w) => ({ ...w, payload: JSON.parse(w.body) }));

  it('approves a card payment: redirect, customer pays at the provider, callback, signed webhook', async () => {
    const { transactionId, hostedPaymentUrl } = await deposit(1000);
    const redirect = await waitForState(hostedPaymentUrl, 'redirect');
    expect(redirect.redirectUrl).to.match(/\/checkout\//);
    const paid = await fetch(redirect.redirectUrl, {
      method: 'POST',
      body: new URLSearchParams({ action: 'pay' }),
      redirect: 'manual',
    });
    expect(paid.status).to.equal(303);
    expect(paid.headers.get('location')).to.contain(hostedPaymentUrl);
    await waitForStatus(transactionId, 'approved');
    await eventually(() => webhooksFor(transactionId).length === 1, 30_000, 'the approved webhook');
    const [webhook] = webhooksFor(transactionId);
    expect(webhook!.verified).to.equal(true);
    expect(webhook!.payload).to.include({ transactionId, status: 'approved' });
    expect(await hostedState(hostedPaymentUrl)).to.include({ state: 'completed' });
    expect(await timeline(transactionId)).to.include.members([
      'DepositRequested',
      'PaymentSessionCreated',
      'RoutingStarted',
      'RoutingCompleted',
      'ProviderRequestStarted',
      'ProviderRequestSucceeded',
      'ProviderCallbackReceived',
      'ProviderCallbackProcessed',
      'TransactionStatusChanged',
      'MerchantWebhookRequested',
      'MerchantWebhookDelivered',
    ]);
  });

  it('falls back to the next provider account when the first answers 503, with one charge', async () => {
    const sim = t.simulatorUrl;
    await fetch(`${sim}/_sim/scenarios`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        match: { provider: 'adyen-sim', amountMinor: 2100 },
        behaviour: { kind: 'server_error', status: 503 },
      }),
    });
    const { transactionId, hostedPaymentUrl } = await deposit(2100);
    const redirect = await waitForState(hostedPaymentUrl, 'redirect');
    expect(redirect.redirectUrl).to.contain('/stripe-sim/');
    const attempts = await t.platform.database
      .knex('payment_attempts')
      .where({ transaction_id: transactionId })
      .orderBy('attempt_number');
    expect(attempts.map((a) => [a.provider_id, a.state, a.failure_kind])).to.deep.equal([
      ['adyen-sim', 'failed', 'provider_error'],
      ['adyen-sim', 'failed', 'provider_error'],
      ['stripe-sim', 'succeeded', null],
    ]);
  });

  it('rejects when every candidate fails, and tells the merchant once', async () => {
    const { transactionId, hostedPaymentUrl } = await deposit(3102);
    await waitForStatus(transactionId, 'rejected');
    expect(await hostedState(hostedPaymentUrl)).to.include({ state: 'failed' });
    await eventually(() => webhooksFor(transactionId).length === 1, 30_000, 'the rejected webhook');
    expect(webhooksFor(transactionId)[0]!.payload.status).to.equal('rejected');
    expect(await timeline(transactionId)).to.include('RoutingFailed');
  });

  it('declines without fallback when the provider declines', async () => {
    const { transactionId } = await deposit(4101);
    await waitForStatus(transactionId, 'declined');
    const attempts = await t.platform.database
      .knex('payment_attempts')
      .where({ transaction_id: transactionId });
    expect(attempts).to.have.length(1);
  });

  it('asks the customer for missing fields on the hosted page, then continues to the provider', async () => {
    const { transactionId, hostedPaymentUrl } = await deposit(5104);
    const form = await waitForState(hostedPaymentUrl, 'form');
    expect(form.fields.length).to.be.greaterThan(0);
    const values = Object.fromEntries(
      (form.fields as Array<{ name: string; kind: string }>).map((f) => [
        f.name,
        sampleFieldValue(f.name, f.kind),
      ]),
    );
    const submitted = await fetch(`${hostedPaymentUrl}/customer-data`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: new URL(t.url).origin },
      body: JSON.stringify({ values }),
    });
    expect(submitted.status, await submitted.clone().text()).to.be.oneOf([200, 202, 204]);
    await waitForState(hostedPaymentUrl, 'redirect');
    expect(await timeline(transactionId)).to.include.members([
      'CustomerDataRequested',
      'CustomerDataSubmitted',
    ]);
  });

  it('applies duplicate callbacks once: one status change, one webhook', async () => {
    const { transactionId, hostedPaymentUrl } = await deposit(6110);
    const redirect = await waitForState(hostedPaymentUrl, 'redirect');
    await fetch(redirect.redirectUrl, {
      method: 'POST',
      body: new URLSearchParams({ action: 'pay' }),
      redirect: 'manual',
    });
    await waitForStatus(transactionId, 'approved');
    const knex = t.platform.database.knex;
    await eventually(
      async () => (await knex('provider_callbacks').where({ transaction_id: transactionId })).length >= 2,
      30_000,
      'both copies of the callback',
    );
    const callbacks = await knex('provider_callbacks')
      .where({ transaction_id: transactionId })
      .orderBy('created_at');
    expect(callbacks.map((c) => c.state)).to.deep.equal(['processed', 'ignored']);
    const changes = await knex('transaction_timeline').where({
      transaction_id: transactionId,
      entry_type: 'TransactionStatusChanged',
    });
    expect(changes.filter((c) => c.internal.toStatus === 'APPROVED')).to.have.length(1);
    await eventually(() => webhooksFor(transactionId).length === 1, 30_000, 'one webhook');
  });
});
