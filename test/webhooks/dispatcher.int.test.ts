import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { Webhook } from 'standardwebhooks';
import { decodeEvent } from '../../schemas/index.js';
import { requestResend, WebhookNotFoundError } from '../../webhook-dispatcher/index.js';
import { attemptMessage } from '../../webhook-dispatcher/attempt-messages.js';
import { newWebhookSecret } from '../../webhook-dispatcher/signature.js';
import { requireBackend } from '../support/backends.js';
import { eventually } from '../support/eventually.js';
import {
  addMerchant,
  attemptsOf,
  addTransaction,
  changeStatus,
  deliveryState,
  requestWebhook,
  metricValue,
  startHarness,
  timeline,
  TARGETS,
  TEST_SETTINGS,
  type Harness,
  waitForState,
} from './dispatcher-harness.js';
import { MerchantReceiver } from './merchant-receiver.js';

const WAIT_MS = 60_000;

for (const target of TARGETS) {
  describe(`webhook dispatcher: ${target.name}`, function () {
    this.timeout(180_000);
    let harness: Harness;

    before(async function () {
      requireBackend(this, target.name, target.available());
      harness = await startHarness(this, target);
    });
    after(async () => harness?.stop());

    it('delivers after failures (500, 500, then 200) with the same webhook-id; every attempt is stored and on the timeline', async () => {
      const { knex } = harness;
      const merchant = await addMerchant(harness);
      merchant.receiver.reply({ status: 500, body: 'upstream down' }, { status: 500 }, { status: 200 });
      const transactionId = await addTransaction(harness, merchant);
      const ref = { transactionId, merchantId: merchant.merchantId };
      const { webhookId, sequence } = await changeStatus(knex, ref, 'APPROVED');

      await waitForState(knex, webhookId, 'delivered');

      const received = merchant.receiver.forId(webhookId);
      expect(received).to.have.length(3);
      expect(
        received.every((r) => r.verified),
        'every attempt verifies with standardwebhooks',
      ).to.equal(true);
      expect(new Set(received.map((r) => r.body)).size, 'the same body on every attempt').to.equal(1);
      const transaction = await knex('transactions').where({ id: transactionId }).first();
      expect(JSON.parse(received[0]!.body)).to.deep.equal({
        type: 'transaction.status_changed',
        id: webhookId,
        transactionId,
        merchantTransactionId: transaction.merchant_transaction_id,
        status: 'approved',
        amount: { value: 2_550, currency: 'EUR' },
        sequence,
        occurredAt: JSON.parse(received[0]!.body).occurredAt,
      });

      const attempts = await attemptsOf(knex, webhookId);
      expect(
        attempts.map((a) => [a.attempt_number, a.response_status, a.error_class, a.trigger]),
      ).to.deep.equal([
        [1, 500, 'http_status', 'automatic'],
        [2, 500, 'http_status', 'automatic'],
        [3, 200, null, 'automatic'],
      ]);
      expect(attempts[0]!.response_body_excerpt).to.equal('upstream down');
      expect(attempts[0]!.url).to.equal(merchant.receiver.url());
      for (const attempt of attempts) {
        const headers =
          typeof attempt.request_headers === 'string'
            ? JSON.parse(attempt.request_headers)
            : attempt.request_headers;
        expect(headers['webhook-id']).to.equal(webhookId);
        expect(JSON.stringify(attempt)).not.to.contain(merchant.secret.slice(6));
      }
      const delivery = await knex('webhook_deliveries').where({ id: webhookId }).first();
      expect(delivery).to.include({ state: 'delivered', attempts: 3, url: merchant.receiver.url() });

      const entries = await timeline(knex, transactionId);
      expect(entries.map((e) => e.entry_type)).to.deep.equal([
        'TransactionStatusChanged',
        'MerchantWebhookRequested',
        'MerchantWebhookFailed',
        'MerchantWebhookRetryScheduled',
        'MerchantWebhookFailed',
        'MerchantWebhookRetryScheduled',
        'MerchantWebhookDelivered',
      ]);
      const failed = entries[2]!;
      expect(failed.merchant_view).to.deep.equal({
        webhookId,
        attemptNumber: 1,
        trigger: 'automatic',
        httpStatus: 500,
        errorClass: 'http_status',
      });
      expect(failed.internal).to.include({
        webhookId,
        httpStatus: 500,
        target: new URL(merchant.receiver.url()).origin,
      });
      expect(JSON.stringify(entries)).not.to.contain('webhook-signature');
      expect(entries[3]!.merchant_view).to.include({ webhookId, nextAttemptNumber: 2 });

      // The facts are business events on the stream, in the transaction's sequence.
      const outbox = await knex('outbox').where({ key: transactionId }).orderBy('id');
      const events = outbox.map((row) => decodeEvent(row.payload));
      expect(events.map((e) => e.envelope.type).slice(-1)).to.deep.equal(['MerchantWebhookDelivered']);
      expect(events.map((e) => e.envelope.sequence)).to.deep.equal(events.map((_, i) => i + 1));

      expect(await metricValue(harness, 'webhook_attempts_total', { outcome: 'failed' })).to.be.at.least(2);
      expect(await metricValue(harness, 'webhook_attempts_total', { outcome: 'delivered' })).to.be.at.least(
        1,
      );
    });

    it('a retry lost between commit and publish is re-published on redelivery, without sending the recorded attempt again', async () => {
      const { knex } = harness;
      const merchant = await addMerchant(harness);
      merchant.receiver.reply({ status: 500 }, { status: 200 });
      harness.faults.failNextAttemptPublish = true;
      const { webhookId } = await requestWebhook(harness, merchant);

      await waitForState(knex, webhookId, 'delivered');
      expect(harness.faults.failNextAttemptPublish, 'the fault happened').to.equal(false);
      expect(merchant.receiver.forId(webhookId)).to.have.length(2);
      const attempts = await attemptsOf(knex, webhookId);
      expect(attempts.map((a) => [a.attempt_number, a.response_status])).to.deep.equal([
        [1, 500],
        [2, 200],
      ]);
    });

    it('a scheduled retry whose message the broker lost is found overdue in the database and sent', async () => {
      const { knex } = harness;
      const merchant = await addMerchant(harness);
      merchant.receiver.reply({ status: 500 }, { status: 200 });
      harness.faults.loseNextAttemptPublish = true;
      const { webhookId } = await requestWebhook(harness, merchant);
      await eventually(
        async () => (await knex('webhook_attempts').where({ delivery_id: webhookId })).length === 1,
        WAIT_MS,
        'first attempt recorded',
      );
      expect(harness.faults.loseNextAttemptPublish, 'the retry message was lost').to.equal(false);
      // Without the sweep nothing would ever send attempt 2: it is due in ~100 ms and has no message.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(await deliveryState(knex, webhookId)).to.equal('pending');
      expect(merchant.receiver.forId(webhookId)).to.have.length(1);

      await harness.restartDispatcher({ overdueSweep: { intervalMs: 100, graceMs: 300 } });
      try {
        await waitForState(knex, webhookId, 'delivered');
        const attempts = await attemptsOf(knex, webhookId);
        expect(attempts.map((a) => [a.attempt_number, a.trigger, a.response_status])).to.deep.equal([
          [1, 'automatic', 500],
          [2, 'automatic', 200],
        ]);
        expect(merchant.receiver.forId(webhookId)).to.have.length(2);
        expect(await metricValue(harness, 'webhook_attempts_swept_total')).to.be.at.least(1);
      } finally {
        await harness.restartDispatcher();
      }
    });

    it('counts a 3xx as a failed attempt and never follows it', async () => {
      const { knex } = harness;
      const merchant = await addMerchant(harness);
      merchant.receiver.reply({ status: 302, headers: { location: '/elsewhere' } }, { status: 204 });
      const { webhookId } = await requestWebhook(harness, merchant, 'DECLINED');

      await waitForState(knex, webhookId, 'delivered');
      const attempts = await attemptsOf(knex, webhookId);
      expect(attempts.map((a) => [a.response_status, a.error_class])).to.deep.equal([
        [302, 'redirect'],
        [204, null],
      ]);
      expect(merchant.receiver.received.map((r) => r.path)).to.deep.equal(['/hook', '/hook']);
      expect(JSON.parse(merchant.receiver.received[0]!.body).status).to.equal('declined');
    });

    it('counts an endpoint that does not answer within the timeout as a failed attempt, then retries', async () => {
      const { knex } = harness;
      await harness.restartDispatcher({ timeoutMs: 300 });
      try {
        const merchant = await addMerchant(harness);
        merchant.receiver.reply('hang', { status: 200 });
        const { transactionId, webhookId } = await requestWebhook(harness, merchant);

        await waitForState(knex, webhookId, 'delivered');
        const attempts = await attemptsOf(knex, webhookId);
        expect(attempts.map((a) => [a.attempt_number, a.response_status, a.error_class])).to.deep.equal([
          [1, null, 'timeout'],
          [2, 200, null],
        ]);
        expect(Number(attempts[0]!.duration_ms)).to.be.at.least(300).and.below(5_000);
        expect(
          (await timeline(knex, transactionId))
            .map((entry) => entry.entry_type)
            .filter((t) => t.startsWith('MerchantWebhook')),
        ).to.include.members([
          'MerchantWebhookFailed',
          'MerchantWebhookRetryScheduled',
          'MerchantWebhookDelivered',
        ]);
      } finally {
        await harness.restartDispatcher();
      }
    });

    it('refuses a webhook URL on a loopback address when loopback is not allowed, without connecting', async () => {
      const { knex } = harness;
      await harness.restartDispatcher({ allowAddresses: [] });
      try {
        const merchant = await addMerchant(harness);
        const { webhookId } = await requestWebhook(harness, merchant);

        await waitForState(knex, webhookId, 'exhausted');
        const attempts = await knex('webhook_attempts').where({ delivery_id: webhookId });
        expect(attempts.map((a) => [a.response_status, a.error_class])).to.deep.equal(
          TEST_SETTINGS.retryScheduleMs.concat(0).map(() => [null, 'forbidden_url']),
        );
        expect(merchant.receiver.received, 'no request reached the receiver').to.have.length(0);
      } finally {
        await harness.restartDispatcher();
      }
    });

    it('exhausts the schedule with MerchantWebhookRetryExhausted, honouring Retry-After', async () => {
      const { knex } = harness;
      const merchant = await addMerchant(harness);
      merchant.receiver
        .reply({ status: 503, headers: { 'retry-after': '1' } })
        .replyByDefault({ status: 503 });
      const { transactionId, webhookId } = await requestWebhook(harness, merchant);

      await waitForState(knex, webhookId, 'exhausted');
      expect(merchant.receiver.forId(webhookId)).to.have.length(3);
      const entries = await timeline(knex, transactionId);
      const types = entries.map((e) => e.entry_type);
      expect(types.slice(2)).to.deep.equal([
        'MerchantWebhookFailed',
        'MerchantWebhookRetryScheduled',
        'MerchantWebhookFailed',
        'MerchantWebhookRetryScheduled',
        'MerchantWebhookFailed',
        'MerchantWebhookRetryExhausted',
      ]);
      expect(entries.at(-1)!.merchant_view).to.deep.equal({ webhookId, attempts: 3 });
      // The merchant asked for 1 s; the schedule alone would have waited ~100 ms.
      expect(Number(entries[3]!.internal.delayMs)).to.be.at.least(1_000);
      const outbox = await knex('outbox').where({
        key: transactionId,
        event_type: 'MerchantWebhookRetryExhausted',
      });
      expect(outbox).to.have.length(1);
      expect({ ...decodeEvent(outbox[0].payload).payload }).to.deep.equal({ webhookId, attempts: 3 });
      const delivery = await knex('webhook_deliveries').where({ id: webhookId }).first();
      expect(delivery).to.include({ state: 'exhausted', attempts: 3, next_attempt_number: null });
      expect(await metricValue(harness, 'webhook_deliveries_exhausted_total')).to.be.at.least(1);
    });

    it('delivers on the first try, signed with every active secret so the merchant verifies with each; expired secrets are not used', async () => {
      const { knex } = harness;
      const merchant = await addMerchant(harness);
      const next = newWebhookSecret(randomBytes);
      const expired = newWebhookSecret(randomBytes);
      await knex('merchant_webhook_secrets').insert([
        { merchant_id: merchant.merchantId, secret: next, expires_at: new Date(Date.now() + 3_600_000) },
        { merchant_id: merchant.merchantId, secret: expired, expires_at: new Date(Date.now() - 60_000) },
      ]);
      const { webhookId } = await requestWebhook(harness, merchant);

      await waitForState(knex, webhookId, 'delivered');
      const [request] = merchant.receiver.forId(webhookId);
      expect(request!.headers['webhook-signature']!.split(' ')).to.have.length(2);
      for (const secret of [merchant.secret, next]) {
        expect(new Webhook(secret).verify(request!.body, request!.headers)).to.have.property('id', webhookId);
      }
      expect(() => new Webhook(expired).verify(request!.body, request!.headers)).to.throw();
      expect(merchant.receiver.forId(webhookId), 'delivered on the first try').to.have.length(1);
      expect(await knex('webhook_attempts').where({ delivery_id: webhookId })).to.have.length(1);
    });

    it('a duplicate MerchantWebhookRequested, or a redelivered attempt message, sends nothing again', async () => {
      const { knex, bus, topics } = harness;
      const merchant = await addMerchant(harness);
      const transactionId = await addTransaction(harness, merchant);
      const ref = { transactionId, merchantId: merchant.merchantId };
      const { webhookId } = await changeStatus(knex, ref, 'APPROVED');
      await waitForState(knex, webhookId, 'delivered');

      // The relay publishing the same outbox row again (a crash before marking it published).
      const row = await knex('outbox')
        .where({ key: transactionId, event_type: 'MerchantWebhookRequested' })
        .first();
      const headers = typeof row.headers === 'string' ? JSON.parse(row.headers) : row.headers;
      await bus.publish(topics.events, [{ key: transactionId, value: Buffer.from(row.payload), headers }]);
      // A redelivered attempt message for the recorded attempt 1.
      await bus.publish(topics.attempts, [
        attemptMessage(transactionId, {
          deliveryId: webhookId,
          attemptNumber: 1,
          trigger: 'automatic',
          requestedBy: null,
          correlationId: 'c',
          causationId: null,
          deferrals: 0,
        }),
      ]);
      // Messages of one transaction are handled in order: once a later webhook of the same transaction
      // is delivered on both paths, the duplicates before it were handled.
      const marker = await changeStatus(knex, ref, 'APPROVED');
      await waitForState(knex, marker.webhookId, 'delivered');
      await requestResend(knex, { webhookId: marker.webhookId, actor: 'test' }, { topic: topics.attempts });
      await eventually(
        () => merchant.receiver.forId(marker.webhookId).length === 2,
        WAIT_MS,
        'marker resend',
      );

      expect(merchant.receiver.forId(webhookId)).to.have.length(1);
      expect(await knex('webhook_deliveries').where({ transaction_id: transactionId })).to.have.length(2);
      expect(await knex('webhook_attempts').where({ delivery_id: webhookId })).to.have.length(1);
    });

    it('resends to the original URL with the same webhook-id after the merchant changed its URL', async () => {
      const { knex, topics } = harness;
      const merchant = await addMerchant(harness);
      const { transactionId, webhookId } = await requestWebhook(harness, merchant);
      await waitForState(knex, webhookId, 'delivered');

      const moved = await new MerchantReceiver(merchant.secret).start();
      harness.receivers.push(moved);
      await knex('merchants').where({ id: merchant.merchantId }).update({ default_webhook_url: moved.url() });
      await knex('transactions').where({ id: transactionId }).update({ webhook_url: moved.url() });

      const resend = await requestResend(
        knex,
        { webhookId, actor: 'support@psp.example' },
        { topic: topics.attempts },
      );
      expect(resend.attemptNumber).to.equal(2);
      await eventually(() => merchant.receiver.forId(webhookId).length === 2, WAIT_MS, 'resent');
      await eventually(
        async () => (await knex('webhook_attempts').where({ delivery_id: webhookId })).length === 2,
        WAIT_MS,
        'resend recorded',
      );

      const [first, again] = merchant.receiver.forId(webhookId);
      expect(again!.verified).to.equal(true);
      expect(again!.body).to.equal(first!.body);
      expect(moved.received).to.have.length(0);
      const attempt = await knex('webhook_attempts')
        .where({ delivery_id: webhookId, attempt_number: 2 })
        .first();
      expect(attempt).to.include({
        trigger: 'manual_resend',
        requested_by: 'support@psp.example',
        url: merchant.receiver.url(),
        response_status: 200,
      });
      const entries = await timeline(knex, transactionId);
      const last = entries.at(-1)!;
      expect(last.entry_type).to.equal('MerchantWebhookDelivered');
      expect(last.merchant_view).to.include({ webhookId, attemptNumber: 2, trigger: 'manual_resend' });
      expect(last.internal).to.include({ requestedBy: 'support@psp.example' });

      await requestResend(knex, { webhookId: 'msg_unknown', actor: 'x' }).then(
        () => expect.fail('resend of an unknown webhook must fail'),
        (error: unknown) => expect(error).to.be.instanceOf(WebhookNotFoundError),
      );
    });

    it("a merchant endpoint that hangs does not delay a healthy merchant's webhooks", async () => {
      const { knex } = harness;
      const slow = await addMerchant(harness);
      slow.receiver.replyByDefault('hang');
      const healthy = await addMerchant(harness);

      const slowWebhooks: string[] = [];
      for (let i = 0; i < 5; i++) {
        const transactionId = await addTransaction(harness, slow);
        slowWebhooks.push(
          (await changeStatus(knex, { transactionId, merchantId: slow.merchantId }, 'APPROVED')).webhookId,
        );
      }
      // The slow endpoint holds as many requests as the per-host limit allows; two more wait in memory
      // and the fifth, over the host's queue bound, is deferred through the attempts topic.
      const deferredBefore = await metricValue(harness, 'webhook_attempts_deferred_total');
      await eventually(() => slow.receiver.hangingCount === 2, WAIT_MS, 'slow endpoint busy');
      await eventually(
        async () => (await metricValue(harness, 'webhook_attempts_deferred_total')) > deferredBefore,
        WAIT_MS,
        'fifth attempt deferred',
      );

      const healthyWebhooks: string[] = [];
      for (let i = 0; i < 3; i++) {
        const transactionId = await addTransaction(harness, healthy);
        healthyWebhooks.push(
          (await changeStatus(knex, { transactionId, merchantId: healthy.merchantId }, 'APPROVED')).webhookId,
        );
      }
      await eventually(
        async () =>
          (await knex('webhook_deliveries').whereIn('id', healthyWebhooks).where({ state: 'delivered' }))
            .length === 3,
        WAIT_MS,
        'healthy webhooks delivered',
      );
      // Delivered while the slow endpoint is still being tried: its attempts are in flight, none finished.
      expect(slow.receiver.hangingCount).to.equal(2);
      expect(await knex('webhook_attempts').whereIn('delivery_id', slowWebhooks)).to.have.length(0);

      slow.receiver.replyByDefault({ status: 200 });
      slow.receiver.release(200);
      await eventually(
        async () =>
          (await knex('webhook_deliveries').whereIn('id', slowWebhooks).where({ state: 'delivered' }))
            .length === 5,
        WAIT_MS,
        'slow webhooks delivered in the end',
      );
      expect(slow.receiver.maxOpen, 'per-host limit').to.be.at.most(2);
      const delivered = await knex('transaction_timeline')
        .where({ entry_type: 'MerchantWebhookDelivered' })
        .whereIn('merchant_id', [slow.merchantId, healthy.merchantId])
        .orderBy('id')
        .select('merchant_id');
      expect(delivered.map((row) => row.merchant_id)).to.deep.equal([
        ...healthyWebhooks.map(() => healthy.merchantId),
        ...slowWebhooks.map(() => slow.merchantId),
      ]);
      expect(await metricValue(harness, 'webhook_attempts_queued_total')).to.be.at.least(2);
    });

    it('attempts over the per-host limit wait in memory and go out in arrival order as the host frees slots', async () => {
      const { knex } = harness;
      const busy = await addMerchant(harness);
      busy.receiver.replyByDefault('hang');
      const deferredBefore = await metricValue(harness, 'webhook_attempts_deferred_total');
      const webhooks: string[] = [];
      // One at a time, so the arrival order is known: two fill the host's slots, two wait.
      for (let i = 0; i < 4; i++) {
        const transactionId = await addTransaction(harness, busy);
        webhooks.push(
          (await changeStatus(knex, { transactionId, merchantId: busy.merchantId }, 'APPROVED')).webhookId,
        );
        await eventually(
          async () =>
            busy.receiver.received.length + (await metricValue(harness, 'webhook_attempts_waiting')) ===
            i + 1,
          WAIT_MS,
          `webhook ${i + 1} sent or waiting`,
        );
      }
      expect(busy.receiver.received).to.have.length(2);
      expect(await metricValue(harness, 'webhook_attempts_waiting')).to.equal(2);
      // Waiting costs no attempt and no trip through the broker.
      expect(await knex('webhook_attempts').whereIn('delivery_id', webhooks)).to.have.length(0);
      expect(await metricValue(harness, 'webhook_attempts_deferred_total')).to.equal(deferredBefore);

      // Each answer frees one slot, which goes to the longest waiter.
      busy.receiver.releaseOne(200);
      await eventually(() => busy.receiver.received.length === 3, WAIT_MS, 'third sent');
      busy.receiver.releaseOne(200);
      await eventually(() => busy.receiver.received.length === 4, WAIT_MS, 'fourth sent');
      expect(busy.receiver.received.map((r) => r.headers['webhook-id'])).to.deep.equal(webhooks);
      expect(await metricValue(harness, 'webhook_attempts_waiting')).to.equal(0);

      busy.receiver.release(200);
      await eventually(
        async () =>
          (await knex('webhook_deliveries').whereIn('id', webhooks).where({ state: 'delivered' })).length ===
          4,
        WAIT_MS,
        'all delivered',
      );
      const attempts = await knex('webhook_attempts').whereIn('delivery_id', webhooks);
      expect(attempts.map((a) => [a.attempt_number, a.response_status])).to.deep.equal(
        webhooks.map(() => [1, 200]),
      );
      expect(busy.receiver.received.every((r) => r.verified)).to.equal(true);
      expect(busy.receiver.maxOpen, 'per-host limit').to.be.at.most(2);
    });

    it('on stop, an attempt waiting for a busy host goes back on the attempts topic and is delivered after a restart', async () => {
      const { knex } = harness;
      const busy = await addMerchant(harness);
      busy.receiver.replyByDefault('hang');
      const webhooks: string[] = [];
      for (let i = 0; i < 3; i++) {
        const transactionId = await addTransaction(harness, busy);
        webhooks.push(
          (await changeStatus(knex, { transactionId, merchantId: busy.merchantId }, 'APPROVED')).webhookId,
        );
      }
      await eventually(
        async () =>
          busy.receiver.hangingCount === 2 && (await metricValue(harness, 'webhook_attempts_waiting')) === 1,
        WAIT_MS,
        'two in flight, one waiting',
      );
      const waiting = webhooks.find((id) => busy.receiver.forId(id).length === 0)!;
      const deferredBefore = await metricValue(harness, 'webhook_attempts_deferred_total');

      await harness.restartDispatcher();
      expect(await metricValue(harness, 'webhook_attempts_deferred_total')).to.be.greaterThan(deferredBefore);

      busy.receiver.replyByDefault({ status: 200 });
      busy.receiver.release(200);
      await eventually(
        async () =>
          (await knex('webhook_deliveries').whereIn('id', webhooks).where({ state: 'delivered' })).length ===
          3,
        WAIT_MS,
        'all delivered after the restart',
      );
      const attempts = await knex('webhook_attempts').where({ delivery_id: waiting });
      expect(attempts.map((a) => [a.attempt_number, a.response_status])).to.deep.equal([[1, 200]]);
      expect(busy.receiver.forId(waiting).length).to.be.at.least(1);
    });
  });
}
