/**
 * Callbacks the simulator sends, received over real HTTP by a stand-in for `POST /callbacks/:provider`:
 * every one is accepted by the Provider Gateway's verifiers and by the providers' own libraries
 * (`stripe` constructEvent, `@adyen/api-library` HmacValidator); scripts for duplicated, out-of-order,
 * conflicting and batched callbacks arrive exactly as scripted; a callback answered non-2xx is retried,
 * then given up; a reset cancels what is still scheduled.
 */
import { randomUUID } from 'node:crypto';
import { hmacValidator as HmacValidator } from '@adyen/api-library';
import { expect } from 'chai';
import Stripe from 'stripe';
import type { RunningSimulator } from '../../provider-simulator/index.js';
import {
  startCallbackReceiver,
  startTestSimulator,
  type CallbackReceiver,
  type SimControl,
  type SimSecrets,
} from '../support/simulator.js';

type AdyenItem = Parameters<HmacValidator['validateHMAC']>[0];
type ProviderId = 'stripe-sim' | 'adyen-sim';

interface Parsed {
  id: string;
  outcome: string;
  /** Stripe `created` (s) or Adyen `eventDate` (ms). */
  producedAt: number;
}

/** What each received body says, in the provider's own terms. */
function parseReceived(provider: ProviderId, body: Buffer): Parsed[] {
  const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  if (provider === 'stripe-sim') {
    const event = json as { id: string; type: string; created: number };
    return [{ id: event.id, outcome: event.type, producedAt: event.created }];
  }
  const items = (json.notificationItems as Array<{ NotificationRequestItem: Record<string, string> }>).map(
    (w) => w.NotificationRequestItem,
  );
  return items.map((item) => ({
    id: `${item.pspReference}:${item.eventCode}:${item.success}`,
    outcome: `${item.eventCode}:${item.success}`,
    producedAt: Date.parse(item.eventDate!),
  }));
}

const WORDS: Record<ProviderId, Record<string, string>> = {
  'stripe-sim': {
    approved: 'payment_intent.succeeded',
    declined: 'payment_intent.payment_failed',
    pending: 'payment_intent.processing',
  },
  'adyen-sim': { approved: 'AUTHORISATION:true', declined: 'AUTHORISATION:false', pending: 'PENDING:true' },
};

describe('provider simulator callbacks', function () {
  this.timeout(20_000);
  let sim: RunningSimulator;
  let control: SimControl;
  let secrets: SimSecrets;
  let receiver: CallbackReceiver;

  before(async () => {
    ({ sim, control, secrets } = await startTestSimulator());
    receiver = await startCallbackReceiver(secrets);
  });
  after(async () => {
    await sim.close();
    await receiver.close();
  });

  /** Creates a payment scripted with `behaviour`; returns its provider reference. */
  async function scriptedPayment(provider: ProviderId, behaviour: Record<string, unknown>): Promise<string> {
    const transactionId = `tx_${randomUUID()}`;
    await control.addScenario({ match: { transactionId }, behaviour });
    const callbackUrl = receiver.callbackUrl(provider);
    const response =
      provider === 'stripe-sim'
        ? await fetch(`${sim.apiBaseUrls[provider]}/v1/payment_intents`, {
            method: 'POST',
            headers: {
              authorization: 'Bearer sk_test_callbacks',
              'content-type': 'application/x-www-form-urlencoded',
            },
            body: new URLSearchParams({
              amount: '1130',
              currency: 'eur',
              return_url: 'https://shop.test/return',
              webhook_url: callbackUrl,
              'metadata[reference]': 'att_1',
              'metadata[transaction_id]': transactionId,
            }),
          })
        : await fetch(`${sim.apiBaseUrls[provider]}/v71/payments`, {
            method: 'POST',
            headers: { 'x-api-key': 'AQE_callbacks_key', 'content-type': 'application/json' },
            body: JSON.stringify({
              merchantAccount: 'CallbacksECOM',
              reference: 'att_1',
              amount: { value: 1130, currency: 'EUR' },
              returnUrl: 'https://shop.test/return',
              notificationUrl: callbackUrl,
              metadata: { transactionId },
            }),
          });
    const json = (await response.json()) as {
      id?: string;
      pspReference?: string;
      error?: { payment_intent?: { id: string } };
    };
    const reference = json.id ?? json.pspReference ?? json.error?.payment_intent?.id;
    if (!reference) throw new Error(`no payment: ${JSON.stringify(json)}`);
    return reference;
  }

  function receivedFor(provider: ProviderId, reference: string) {
    return receiver.received.filter(
      (r) => r.provider === provider && r.body.toString('utf8').includes(reference),
    );
  }

  for (const provider of ['stripe-sim', 'adyen-sim'] as const) {
    describe(provider, () => {
      const word = WORDS[provider];

      it('signs callbacks so the gateway verifier and the provider library accept them', async () => {
        const reference = await scriptedPayment(provider, { kind: 'approved' });
        await sim.callbacksIdle();
        const [received] = receivedFor(provider, reference);
        expect(received, 'callback received').not.to.equal(undefined);
        expect(received!.verified).to.equal(true);
        expect(received!.answeredStatus).to.equal(200);
        expect(received!.headers['content-type']).to.match(/^application\/json/);
        if (provider === 'stripe-sim') {
          const event = Stripe.webhooks.constructEvent(
            received!.body,
            received!.headers['stripe-signature'] as string,
            secrets['stripe-sim'][0]!,
          );
          expect(event.type).to.equal('payment_intent.succeeded');
          expect((event.data.object as { id: string }).id).to.equal(reference);
        } else {
          const validator = new HmacValidator();
          const body = JSON.parse(received!.body.toString('utf8')) as {
            notificationItems: Array<{ NotificationRequestItem: AdyenItem }>;
          };
          for (const { NotificationRequestItem: item } of body.notificationItems)
            expect(validator.validateHMAC(item, secrets['adyen-sim'][0]!)).to.equal(true);
        }
      });

      it('duplicated: the same notification twice, byte for byte', async () => {
        const reference = await scriptedPayment(provider, {
          kind: 'approved',
          callbacks: [{ outcome: 'approved', copies: 2 }],
        });
        await sim.callbacksIdle();
        const received = receivedFor(provider, reference);
        expect(received).to.have.length(2);
        expect(received[0]!.body.equals(received[1]!.body)).to.equal(true);
        expect(received.every((r) => r.verified)).to.equal(true);
      });

      it('out of order: the later outcome arrives first, the earlier one (older timestamp) after it', async () => {
        const reference = await scriptedPayment(provider, {
          kind: 'pending',
          callbacks: [
            { outcome: 'pending', deliverAfterMs: 150 },
            { outcome: 'approved', deliverAfterMs: 0 },
          ],
        });
        await sim.callbacksIdle();
        const parsed = receivedFor(provider, reference).flatMap((r) => parseReceived(provider, r.body));
        expect(parsed.map((p) => p.outcome)).to.deep.equal([word.approved, word.pending]);
        expect(parsed[1]!.producedAt).to.be.at.most(parsed[0]!.producedAt);
      });

      it('conflicting: approved, then declined, as two different notifications', async () => {
        const reference = await scriptedPayment(provider, {
          kind: 'approved',
          callbacks: [{ outcome: 'approved' }, { outcome: 'declined', deliverAfterMs: 20 }],
        });
        await sim.callbacksIdle();
        const parsed = receivedFor(provider, reference).flatMap((r) => parseReceived(provider, r.body));
        expect(parsed.map((p) => p.outcome)).to.deep.equal([word.approved, word.declined]);
        expect(parsed[0]!.id).not.to.equal(parsed[1]!.id);
      });

      it('retries a callback answered non-2xx, then stops once it is accepted', async () => {
        receiver.failNext(2);
        const reference = await scriptedPayment(provider, { kind: 'approved' });
        await sim.callbacksIdle();
        expect(receivedFor(provider, reference).map((r) => r.answeredStatus)).to.deep.equal([503, 503, 200]);
        const { callbacks } = await control.get<{
          callbacks: Array<{ attempt: number; delivered: boolean; httpStatus: number }>;
        }>('callbacks', { paymentId: reference });
        expect(callbacks.map((c) => [c.attempt, c.httpStatus, c.delivered])).to.deep.equal([
          [1, 503, false],
          [2, 503, false],
          [3, 200, true],
        ]);
      });

      it('gives up after its retries, and the next scripted callback still goes out', async () => {
        receiver.failNext(3);
        const reference = await scriptedPayment(provider, {
          kind: 'pending',
          callbacks: [{ outcome: 'pending' }, { outcome: 'approved' }],
        });
        await sim.callbacksIdle();
        const received = receivedFor(provider, reference);
        expect(received.map((r) => r.answeredStatus)).to.deep.equal([503, 503, 503, 200]);
        expect(parseReceived(provider, received[3]!.body)[0]!.outcome).to.equal(word.approved);
      });
    });
  }

  it('adyen-sim batches: several signed items in one notification body', async () => {
    const reference = await scriptedPayment('adyen-sim', {
      kind: 'pending',
      batchCallbacks: true,
      callbacks: [{ outcome: 'pending' }, { outcome: 'approved' }],
    });
    await sim.callbacksIdle();
    const received = receivedFor('adyen-sim', reference);
    expect(received).to.have.length(1);
    expect(received[0]!.verified).to.equal(true);
    expect(parseReceived('adyen-sim', received[0]!.body).map((p) => p.outcome)).to.deep.equal([
      'PENDING:true',
      'AUTHORISATION:true',
    ]);
  });

  it('a reset cancels callbacks that are still scheduled', async () => {
    const reference = await scriptedPayment('stripe-sim', {
      kind: 'approved',
      callbacks: [{ outcome: 'approved', deliverAfterMs: 600_000 }],
    });
    await control.reset();
    await sim.callbacksIdle();
    expect(receivedFor('stripe-sim', reference)).to.deep.equal([]);
    expect(await control.paymentCount({})).to.equal(0);
  });
});
