/**
 * The providers' signature verifiers, checked against the providers' own libraries: fixtures are
 * signed with `stripe`'s `webhooks.generateTestHeaderString` and `@adyen/api-library`'s HmacValidator,
 * and what our signing helpers produce is accepted by those libraries' verifiers.
 */
import { randomBytes } from 'node:crypto';
import { hmacValidator as HmacValidator } from '@adyen/api-library';
import { expect } from 'chai';
import fc from 'fast-check';
import Stripe from 'stripe';
import {
  adyenSigningString,
  createProviderRegistry,
  decodeProviderCallback,
  encodeProviderCallback,
  parseStripeSignatureHeader,
  PROVIDERS,
  signAdyenItem,
  signStripeSim,
  verifyAdyenSim,
  verifyStripeSim,
  type VerifyResult,
} from '../../gateway/provider/index.js';

type AdyenItem = Parameters<HmacValidator['validateHMAC']>[0];

const adyenLib = new HmacValidator();
const NOW = new Date('2026-11-24T12:00:00.000Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);

function expectFailure(result: VerifyResult, reason: string): void {
  expect(result.ok, JSON.stringify(result)).to.equal(false);
  if (!result.ok) expect(result.reason).to.equal(reason);
}

describe('provider registry', () => {
  it('has stripe-sim and adyen-sim with their success answers', () => {
    expect([...PROVIDERS.keys()]).to.have.members(['stripe-sim', 'adyen-sim']);
    expect(PROVIDERS.get('stripe-sim')!.successResponse).to.deep.include({
      status: 200,
      body: '{"received":true}',
    });
    expect(PROVIDERS.get('stripe-sim')!.successResponse.contentType).to.match(/^application\/json/);
    expect(PROVIDERS.get('adyen-sim')!.successResponse).to.deep.include({ status: 200, body: '[accepted]' });
    expect(PROVIDERS.get('adyen-sim')!.successResponse.contentType).to.match(/^text\/plain/);
  });

  it('applies a configured Stripe tolerance', () => {
    const registry = createProviderRegistry({ stripeSim: { toleranceSeconds: 10 } });
    const body = Buffer.from('{"data":{"object":{"id":"pi_1"}}}');
    const header = signStripeSim(body, ['whsec_a'], new Date(NOW.getTime() - 11_000));
    const result = registry.get('stripe-sim')!.verify(body, { 'stripe-signature': header }, ['whsec_a'], NOW);
    expectFailure(result, 'timestamp-outside-tolerance');
  });
});

describe('stripe-sim verifier', () => {
  const secret = 'whsec_current_0123456789abcdef';
  const oldSecret = 'whsec_previous_fedcba9876543210';
  const payload = JSON.stringify(
    {
      id: 'evt_1',
      object: 'event',
      type: 'payment_intent.succeeded',
      data: { object: { id: 'pi_123', object: 'payment_intent', status: 'succeeded' } },
    },
    null,
    2,
  );
  const body = Buffer.from(payload);
  const stripeHeader = (opts: { payload?: string; secret?: string; timestamp?: number } = {}) =>
    Stripe.webhooks.generateTestHeaderString({
      payload: opts.payload ?? payload,
      secret: opts.secret ?? secret,
      timestamp: opts.timestamp ?? NOW_S,
    });
  const verify = (header: string | undefined, secrets: string[] = [secret], raw = body, now = NOW) =>
    verifyStripeSim(raw, header === undefined ? {} : { 'stripe-signature': header }, secrets, now);

  it('accepts a header signed by the stripe package, and extracts the PaymentIntent id', () => {
    expect(verify(stripeHeader())).to.deep.equal({ ok: true, reference: 'pi_123' });
  });

  it('produces headers the stripe package accepts (one v1 per secret)', () => {
    const header = signStripeSim(body, [secret, oldSecret], NOW);
    for (const s of [secret, oldSecret]) {
      const event = Stripe.webhooks.constructEvent(payload, header, s, 300, undefined, NOW.getTime());
      expect(event.id).to.equal('evt_1');
    }
    expect(header.match(/v1=/g)).to.have.length(2);
  });

  it('rejects a tampered body', () => {
    const tampered = Buffer.from(payload.replace('succeeded', 'failed'));
    expectFailure(verify(stripeHeader(), [secret], tampered), 'signature-mismatch');
    const extraSpace = Buffer.concat([body, Buffer.from(' ')]);
    expectFailure(verify(stripeHeader(), [secret], extraSpace), 'signature-mismatch');
  });

  it('rejects the wrong secret', () => {
    expectFailure(verify(stripeHeader({ secret: 'whsec_attacker' })), 'signature-mismatch');
    expectFailure(verify(stripeHeader(), []), 'signature-mismatch');
  });

  it('rejects timestamps outside the 300 s tolerance, in the past and in the future', () => {
    expect(verify(stripeHeader({ timestamp: NOW_S - 300 })).ok).to.equal(true);
    expect(verify(stripeHeader({ timestamp: NOW_S + 300 })).ok).to.equal(true);
    expectFailure(verify(stripeHeader({ timestamp: NOW_S - 301 })), 'timestamp-outside-tolerance');
    expectFailure(verify(stripeHeader({ timestamp: NOW_S + 301 })), 'timestamp-outside-tolerance');
  });

  it('does not let a valid signature be replayed with a newer timestamp', () => {
    const old = parseStripeSignatureHeader(stripeHeader({ timestamp: NOW_S - 3_600 }))!;
    expectFailure(verify(`t=${NOW_S},v1=${old.signatures[0]}`), 'signature-mismatch');
  });

  it('accepts rotated secrets both ways: several v1 in the header, several secrets configured', () => {
    const newSig = parseStripeSignatureHeader(stripeHeader({ secret }))!.signatures[0]!;
    const oldSig = parseStripeSignatureHeader(stripeHeader({ secret: oldSecret }))!.signatures[0]!;
    // Provider rolled its secret: it signs with both, we only know the new one (or only the old one).
    expect(verify(`t=${NOW_S},v1=${oldSig},v1=${newSig}`, [secret]).ok).to.equal(true);
    expect(verify(`t=${NOW_S},v1=${oldSig},v1=${newSig}`, [oldSecret]).ok).to.equal(true);
    // We rotate: both configured, the provider still signs with the old one.
    expect(verify(stripeHeader({ secret: oldSecret }), [secret, oldSecret]).ok).to.equal(true);
    // Ignores other schemes (v0) as Stripe does.
    expect(verify(`t=${NOW_S},v0=abc,v1=${newSig}`).ok).to.equal(true);
  });

  it('rejects a missing or malformed header', () => {
    expectFailure(verify(undefined), 'missing-signature');
    expectFailure(verify('   '), 'missing-signature');
    const sig = parseStripeSignatureHeader(stripeHeader())!.signatures[0]!;
    for (const header of [
      'garbage',
      `v1=${sig}`,
      `t=${NOW_S}`,
      `t=${NOW_S},v0=${sig}`,
      `t=abc,v1=${sig}`,
      `t=${NOW_S},t=${NOW_S},v1=${sig}`,
      `t=-1,v1=${sig}`,
      `t=${NOW_S},,v1=${sig}`,
      `t=${NOW_S},=x,v1=${sig}`,
      `t=${NOW_S},v1=${sig}${',v1=x'.repeat(1_000)}`,
    ]) {
      expectFailure(verify(header), 'malformed-signature');
    }
    expectFailure(verify(`t=${NOW_S},v1=${sig.slice(0, 10)}`), 'signature-mismatch');
    expectFailure(verify(`t=${NOW_S},v1=${'zz'.repeat(32)}`), 'signature-mismatch');
  });

  it('reads a header given as an array (the IncomingHttpHeaders shape)', () => {
    const result = verifyStripeSim(body, { 'stripe-signature': [stripeHeader()] }, [secret], NOW);
    expect(result.ok).to.equal(true);
  });

  it('answers bad-body for a correctly signed body that is not a JSON object', () => {
    for (const raw of ['not json', '[1,2]', '']) {
      const header = Stripe.webhooks.generateTestHeaderString({ payload: raw, secret, timestamp: NOW_S });
      expectFailure(verify(header, [secret], Buffer.from(raw)), 'bad-body');
    }
  });

  it('keys a charge or refund by its PaymentIntent, and has no reference when the event has no object', () => {
    const charge = JSON.stringify({ data: { object: { id: 'ch_1', payment_intent: 'pi_9' } } });
    expect(verify(stripeHeader({ payload: charge }), [secret], Buffer.from(charge))).to.deep.equal({
      ok: true,
      reference: 'pi_9',
    });
    const bare = JSON.stringify({ id: 'evt_2', type: 'ping' });
    expect(verify(stripeHeader({ payload: bare }), [secret], Buffer.from(bare))).to.deep.equal({ ok: true });
  });

  it('signs the raw bytes: non-ASCII bodies verify byte for byte', () => {
    const raw = '{"data":{"object":{"id":"pi_ü","description":"naïve € \\u2028 😀"}}}\n';
    expect(verify(stripeHeader({ payload: raw }), [secret], Buffer.from(raw))).to.deep.equal({
      ok: true,
      reference: 'pi_ü',
    });
  });
});

describe('adyen-sim verifier', () => {
  const key = randomBytes(32).toString('hex').toUpperCase();
  const oldKey = randomBytes(32).toString('hex');
  const baseItem = {
    pspReference: '7914073381342284',
    originalReference: '',
    merchantAccountCode: 'DemoMerchantECOM',
    merchantReference: 'tx_42:attempt-1',
    amount: { value: 1130, currency: 'EUR' },
    eventCode: 'AUTHORISATION',
    success: 'true',
    eventDate: '2026-11-24T12:00:00+01:00',
    paymentMethod: 'visa',
    reason: 'null',
  };
  const libSign = (item: typeof baseItem, k = key) => ({
    ...item,
    additionalData: { hmacSignature: adyenLib.calculateHmac(item as unknown as AdyenItem, k) },
  });
  const notification = (...items: unknown[]) =>
    Buffer.from(
      JSON.stringify({
        live: 'false',
        notificationItems: items.map((item) => ({ NotificationRequestItem: item })),
      }),
    );
  const verify = (raw: Buffer, keys: string[] = [key]) => verifyAdyenSim(raw, {}, keys, NOW);

  it('accepts an item signed by @adyen/api-library, keyed by pspReference', () => {
    expect(verify(notification(libSign(baseItem)))).to.deep.equal({
      ok: true,
      reference: '7914073381342284',
    });
  });

  it('produces signatures @adyen/api-library validates, also with ":" and "\\" in fields', () => {
    for (const merchantReference of ['plain', 'with:colon', 'back\\slash', 'ünï€ode']) {
      const item = signAdyenItem({ ...baseItem, merchantReference }, key);
      expect(adyenLib.validateHMAC(item as unknown as AdyenItem, key), merchantReference).to.equal(true);
      expect(verify(notification(item)).ok).to.equal(true);
    }
    expect(adyenSigningString(baseItem)).to.equal(
      '7914073381342284::DemoMerchantECOM:tx_42:attempt-1:1130:EUR:AUTHORISATION:true',
    );
  });

  it('rejects a tampered item (amount, status, reference)', () => {
    const signed = libSign(baseItem);
    for (const tampered of [
      { ...signed, amount: { value: 1, currency: 'EUR' } },
      { ...signed, success: 'false' },
      { ...signed, eventCode: 'REFUND' },
      { ...signed, pspReference: '0000000000000000' },
      { ...signed, amount: undefined },
    ]) {
      expectFailure(verify(notification(tampered)), 'signature-mismatch');
    }
  });

  it('only signs the listed fields: unsigned fields may differ (Adyen semantics)', () => {
    const signed = libSign(baseItem);
    expect(verify(notification({ ...signed, paymentMethod: 'mc' })).ok).to.equal(true);
  });

  it('rejects the wrong key, no key, and non-hex configured keys', () => {
    expectFailure(verify(notification(libSign(baseItem)), [oldKey]), 'signature-mismatch');
    expectFailure(verify(notification(libSign(baseItem)), []), 'signature-mismatch');
    expectFailure(verify(notification(libSign(baseItem)), ['not-hex!']), 'signature-mismatch');
  });

  it('accepts rotated keys: an item signed with the previous key while both are configured', () => {
    expect(verify(notification(libSign(baseItem, oldKey)), [key, oldKey]).ok).to.equal(true);
  });

  it('checks every item of a batch', () => {
    const second = { ...baseItem, pspReference: '8815', eventCode: 'CAPTURE', originalReference: '7914' };
    expect(verify(notification(libSign(baseItem), libSign(second)))).to.deep.equal({
      ok: true,
      reference: '7914073381342284',
    });
    const forged = { ...libSign(second), success: 'false' };
    expectFailure(verify(notification(libSign(baseItem), forged)), 'signature-mismatch');
  });

  it('keys a modification by its original payment reference', () => {
    const refund = { ...baseItem, pspReference: '9999', originalReference: '7914073381342284' };
    expect(verify(notification(libSign(refund)))).to.deep.equal({ ok: true, reference: '7914073381342284' });
  });

  it('rejects a missing signature', () => {
    expectFailure(verify(notification(baseItem)), 'missing-signature');
    expectFailure(
      verify(notification({ ...baseItem, additionalData: { hmacSignature: '' } })),
      'missing-signature',
    );
    expectFailure(verify(notification({ ...baseItem, additionalData: 'x' })), 'missing-signature');
  });

  it('rejects a malformed signature or body', () => {
    expectFailure(
      verify(notification({ ...baseItem, additionalData: { hmacSignature: '%%%not base64' } })),
      'signature-mismatch',
    );
    expectFailure(
      verify(notification({ ...baseItem, additionalData: { hmacSignature: 42 } })),
      'missing-signature',
    );
    expectFailure(verify(Buffer.from('not json')), 'bad-body');
    expectFailure(verify(Buffer.from('{"live":"false"}')), 'bad-body');
    expectFailure(verify(Buffer.from('{"notificationItems":[]}')), 'bad-body');
    expectFailure(verify(Buffer.from('{"notificationItems":[{"Other":{}}]}')), 'bad-body');
    expectFailure(verify(Buffer.from('{"notificationItems":[null]}')), 'bad-body');
  });
});

describe('verifiers are total', () => {
  it('never throw, whatever the body, headers and secrets', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 512 }),
        fc.dictionary(fc.constantFrom('stripe-signature', 'content-type', 'x'), fc.string()),
        fc.array(fc.string(), { maxLength: 3 }),
        fc.date({ noInvalidDate: true }),
        (bytes, headers, secrets, now) => {
          for (const provider of PROVIDERS.values()) {
            const result = provider.verify(Buffer.from(bytes), headers, secrets, now);
            expect(result).to.have.property('ok');
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throw on JSON-shaped Adyen notifications', () => {
    fc.assert(
      fc.property(
        fc.jsonValue(),
        fc.array(fc.stringMatching(/^(?:[0-9a-f]{2}){0,32}$/), { maxLength: 2 }),
        (item, keys) => {
          const raw = Buffer.from(JSON.stringify({ notificationItems: [{ NotificationRequestItem: item }] }));
          expect(verifyAdyenSim(raw, {}, keys, NOW)).to.have.property('ok');
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('provider callback envelope', () => {
  it('round-trips the raw body byte for byte', () => {
    const body = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x7b]);
    const decoded = decodeProviderCallback(
      encodeProviderCallback({
        callbackId: 'cb_1',
        provider: 'stripe-sim',
        reference: null,
        receivedAt: NOW.toISOString(),
        headers: { 'content-type': 'application/json' },
        bodyBase64: body.toString('base64'),
      }),
    );
    expect(decoded.body.equals(body)).to.equal(true);
    expect(decoded.reference).to.equal(null);
  });

  it('refuses what is not an envelope as non-retryable', () => {
    for (const raw of [
      'nope',
      '{}',
      '{"callbackId":"x","provider":"p","receivedAt":"t","bodyBase64":"","headers":{"a":1},"reference":null}',
    ]) {
      expect(() => decodeProviderCallback(Buffer.from(raw)))
        .to.throw()
        .with.property('code', 'BAD_CALLBACK_ENVELOPE');
    }
  });
});
