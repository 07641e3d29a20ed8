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
  changeStatus,
  deliveryState,
  startHarness,
  TARGETS,
  type Harness,
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
      await eventually(
        async () => (await deliveryState(knex, webhookId)) === 'delivered',
        WAIT_MS,
        'delivered',
      );

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
  });
}
