/**
 * A back-office resend end to end: the real dispatcher, outbox relay and broker (embedded log on PGlite
 * and on PostgreSQL), a real merchant endpoint verifying signatures with `standardwebhooks`, and the
 * back-office API over HTTP. The resend must reach the URL the webhook was first sent to — the
 * merchant's default at that time — even after the merchant changed its default URL, with the same
 * webhook-id and body, and show up on the timeline as a manual attempt.
 */
import { expect } from 'chai';
import { createBackofficeUser, type IssuedToken } from '../../backoffice/index.js';
import { requireBackend } from '../support/backends.js';
import { eventually } from '../support/eventually.js';
import { insertTransaction } from '../support/fixtures.js';
import {
  addMerchant,
  attemptsOf,
  changeStatus,
  requestWebhook,
  startHarness,
  TARGETS,
  type Harness,
  waitForState,
} from '../webhooks/dispatcher-harness.js';
import { MerchantReceiver } from '../webhooks/merchant-receiver.js';
import { apiClient, auditRows, startBackofficeServer, type BackofficeServer } from './backoffice-support.js';

const WAIT_MS = 10_000;

for (const target of TARGETS.filter((t) => t.name.startsWith('embedded'))) {
  describe(`back-office webhook resend: ${target.name}`, function () {
    this.timeout(120_000);
    let harness: Harness;
    let server: BackofficeServer;
    let call: ReturnType<typeof apiClient>;
    let support: IssuedToken;

    before(async function () {
      requireBackend(this, target.name, target.available());
      harness = await startHarness(this, target);
      server = await startBackofficeServer(harness.knex, { resendTopic: harness.topics.attempts });
      call = apiClient(server);
      support = await createBackofficeUser(harness.knex, {
        email: 'support@psp.example',
        kind: 'platform',
        roles: ['support'],
      });
    });
    after(async () => {
      await server?.close();
      await harness?.stop();
    });

    it("resends to the URL the webhook was requested with, not the merchant's new default, as a manual attempt", async () => {
      const { knex } = harness;
      const merchant = await addMerchant(harness);
      // No URL of its own: the webhook goes to the merchant's default at request time.
      const transactionId = await insertTransaction(knex, merchant.merchantId, {
        webhook_url: null,
        status: 'AWAITING_PROVIDER',
      });
      const { webhookId } = await changeStatus(
        knex,
        { transactionId, merchantId: merchant.merchantId },
        'APPROVED',
      );
      await waitForState(knex, webhookId, 'delivered');

      const moved = await new MerchantReceiver(merchant.secret).start();
      harness.receivers.push(moved);
      await knex('merchants').where({ id: merchant.merchantId }).update({ default_webhook_url: moved.url() });

      const resend = await call(
        support.token,
        'POST',
        `/transactions/${transactionId}/webhooks/${webhookId}/resend`,
      );
      expect(resend.status).to.equal(202);
      expect(resend.body).to.deep.equal({ webhookId, attemptNumber: 2, status: 'queued' });

      await eventually(
        () => merchant.receiver.forId(webhookId).length === 2,
        WAIT_MS,
        'resent to the original URL',
      );
      const [first, again] = merchant.receiver.forId(webhookId);
      expect(again!.verified, 'the resend verifies with standardwebhooks').to.equal(true);
      expect(again!.body).to.equal(first!.body);
      expect(moved.received).to.have.length(0);

      await eventually(
        async () => (await knex('webhook_attempts').where({ delivery_id: webhookId })).length === 2,
        WAIT_MS,
        'resend recorded',
      );
      const webhooks = await call(support.token, 'GET', `/transactions/${transactionId}/webhooks`);
      const attempt = webhooks.body.data[0].attempts[1];
      expect(attempt).to.include({
        attemptNumber: 2,
        trigger: 'manual_resend',
        httpStatus: 200,
        url: merchant.receiver.url(),
        requestedBy: support.userId,
        requestedByEmail: 'support@psp.example',
      });

      const timeline = await call(support.token, 'GET', `/transactions/${transactionId}/timeline`);
      const last = timeline.body.entries.at(-1);
      expect(last.type).to.equal('MerchantWebhookDelivered');
      expect(last.internal).to.include({
        trigger: 'manual_resend',
        attemptNumber: 2,
        requestedBy: support.userId,
      });
      expect(last.merchantView).to.include({ webhookId, trigger: 'manual_resend', attemptNumber: 2 });

      expect(
        (await auditRows(knex, support.userId)).map((r) => [r.action, r.outcome, r.target_id]),
      ).to.deep.include(['webhook.resend', 'succeeded', webhookId]);
    });

    it('answers a resend asked while an earlier one is still waiting with that one, and queues nothing more', async () => {
      const { knex } = harness;
      const merchant = await addMerchant(harness);
      const { transactionId, webhookId } = await requestWebhook(harness, merchant);
      await waitForState(knex, webhookId, 'delivered');
      // The endpoint now holds every request: a resend stays in flight, not yet recorded.
      merchant.receiver.replyByDefault('hang');
      const path = `/transactions/${transactionId}/webhooks/${webhookId}/resend`;

      // A double click: two requests at once.
      const both = await Promise.all([call(support.token, 'POST', path), call(support.token, 'POST', path)]);
      expect(both.map((r) => r.status)).to.deep.equal([202, 202]);
      expect(both.map((r) => r.body.status).sort()).to.deep.equal(['already_queued', 'queued']);
      expect(both.map((r) => r.body.attemptNumber)).to.deep.equal([2, 2]);
      await eventually(() => merchant.receiver.hangingCount === 1, WAIT_MS, 'resend in flight');
      const again = await call(support.token, 'POST', path);
      expect(again.body).to.deep.equal({ webhookId, attemptNumber: 2, status: 'already_queued' });

      // Once its attempt is recorded, a new request queues a new resend.
      merchant.receiver.release(500);
      await eventually(
        async () => (await knex('webhook_attempts').where({ delivery_id: webhookId })).length === 2,
        WAIT_MS,
        'resend recorded',
      );
      const next = await call(support.token, 'POST', path);
      expect(next.body).to.deep.equal({ webhookId, attemptNumber: 3, status: 'queued' });
      await eventually(() => merchant.receiver.hangingCount === 1, WAIT_MS, 'second resend in flight');

      // A resend waiting for longer than the window is presumed lost: the next request queues another.
      await knex('webhook_deliveries')
        .where({ id: webhookId })
        .update({ resend_requested_at: knex.raw(`now() - interval '11 minutes'`) });
      const afterWindow = await call(support.token, 'POST', path);
      expect(afterWindow.body).to.deep.equal({ webhookId, attemptNumber: 4, status: 'queued' });

      merchant.receiver.replyByDefault({ status: 200 });
      merchant.receiver.release(200);
      await eventually(
        async () => (await knex('webhook_attempts').where({ delivery_id: webhookId })).length === 4,
        WAIT_MS,
        'every queued resend recorded',
      );
      const attempts = await attemptsOf(knex, webhookId);
      expect(attempts.map((a) => [a.attempt_number, a.trigger])).to.deep.equal([
        [1, 'automatic'],
        [2, 'manual_resend'],
        [3, 'manual_resend'],
        [4, 'manual_resend'],
      ]);
      const audited = (await auditRows(knex, support.userId)).filter(
        (r) => r.action === 'webhook.resend' && r.target_id === webhookId,
      );
      expect(audited.map((r) => r.outcome)).to.deep.equal(Array(5).fill('succeeded'));
      expect(audited.filter((r) => (r.detail as { alreadyQueued?: boolean }).alreadyQueued)).to.have.length(
        2,
      );
    });
  });
}
