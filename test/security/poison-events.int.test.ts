/**
 * Poison messages on the platform's own topics, on the whole running platform: garbage on the business
 * topic (`payments.events.v1`) and on the Provider Gateway's topic (`payments.provider-callbacks.v1`),
 * published with the very key of a live transaction (its id, or its provider reference), ahead of that
 * transaction's next real messages. Each garbage message ends on its consumer group's dead-letter topic
 * with a failed_events row, and does not stall its key: the real payment behind it is still approved
 * and its merchant webhook delivered within the retry window.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { deadLetterTopicFor } from '../../core/broker/topics.js';
import { BUSINESS_EVENTS_TOPIC } from '../../core/streams.js';
import { PROVIDER_CALLBACKS_TOPIC } from '../../gateway/provider/index.js';
import { eventually } from '../support/eventually.js';
import { everyGroupCaughtUp, messagesOn } from './support/broker-log.js';
import { DRIVERS, startSecurityPlatform, type SecurityPlatform } from './support/security-platform.js';

/** Stripe-style or Adyen-style callback body about a payment the platform does not know. */
function providerBody(provider: string, reference: string): string {
  return provider === 'adyen-sim'
    ? JSON.stringify({
        live: 'false',
        notificationItems: [
          {
            NotificationRequestItem: {
              pspReference: reference,
              eventCode: 'AUTHORISATION',
              success: 'true',
              amount: { value: 1, currency: 'EUR' },
            },
          },
        ],
      })
    : JSON.stringify({
        id: 'evt_poison',
        type: 'payment_intent.succeeded',
        data: { object: { id: reference, object: 'payment_intent' } },
      });
}

/** Marks the garbage on the log (the platform ignores unknown headers). */
const POISON_HEADER = 'x-test-poison';

/** Dead-lettering (5 attempts with backoff at most) plus the payment's own processing, generously. */
const RETRY_WINDOW_MS = 30_000;

for (const driver of DRIVERS) {
  describe(`poison messages on the platform's topics (${driver})`, function () {
    this.timeout(120_000);
    let t: SecurityPlatform;
    let order = 0;

    before(async function () {
      t = await startSecurityPlatform(this, driver);
    });
    after(async () => t?.stop());

    const knex = () => t.platform.database.knex;

    /** A card deposit waiting at the provider's checkout page: its next messages are still to come. */
    const waitingDeposit = async () => {
      const { status, body } = await t.deposit({
        merchantTransactionId: `poison-${Date.now()}-${order++}`,
        amount: { value: 1000 + order * 100, currency: 'EUR' },
        paymentMethod: 'card',
        returnUrls: { success: 'https://shop.example/ok', failure: 'https://shop.example/failed' },
      });
      expect(status, JSON.stringify(body)).to.equal(201);
      let state: { state?: string; redirectUrl?: string } = {};
      await eventually(
        async () =>
          (state = (await (await fetch(`${body.hostedPaymentUrl}/state`)).json()) as typeof state).state ===
          'redirect',
        30_000,
        'the payment waits at the provider',
      );
      return { transactionId: body.transactionId as string, checkoutUrl: state.redirectUrl! };
    };
    const pay = async (checkoutUrl: string) => {
      const paid = await fetch(checkoutUrl, {
        method: 'POST',
        body: new URLSearchParams({ action: 'pay' }),
        redirect: 'manual',
      });
      expect(paid.status).to.equal(303);
    };
    const completes = async (transactionId: string) => {
      await eventually(
        async () => (await t.transaction(transactionId)).status === 'approved',
        RETRY_WINDOW_MS,
        'the payment behind the poison is approved',
      );
      await eventually(
        () =>
          t.receiver.received.some((w) => w.verified && JSON.parse(w.body).transactionId === transactionId),
        RETRY_WINDOW_MS,
        'its signed webhook is delivered',
      );
    };
    /** Real messages of `key` followed the poison on the same partition (so they waited behind it). */
    const expectQueuedBehind = async (topic: string, key: string) => {
      const rows = await knex()('broker_messages')
        .where({ topic, key })
        .orderBy('offset')
        .select('partition', 'headers');
      expect(new Set(rows.map((r) => r.partition)).size, 'one partition per key').to.equal(1);
      const poisoned = rows.map(
        (r) => (typeof r.headers === 'string' ? JSON.parse(r.headers) : r.headers)[POISON_HEADER] === '1',
      );
      const lastPoison = poisoned.lastIndexOf(true);
      expect(lastPoison, 'the poison is on the log').to.be.at.least(0);
      expect(poisoned.slice(lastPoison + 1), 'real messages after the poison').to.include(false);
    };
    const failedEvents = (topic: string, key: string) =>
      knex()('failed_events')
        .where({ topic, message_key: key })
        .select('consumer_group', 'dead_letter_topic', 'error_class', 'attempts');

    it('dead-letters garbage on payments.events.v1 and still completes the payment keyed behind it', async () => {
      const { transactionId, checkoutUrl } = await waitingDeposit();
      const [realEvent] = await knex()('outbox')
        .where({ key: transactionId })
        .orderBy('id')
        .limit(1)
        .select('payload');
      const garbage: Array<{ value: Buffer; headers?: Record<string, string> }> = [
        { value: randomBytes(64) }, // no headers: the processor decodes it
        {
          value: Buffer.concat([Buffer.from([0xc3, 0x01]), randomBytes(8), randomBytes(40)]),
          headers: { 'event-type': 'DepositRequested' },
        }, // unknown schema
        {
          value: Buffer.from(realEvent.payload).subarray(0, 20),
          headers: { 'event-type': 'MerchantWebhookRequested' },
        }, // truncated: the dispatcher decodes it
        {
          value: Buffer.from('{"type":"DepositRequested"}'),
          headers: { 'event-type': 'CustomerDataSubmitted', 'event-id': 'evt_poison' },
        },
      ];
      await t.platform.broker.publish(
        BUSINESS_EVENTS_TOPIC,
        garbage.map((g) => ({
          key: transactionId,
          value: g.value,
          headers: { ...g.headers, [POISON_HEADER]: '1' },
        })),
      );
      await pay(checkoutUrl);
      await completes(transactionId);
      await expectQueuedBehind(BUSINESS_EVENTS_TOPIC, transactionId);

      await eventually(
        async () => (await failedEvents(BUSINESS_EVENTS_TOPIC, transactionId)).length >= 4,
        RETRY_WINDOW_MS,
        'every poison recorded',
      );
      const failed = await failedEvents(BUSINESS_EVENTS_TOPIC, transactionId);
      // Three are the processor's to decode, one the webhook dispatcher's; each group skips the others'.
      expect(failed.map((f) => f.consumer_group).sort()).to.deep.equal([
        'processor',
        'processor',
        'processor',
        'webhook-dispatcher',
      ]);
      for (const f of failed) {
        expect(f.dead_letter_topic).to.equal(deadLetterTopicFor(BUSINESS_EVENTS_TOPIC, f.consumer_group));
        expect(await messagesOn(knex(), f.dead_letter_topic), f.dead_letter_topic).to.be.greaterThan(0);
      }
      await eventually(
        () => everyGroupCaughtUp(knex(), BUSINESS_EVENTS_TOPIC),
        RETRY_WINDOW_MS,
        'no consumer group left behind',
      );
    });

    it('dead-letters garbage on payments.provider-callbacks.v1 and still applies the real callback keyed behind it', async () => {
      const { transactionId, checkoutUrl } = await waitingDeposit();
      const attempt = await knex()('payment_attempts')
        .where({ transaction_id: transactionId })
        .whereNotNull('provider_reference')
        .first('provider_reference', 'provider_id');
      const reference = attempt.provider_reference as string;
      const envelope = (over: Record<string, unknown>) =>
        Buffer.from(
          JSON.stringify({
            callbackId: `cb_poison_${order++}`,
            provider: attempt.provider_id,
            reference,
            receivedAt: new Date().toISOString(),
            headers: {},
            bodyBase64: '',
            ...over,
          }),
        );
      const garbage = [
        randomBytes(48), // not JSON
        Buffer.from('{"callbackId":1}'), // not an envelope
        envelope({ provider: 'no-such-provider' }),
        // Error messages quoting hostile content must still fit the DLQ headers and failed_events.
        envelope({ provider: 'x\u0000y' }),
        envelope({ provider: '\ud800\u202e' }),
        envelope({ bodyBase64: Buffer.from('not json at all').toString('base64') }),
        envelope({ bodyBase64: Buffer.from('{"notificationItems":[{}],"data":{}}').toString('base64') }),
        // Well-formed but for its receive time: used to be retried five times before dead-lettering.
        envelope({
          receivedAt: 'yesterday',
          bodyBase64: Buffer.from(providerBody(attempt.provider_id, 'ref_elsewhere')).toString('base64'),
        }),
      ];
      await t.platform.broker.publish(
        PROVIDER_CALLBACKS_TOPIC,
        garbage.map((value, i) => ({
          key: reference,
          value,
          headers: { 'callback-id': `cb_poison_${i}`, [POISON_HEADER]: '1' },
        })),
      );
      await pay(checkoutUrl);
      await completes(transactionId);
      await expectQueuedBehind(PROVIDER_CALLBACKS_TOPIC, reference);

      await eventually(
        async () => (await failedEvents(PROVIDER_CALLBACKS_TOPIC, reference)).length >= garbage.length,
        RETRY_WINDOW_MS,
        'every poison recorded',
      );
      for (const f of await failedEvents(PROVIDER_CALLBACKS_TOPIC, reference)) {
        expect(f.dead_letter_topic).to.equal(deadLetterTopicFor(PROVIDER_CALLBACKS_TOPIC, f.consumer_group));
        expect(await messagesOn(knex(), f.dead_letter_topic)).to.be.greaterThan(0);
      }
      await eventually(
        () => everyGroupCaughtUp(knex(), PROVIDER_CALLBACKS_TOPIC),
        RETRY_WINDOW_MS,
        'no consumer group left behind',
      );
    });
  });
}
