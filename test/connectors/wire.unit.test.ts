/**
 * The connectors' pure wire mapping: every provider status a callback can carry -> our outcome, Adyen
 * batches -> several facts, bodies we cannot understand -> NonRetryableError; answers the simulator does
 * not produce by default (409, 504, requires_capture, Received, Error) -> the documented outcomes;
 * customer field translation both ways; Stripe form encoding read back by the simulator's parser.
 */
import { expect } from 'chai';
import { NonRetryableError } from '../../core/errors.js';
import { adyenCallbackFacts, adyenOutcome } from '../../processor/connectors/adyen-sim-wire.js';
import {
  fromProviderSpecs,
  toProviderFields,
  unflatten,
} from '../../processor/connectors/customer-fields.js';
import { encodeForm } from '../../processor/connectors/form-encoding.js';
import { connectorFor, createConnectorRegistry } from '../../processor/connectors/index.js';
import {
  STRIPE_FIELDS,
  stripeCallbackFacts,
  stripeOutcome,
} from '../../processor/connectors/stripe-sim-wire.js';
import { ADYEN_FIELDS } from '../../processor/connectors/adyen-sim-wire.js';
import { parseStripeForm } from '../../provider-simulator/stripe-sim/form.js';

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

function stripeEvent(type: string, object: Record<string, unknown>, id = 'evt_1') {
  return json({ id, object: 'event', type, data: { object } });
}

const intent = {
  id: 'pi_123',
  object: 'payment_intent',
  amount: 1130,
  currency: 'eur',
  metadata: { reference: 'att_9', transaction_id: 'tx_9' },
};

describe('stripe-sim callbacks -> facts', () => {
  const cases: Array<[string, 'approved' | 'declined' | 'pending']> = [
    ['payment_intent.succeeded', 'approved'],
    ['payment_intent.amount_capturable_updated', 'approved'],
    ['payment_intent.processing', 'pending'],
    ['payment_intent.requires_action', 'pending'],
    ['payment_intent.payment_failed', 'declined'],
    ['payment_intent.canceled', 'declined'],
  ];
  for (const [type, outcome] of cases) {
    it(`${type} -> ${outcome}`, () => {
      expect(stripeCallbackFacts(stripeEvent(type, intent))).to.deep.equal([
        {
          providerReference: 'pi_123',
          attemptId: 'att_9',
          notificationId: 'evt_1',
          outcome,
          providerStatus: type,
          amountMinor: 1130,
          currency: 'EUR',
        },
      ]);
    });
  }

  it('events that are not payment outcomes give no facts; missing metadata gives a null attempt', () => {
    expect(
      stripeCallbackFacts(stripeEvent('charge.refunded', { id: 'ch_1', payment_intent: 'pi_1' })),
    ).to.deep.equal([]);
    expect(stripeCallbackFacts(stripeEvent('payment_intent.created', intent))).to.deep.equal([]);
    const [fact] = stripeCallbackFacts(stripeEvent('payment_intent.succeeded', { id: 'pi_2' }));
    expect(fact).to.deep.include({ attemptId: null, amountMinor: null, currency: null });
  });

  it('a body that is not an event is non-retryable', () => {
    for (const body of [
      'nope',
      '[]',
      '{"type":"payment_intent.succeeded"}',
      '{"id":"evt_1","type":"payment_intent.succeeded","data":{}}',
    ]) {
      expect(() => stripeCallbackFacts(Buffer.from(body)), body).to.throw(NonRetryableError);
    }
  });
});

function adyenItem(fields: Record<string, unknown>) {
  return {
    NotificationRequestItem: {
      additionalData: { hmacSignature: 'ignored-here' },
      amount: { value: 1130, currency: 'EUR' },
      eventCode: 'AUTHORISATION',
      eventDate: '2026-11-24T12:00:00+01:00',
      merchantAccountCode: 'DemoECOM',
      merchantReference: 'att_7',
      pspReference: '7914073381342284',
      reason: '',
      success: 'true',
      ...fields,
    },
  };
}

describe('adyen-sim callbacks -> facts', () => {
  it('maps each event code and success flag, one fact per item of a batch, in order', () => {
    const body = json({
      live: 'false',
      notificationItems: [
        adyenItem({ eventCode: 'PENDING' }),
        adyenItem({}),
        adyenItem({ success: 'false', reason: 'Refused' }),
        adyenItem({ eventCode: 'OFFER_CLOSED' }),
        adyenItem({ eventCode: 'CAPTURE', originalReference: '7914073381342284', pspReference: '8815' }),
      ],
    });
    const facts = adyenCallbackFacts(body);
    expect(facts.map((f) => [f.outcome, f.providerStatus, f.notificationId])).to.deep.equal([
      ['pending', 'PENDING:true', '7914073381342284:PENDING:true'],
      ['approved', 'AUTHORISATION:true', '7914073381342284:AUTHORISATION:true'],
      ['declined', 'AUTHORISATION:false', '7914073381342284:AUTHORISATION:false'],
      ['declined', 'OFFER_CLOSED:true', '7914073381342284:OFFER_CLOSED:true'],
    ]);
    expect(facts[0]).to.deep.include({
      providerReference: '7914073381342284',
      attemptId: 'att_7',
      amountMinor: 1130,
      currency: 'EUR',
    });
  });

  it('a modification refers to its payment through originalReference', () => {
    const [fact] = adyenCallbackFacts(
      json({
        notificationItems: [adyenItem({ originalReference: '1111', pspReference: '2222', success: 'false' })],
      }),
    );
    expect(fact).to.deep.include({ providerReference: '1111', notificationId: '2222:AUTHORISATION:false' });
  });

  it('a body without usable items is non-retryable', () => {
    for (const body of [
      'nope',
      '{}',
      '{"notificationItems":[]}',
      JSON.stringify({ notificationItems: [{}] }),
      JSON.stringify({ notificationItems: [adyenItem({ success: 'maybe' })] }),
      JSON.stringify({ notificationItems: [adyenItem({ pspReference: '' })] }),
    ]) {
      expect(() => adyenCallbackFacts(Buffer.from(body)), body).to.throw(NonRetryableError);
    }
  });
});

describe('provider answers -> outcomes', () => {
  it('stripe-sim: statuses and errors', () => {
    expect(stripeOutcome(200, json({ ...intent, status: 'requires_capture' }))).to.deep.equal({
      kind: 'approved',
      providerReference: 'pi_123',
    });
    expect(
      stripeOutcome(200, json({ ...intent, status: 'canceled', cancellation_reason: 'abandoned' })),
    ).to.deep.equal({
      kind: 'declined',
      providerReference: 'pi_123',
      code: 'abandoned',
    });
    expect(stripeOutcome(200, json({ ...intent, status: 'requires_confirmation' }))).to.deep.include({
      kind: 'failed',
      outcomeUnknown: true,
    });
    expect(stripeOutcome(409, json({ error: { type: 'idempotency_error' } }))).to.deep.include({
      failureKind: 'provider_error',
      outcomeUnknown: true,
    });
    expect(stripeOutcome(504, Buffer.from('gateway timeout'))).to.deep.include({
      failureKind: 'provider_error',
      outcomeUnknown: true,
    });
    expect(stripeOutcome(502, Buffer.from(''))).to.deep.include({
      failureKind: 'provider_error',
      outcomeUnknown: false,
    });
    expect(
      stripeOutcome(400, json({ error: { type: 'invalid_request_error', code: 'parameter_missing' } })),
    ).to.deep.equal({
      kind: 'failed',
      failureKind: 'provider_error',
      code: 'parameter_missing',
      outcomeUnknown: false,
    });
    // A confirm on an intent that already moved on reports where the intent is now.
    const moved = {
      ...intent,
      status: 'requires_action',
      next_action: { type: 'redirect_to_url', redirect_to_url: { url: 'https://psp.test/x' } },
    };
    expect(
      stripeOutcome(
        400,
        json({
          error: {
            type: 'invalid_request_error',
            code: 'payment_intent_unexpected_state',
            payment_intent: moved,
          },
        }),
      ),
    ).to.deep.equal({ kind: 'redirect', providerReference: 'pi_123', redirectUrl: 'https://psp.test/x' });
  });

  it('adyen-sim: result codes and errors', () => {
    const answer = (resultCode: string, extra: Record<string, unknown> = {}) =>
      adyenOutcome(200, json({ pspReference: '99', resultCode, ...extra }));
    expect(answer('Received')).to.deep.equal({ kind: 'pending', providerReference: '99' });
    expect(answer('Cancelled')).to.deep.equal({
      kind: 'declined',
      providerReference: '99',
      code: 'Cancelled',
    });
    expect(answer('Error', { refusalReason: 'Acquirer Error' })).to.deep.equal({
      kind: 'failed',
      failureKind: 'provider_error',
      code: 'Acquirer Error',
      outcomeUnknown: false,
    });
    expect(answer('IdentifyShopper')).to.deep.include({ kind: 'failed', outcomeUnknown: true });
    expect(
      answer('RedirectShopper', { action: { type: 'redirect', method: 'POST', url: 'https://psp.test' } }),
    ).to.deep.include({
      kind: 'failed',
      outcomeUnknown: true,
    });
    expect(adyenOutcome(422, json({ status: 422, errorCode: '704' }))).to.deep.include({
      outcomeUnknown: true,
    });
    expect(adyenOutcome(422, json({ status: 422, errorCode: '130' }))).to.deep.equal({
      kind: 'failed',
      failureKind: 'provider_error',
      code: 'adyen_130',
      outcomeUnknown: false,
    });
    expect(adyenOutcome(200, Buffer.from('<html>'))).to.deep.include({
      kind: 'failed',
      outcomeUnknown: true,
    });
  });
});

describe('customer fields and encodings', () => {
  it('translates our names to each provider and back, keeping unknown provider fields by name', () => {
    const customer = {
      email: 'a@b.test',
      firstName: 'Ada',
      country: 'GB',
      shopperLocale: 'en-GB',
      empty: ' ',
    };
    expect(toProviderFields(ADYEN_FIELDS, customer)).to.deep.equal({
      shopperEmail: 'a@b.test',
      'shopperName.firstName': 'Ada',
      countryCode: 'GB',
      'billingAddress.country': 'GB',
      shopperLocale: 'en-GB',
    });
    expect(unflatten({ 'a.b': '1', 'a.c': '2', d: '3', '__proto__.x': 'no' })).to.deep.equal({
      a: { b: '1', c: '2' },
      d: '3',
    });
    const specs = fromProviderSpecs(ADYEN_FIELDS, [
      { name: 'countryCode', type: 'country' },
      { name: 'billingAddress.country', type: 'country' },
      { name: 'socialSecurityNumber', type: 'text', label: 'SSN', pattern: '^\\d+$' },
    ]);
    expect(specs).to.deep.equal([
      { name: 'country', kind: 'country', required: true, pattern: '^[A-Z]{2}$', label: 'Country' },
      { name: 'socialSecurityNumber', kind: 'text', required: true, pattern: '^\\d+$', label: 'SSN' },
    ]);
    expect(fromProviderSpecs(STRIPE_FIELDS, [{ name: 'name' }])[0]).to.include({
      name: 'fullName',
      kind: 'text',
    });
  });

  it('encodes Stripe forms the simulator reads back to the same structure', () => {
    const params = {
      amount: 1000,
      confirm: true,
      payment_method_types: ['card'],
      metadata: { reference: 'att 1&2', transaction_id: 'tx=1' },
      payment_method_data: { billing_details: { address: { line1: '1 Rue Éclair' } } },
      skipped: null,
    };
    expect(parseStripeForm(encodeForm(params))).to.deep.equal({
      amount: '1000',
      confirm: 'true',
      payment_method_types: ['card'],
      metadata: { reference: 'att 1&2', transaction_id: 'tx=1' },
      payment_method_data: { billing_details: { address: { line1: '1 Rue Éclair' } } },
    });
  });

  it('the registry has both connectors and refuses an unknown provider as non-retryable', () => {
    const registry = createConnectorRegistry();
    expect([...registry.keys()]).to.have.members(['stripe-sim', 'adyen-sim']);
    expect(connectorFor(registry, 'adyen-sim').providerId).to.equal('adyen-sim');
    expect(() => connectorFor(registry, 'paypal')).to.throw(NonRetryableError);
  });
});
