/**
 * The back-office API over real HTTP on a real database (PGlite and PostgreSQL): authentication,
 * merchant isolation (another merchant's transaction is 404), merchant-safe views that reveal nothing
 * internal even for a transaction with provider failures and a fallback, internal views by permission,
 * audit rows for internal reads and privileged actions, search and pagination, resend requests. Every
 * response is checked against the OpenAPI document by the client.
 */
import { expect } from 'chai';
import type { Knex } from 'knex';
import { disableBackofficeUser } from '../../backoffice/index.js';
import { WEBHOOK_ATTEMPTS_TOPIC } from '../../webhook-dispatcher/attempt-messages.js';
import { createTestDatabase } from '../support/database.js';
import { insertMerchant, insertTransaction } from '../support/fixtures.js';
import {
  apiClient,
  auditRows,
  createUsers,
  SECRETS,
  seedFallbackTransaction,
  startBackofficeServer,
  type ApiResponse,
  type BackofficeServer,
  type Users,
} from './backoffice-support.js';

function expectNothingInternal(response: ApiResponse, what: string): void {
  for (const [name, secret] of Object.entries(SECRETS))
    expect(response.text, `${what} reveals ${name}`).not.to.include(secret);
  expect(response.text, `${what} reveals a provider failure`).not.to.match(
    /ProviderRequestFailed|RoutingCompleted|provider_error/,
  );
}

for (const driver of ['pglite', 'postgres'] as const) {
  describe(`back-office API (${driver})`, function () {
    this.timeout(60_000);
    let knex: Knex;
    let release: () => Promise<void>;
    let server: BackofficeServer;
    let call: ReturnType<typeof apiClient>;
    let users: Users;
    let merchantA: string;
    let merchantB: string;
    let seeded: Awaited<ReturnType<typeof seedFallbackTransaction>>;
    let otherTransaction: string;

    before(async function () {
      const db = await createTestDatabase(driver, this);
      knex = db.database.knex;
      release = db.release;
      merchantA = await insertMerchant(knex);
      merchantB = await insertMerchant(knex);
      users = await createUsers(knex, merchantA, merchantB);
      seeded = await seedFallbackTransaction(knex, merchantA);
      otherTransaction = await insertTransaction(knex, merchantB, { status: 'APPROVED' });
      server = await startBackofficeServer(knex);
      call = apiClient(server);
    });
    after(async () => {
      await server?.close();
      await release?.();
    });

    const path = (suffix = '') => `/transactions/${seeded.transactionId}${suffix}`;

    describe('authentication', () => {
      it('refuses requests without a token, with a malformed, unknown or wrong token: the same 401 problem', async () => {
        const [known] = users.viewer.token.split('_').slice(1, 2);
        const tokens = [
          null,
          'not-a-token',
          `pbo_${'0'.repeat(16)}_${'1'.repeat(64)}`,
          `pbo_${known}_${'f'.repeat(64)}`,
        ];
        for (const token of tokens) {
          const response = await call(token, 'GET', '/me');
          expect(response.status, String(token)).to.equal(401);
          expect(response.body).to.include({ code: 'UNAUTHORIZED' });
          expect(response.headers.get('www-authenticate')).to.match(/^Bearer realm="backoffice"/);
        }
      });

      it('tells a user who they are and what they may do', async () => {
        const me = await call(users.developerA.token, 'GET', '/me');
        expect(me.status).to.equal(200);
        expect(me.body).to.deep.include({
          userId: users.developerA.userId,
          kind: 'merchant',
          merchantId: merchantA,
          roles: ['merchant_developer'],
          permissions: ['transactions:read', 'webhooks:resend'],
        });
        expect(me.headers.get('cache-control')).to.equal('no-store');
        expect(me.headers.get('x-request-id')).to.match(/^[0-9a-f-]{36}$/);
      });

      it("refuses a disabled user's token", async () => {
        const { createBackofficeUser } = await import('../../backoffice/index.js');
        const leaving = await createBackofficeUser(knex, {
          email: `leaving-${driver}@example.test`,
          kind: 'platform',
          roles: ['viewer'],
        });
        expect((await call(leaving.token, 'GET', '/me')).status).to.equal(200);
        expect(await disableBackofficeUser(knex, `leaving-${driver}@example.test`)).to.equal(true);
        expect((await call(leaving.token, 'GET', '/me')).status).to.equal(401);
      });

      it('stores only token hashes', async () => {
        const rows = await knex('backoffice_access_tokens').where({ user_id: users.support.userId });
        expect(rows).to.have.length(1);
        expect(JSON.stringify(rows)).not.to.include(users.support.token.split('_').at(-1));
      });
    });

    describe('merchant isolation', () => {
      it("answers 404 for another merchant's transaction on every route", async () => {
        const other = `/transactions/${otherTransaction}`;
        for (const [method, route] of [
          ['GET', other],
          ['GET', `${other}/timeline`],
          ['GET', `${other}/webhooks`],
          ['POST', `${other}/webhooks/msg_anything/resend`],
        ] as const) {
          const token = method === 'POST' ? users.developerA.token : users.merchantA.token;
          const response = await call(token, method, route);
          expect(response.status, `${method} ${route}`).to.equal(404);
          expect(response.body).to.include({ code: 'NOT_FOUND' });
        }
        // The same answer as for a transaction that does not exist at all.
        const missing = await call(users.merchantA.token, 'GET', '/transactions/tx_does_not_exist');
        expect(missing.text).to.equal((await call(users.merchantA.token, 'GET', other)).text);
      });

      it("never finds another merchant's transactions in a search, whatever the filters", async () => {
        const own = await call(users.merchantA.token, 'GET', '/transactions');
        expect(own.status).to.equal(200);
        expect(new Set(own.body.data.map((t: { merchantId: string }) => t.merchantId))).to.deep.equal(
          new Set([merchantA]),
        );
        for (const query of [`merchantId=${merchantB}`, `transactionId=${otherTransaction}`]) {
          const response = await call(users.merchantA.token, 'GET', `/transactions?${query}`);
          expect(response.body.data, query).to.deep.equal([]);
        }
        const platform = await call(
          users.viewer.token,
          'GET',
          `/transactions?transactionId=${otherTransaction}`,
        );
        expect(platform.body.data).to.have.length(1);
      });
    });

    describe('merchant-safe views', () => {
      it('shows a merchant user the transaction without anything internal', async () => {
        const detail = await call(users.merchantA.token, 'GET', path());
        expect(detail.status).to.equal(200);
        expect(detail.body).to.deep.include({
          view: 'merchant',
          transactionId: seeded.transactionId,
          merchantTransactionId: seeded.merchantTransactionId,
          merchantId: merchantA,
          status: 'approved',
          amount: { value: 4_200, currency: 'EUR' },
          paymentMethod: 'card',
        });
        expectNothingInternal(detail, 'merchant detail');
      });

      it('shows a merchant user a timeline with provider failures and fallback that reveals nothing internal', async () => {
        const timeline = await call(users.merchantA.token, 'GET', path('/timeline'));
        expect(timeline.status).to.equal(200);
        expect(timeline.body.view).to.equal('merchant');
        expect(timeline.body.entries.map((e: { type: string }) => e.type)).to.deep.equal([
          'DepositRequested',
          'ProviderRequestStarted',
          'ProviderRequestStarted',
          'TransactionStatusChanged',
          'MerchantWebhookRequested',
          'MerchantWebhookFailed',
          'MerchantWebhookRetryScheduled',
        ]);
        expect(timeline.body.entries[2].details).to.deep.equal({
          message: 'payment attempt started',
          attemptNumber: 2,
        });
        expect(timeline.body.entries[3].details).to.deep.equal({ status: 'approved' });
        expectNothingInternal(timeline, 'merchant timeline');
      });

      it('shows a merchant user webhook attempts without URLs, internal headers or error messages', async () => {
        const webhooks = await call(users.merchantA.token, 'GET', path('/webhooks'));
        expect(webhooks.status).to.equal(200);
        expect(webhooks.body.view).to.equal('merchant');
        const [delivery] = webhooks.body.data;
        expect(delivery).to.include({ webhookId: seeded.webhookId, state: 'pending', attemptCount: 1 });
        expect(delivery.attempts[0]).to.include({
          attemptNumber: 1,
          trigger: 'automatic',
          errorClass: 'connection',
        });
        expect(Object.keys(delivery.attempts[0].requestHeaders).sort()).to.deep.equal([
          'content-type',
          'webhook-id',
          'webhook-signature',
          'webhook-timestamp',
        ]);
        expectNothingInternal(webhooks, 'merchant webhooks');
      });

      it('gives a platform user without the internal permissions the merchant-safe views, unaudited', async () => {
        for (const suffix of ['', '/timeline', '/webhooks']) {
          const response = await call(users.viewer.token, 'GET', path(suffix));
          expect(response.status, suffix).to.equal(200);
          expect(response.body.view, suffix).to.equal('merchant');
          expectNothingInternal(response, `viewer ${suffix || 'detail'}`);
        }
        const search = await call(
          users.viewer.token,
          'GET',
          `/transactions?transactionId=${seeded.transactionId}`,
        );
        expect(search.body.data[0]).not.to.have.property('internalStatus');
        expect(await auditRows(knex, users.viewer.userId)).to.deep.equal([]);
      });

      it('keeps internal statuses out of merchant searches', async () => {
        const response = await call(
          users.merchantA.token,
          'GET',
          `/transactions?status=${SECRETS.internalStatus}`,
        );
        expect(response.status).to.equal(400);
        expect(response.body.code).to.equal('INVALID_REQUEST');
        expect(response.body.errors[0]).to.include({ parameter: 'status' });
      });
    });

    describe('internal views', () => {
      it('shows support the internal detail with attempts and routing plan, and audits the read', async () => {
        const detail = await call(users.support.token, 'GET', path());
        expect(detail.status).to.equal(200);
        expect(detail.body.view).to.equal('internal');
        expect(detail.body.internal).to.deep.include({
          status: 'APPROVED',
          statusReason: SECRETS.statusReason,
          customerCountry: 'DE',
        });
        expect(
          detail.body.internal.attempts.map((a: { providerId: string; subMidId: string; state: string }) => [
            a.providerId,
            a.subMidId,
            a.state,
          ]),
        ).to.deep.equal([
          [SECRETS.firstProvider, SECRETS.firstSubMid, 'failed'],
          [SECRETS.secondProvider, SECRETS.secondSubMid, 'succeeded'],
        ]);
        expect(detail.body.internal.routingPlan).to.include({
          ruleId: SECRETS.ruleId,
          rulesVersion: SECRETS.rulesVersion,
        });
        const [audit] = await auditRows(knex, users.support.userId);
        expect(audit).to.include({
          actor_email: (await call(users.support.token, 'GET', '/me')).body.email,
          actor_kind: 'platform',
          action: 'transaction.read_internal',
          target_type: 'transaction',
          target_id: seeded.transactionId,
          transaction_id: seeded.transactionId,
          merchant_id: merchantA,
          outcome: 'succeeded',
          request_id: detail.headers.get('x-request-id'),
        });
        expect(audit!.detail).to.deep.include({ tokenId: users.support.tokenId });
        expect(new Date(audit!.occurred_at as string).getTime()).to.be.closeTo(Date.now(), 60_000);
      });

      it('shows support the internal timeline (provider failures included) and audits the read', async () => {
        const timeline = await call(users.support.token, 'GET', path('/timeline'));
        expect(timeline.body.view).to.equal('internal');
        const failed = timeline.body.entries.find(
          (e: { type: string }) => e.type === 'ProviderRequestFailed',
        );
        expect(failed).to.deep.include({ merchantVisible: false, merchantView: null });
        expect(failed.internal).to.include({
          providerId: SECRETS.firstProvider,
          subMidId: SECRETS.firstSubMid,
          providerErrorCode: SECRETS.firstErrorCode,
          fallbackAvailable: true,
        });
        const types = timeline.body.entries.map((e: { type: string }) => e.type);
        expect(types).to.include.members([
          'RoutingCompleted',
          'ProviderRequestSucceeded',
          'EventProcessingFailed',
        ]);
        const actions = (await auditRows(knex, users.support.userId)).map((r) => r.action);
        expect(actions).to.include('timeline.read_internal');
      });

      it('shows support webhook URLs, all headers and error messages, and audits the read', async () => {
        const webhooks = await call(users.support.token, 'GET', path('/webhooks'));
        expect(webhooks.body.view).to.equal('internal');
        const [delivery] = webhooks.body.data;
        expect(delivery.url).to.include(SECRETS.webhookHost);
        expect(delivery.attempts[0].requestHeaders).to.have.property(SECRETS.internalHeader);
        expect(delivery.attempts[0].errorMessage).to.equal(SECRETS.webhookErrorMessage);
        const actions = (await auditRows(knex, users.support.userId)).map((r) => r.action);
        expect(actions).to.include('webhooks.read_internal');
      });

      it('shows failed events to ops only; refusals are audited', async () => {
        const listed = await call(users.ops.token, 'GET', path('/failed-events'));
        expect(listed.status).to.equal(200);
        expect(listed.body.data).to.have.length(1);
        expect(listed.body.data[0]).to.include({
          consumerGroup: 'processor',
          errorMessage: SECRETS.deadLetterError,
          status: 'open',
          eventType: 'MerchantWebhookRequested',
        });
        expect((await auditRows(knex, users.ops.userId)).map((r) => [r.action, r.outcome])).to.deep.include([
          'failed_events.read',
          'succeeded',
        ]);
        for (const user of [users.support, users.merchantA]) {
          const refused = await call(user.token, 'GET', path('/failed-events'));
          expect(refused.status).to.equal(403);
          expect(refused.body).to.include({ code: 'FORBIDDEN' });
          expectNothingInternal(refused, 'refusal');
          const last = (await auditRows(knex, user.userId)).at(-1);
          expect(last).to.include({
            action: 'failed_events.read',
            outcome: 'denied',
            target_id: seeded.transactionId,
          });
        }
      });
    });

    describe('webhook resend requests', () => {
      it('queues a resend for support (202), on the attempts topic, with an audit row in the same commit', async () => {
        const response = await call(
          users.support.token,
          'POST',
          path(`/webhooks/${seeded.webhookId}/resend`),
        );
        expect(response.status).to.equal(202);
        expect(response.body).to.deep.equal({
          webhookId: seeded.webhookId,
          attemptNumber: 3,
          status: 'queued',
        });
        expect(response.headers.get('location')).to.equal(`/backoffice/api/v1${path('/webhooks')}`);
        const queued = await knex('outbox').where({
          topic: WEBHOOK_ATTEMPTS_TOPIC,
          key: seeded.transactionId,
        });
        expect(queued).to.have.length(1);
        expect(Buffer.from(queued[0].payload).toString('utf8')).to.include(users.support.userId);
        const last = (await auditRows(knex, users.support.userId)).at(-1);
        expect(last).to.include({
          action: 'webhook.resend',
          target_type: 'webhook',
          target_id: seeded.webhookId,
          transaction_id: seeded.transactionId,
          merchant_id: merchantA,
          outcome: 'succeeded',
        });
        expect(last!.detail).to.include({ attemptNumber: 3 });
      });

      it("lets a merchant developer resend their own merchant's webhook, not another's", async () => {
        const own = await call(users.developerA.token, 'POST', path(`/webhooks/${seeded.webhookId}/resend`));
        expect(own.status).to.equal(202);
        const foreign = await call(
          users.developerB.token,
          'POST',
          path(`/webhooks/${seeded.webhookId}/resend`),
        );
        expect(foreign.status).to.equal(404);
        expect((await auditRows(knex, users.developerB.userId)).at(-1)).to.include({
          action: 'webhook.resend',
          outcome: 'not_found',
        });
      });

      it('refuses resends without the permission (403, audited) and of unknown webhooks (404, audited)', async () => {
        for (const user of [users.viewer, users.merchantA, users.ops]) {
          const refused = await call(user.token, 'POST', path(`/webhooks/${seeded.webhookId}/resend`));
          expect(refused.status).to.equal(403);
          expect((await auditRows(knex, user.userId)).at(-1)).to.include({
            action: 'webhook.resend',
            outcome: 'denied',
            target_id: seeded.webhookId,
          });
        }
        const unknown = await call(users.support.token, 'POST', path('/webhooks/msg_unknown/resend'));
        expect(unknown.status).to.equal(404);
        expect((await auditRows(knex, users.support.userId)).at(-1)).to.include({
          action: 'webhook.resend',
          outcome: 'not_found',
          target_id: 'msg_unknown',
        });
      });

      it('answers 409 for a webhook that had no URL to send to', async () => {
        const transactionId = await insertTransaction(knex, merchantA, { status: 'APPROVED' });
        await knex('webhook_deliveries').insert({
          id: `msg_skipped_${driver}`,
          transaction_id: transactionId,
          merchant_id: merchantA,
          webhook_type: 'transaction.status_changed',
          url: null,
          payload: '{}',
          sequence: 1,
          source_event_id: 'e1',
          correlation_id: 'c1',
          requested_at: new Date(),
          state: 'skipped',
        });
        const response = await call(
          users.support.token,
          'POST',
          `/transactions/${transactionId}/webhooks/msg_skipped_${driver}/resend`,
        );
        expect(response.status).to.equal(409);
        expect(response.body.code).to.equal('WEBHOOK_NOT_RESENDABLE');
        expect((await auditRows(knex, users.support.userId)).at(-1)).to.include({ outcome: 'rejected' });
      });
    });

    describe('search', () => {
      let merchantC: string;
      let ids: string[];

      before(async () => {
        merchantC = await insertMerchant(knex);
        ids = [];
        const statuses = ['APPROVED', 'PROCESSING', 'DECLINED', 'AWAITING_PROVIDER', 'APPROVED'];
        for (const [index, status] of statuses.entries()) {
          ids.push(
            await insertTransaction(knex, merchantC, {
              status,
              created_at: new Date(Date.UTC(2026, 0, 10 + index, 12)),
            }),
          );
        }
      });

      it('pages through results newest first with a cursor, without gaps or repeats', async () => {
        const seen: string[] = [];
        let cursor: string | null = '';
        let pages = 0;
        while (cursor !== null) {
          const query = `merchantId=${merchantC}&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
          const response = await call(users.viewer.token, 'GET', `/transactions?${query}`);
          expect(response.status).to.equal(200);
          seen.push(...response.body.data.map((t: { transactionId: string }) => t.transactionId));
          cursor = response.body.nextCursor;
          pages++;
        }
        expect(pages).to.equal(3);
        expect(seen).to.deep.equal([...ids].reverse());
      });

      it('filters by merchant status, internal status (with permission) and creation time', async () => {
        const byMerchantStatus = await call(
          users.viewer.token,
          'GET',
          `/transactions?merchantId=${merchantC}&status=pending`,
        );
        expect(
          byMerchantStatus.body.data.map((t: { transactionId: string }) => t.transactionId),
        ).to.deep.equal([ids[3], ids[1]]);
        expect(byMerchantStatus.body.data[0]).not.to.have.property('internalStatus');
        const byInternal = await call(
          users.support.token,
          'GET',
          `/transactions?merchantId=${merchantC}&status=AWAITING_PROVIDER,declined`,
        );
        expect(byInternal.body.data.map((t: { internalStatus: string }) => t.internalStatus)).to.deep.equal([
          'AWAITING_PROVIDER',
          'DECLINED',
        ]);
        const byTime = await call(
          users.viewer.token,
          'GET',
          `/transactions?merchantId=${merchantC}&createdFrom=2026-01-11&createdTo=2026-01-13T12:00:00Z`,
        );
        expect(byTime.body.data.map((t: { transactionId: string }) => t.transactionId)).to.deep.equal([
          ids[2],
          ids[1],
        ]);
      });

      it('answers invalid query parameters with a problem naming each', async () => {
        const response = await call(
          users.viewer.token,
          'GET',
          '/transactions?limit=1000&createdFrom=yesterday&cursor=bm9wZQ&colour=blue',
        );
        expect(response.status).to.equal(400);
        expect(response.body.errors.map((e: { parameter: string }) => e.parameter).sort()).to.deep.equal([
          'colour',
          'createdFrom',
          'cursor',
          'limit',
        ]);
      });
    });

    describe('protocol', () => {
      it('answers unknown paths and methods with problems', async () => {
        // Undocumented on purpose, so not through the checking client.
        const unknown = await fetch(`${server.url}/backoffice/api/v1/nothing-here`, {
          headers: { authorization: `Bearer ${users.viewer.token}` },
        });
        expect(unknown.status).to.equal(404);
        expect(unknown.headers.get('content-type')).to.match(/^application\/problem\+json/);
        expect(((await unknown.json()) as { code: string }).code).to.equal('NOT_FOUND');
        const method = await fetch(`${server.url}/backoffice/api/v1/transactions`, { method: 'DELETE' });
        expect(method.status).to.equal(405);
        expect(((await method.json()) as { code: string }).code).to.equal('METHOD_NOT_ALLOWED');
      });

      it('keeps the audit log append-only', async () => {
        const error = await knex('backoffice_audit_log')
          .update({ outcome: 'denied' })
          .then(
            () => null,
            (e: Error) => e,
          );
        expect(error?.message).to.match(/append-only/);
      });
    });
  });
}
