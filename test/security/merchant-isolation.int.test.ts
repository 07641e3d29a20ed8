/**
 * Merchant isolation across every merchant and back-office endpoint of the whole running platform: a
 * merchant (its API key, or its back-office users) reaching for another merchant's transaction gets
 * exactly what it gets for a transaction that does not exist — the same 404 problem, byte for byte
 * apart from request ids (never a 403 that would confirm it exists) — and learns nothing through
 * search, idempotency conflicts or webhook resends. Nothing is changed on the other merchant's side.
 */
import { expect } from 'chai';
import { createBackofficeUser, type IssuedToken } from '../../backoffice/index.js';
import { createMerchant } from '../../core/merchants/index.js';
import { eventually } from '../support/eventually.js';
import { probe, type ProbeAnswer } from './support/http-probe.js';
import { expectProblem, expectUnchanged, settle, stateFingerprint } from './support/invariants.js';
import { DRIVERS, startSecurityPlatform, type SecurityPlatform } from './support/security-platform.js';

const API = '/backoffice/api/v1';
const MISSING = 'tx_00000000-0000-4000-8000-000000000000';

/** What may legitimately differ between two answers: per-request ids and dates. */
function comparable(answer: ProbeAnswer): unknown {
  const { date: _d, 'x-request-id': _r, ...headers } = answer.headers;
  return { status: answer.status, headers, text: answer.text };
}

for (const driver of DRIVERS) {
  describe(`merchant isolation (${driver})`, function () {
    this.timeout(120_000);
    let t: SecurityPlatform;
    let otherKey: string;
    const users: Record<'developerA' | 'userB' | 'developerB', IssuedToken> = {} as never;
    let victim: { transactionId: string; merchantTransactionId: string; webhookId: string };

    before(async function () {
      t = await startSecurityPlatform(this, driver);
      const knex = t.platform.database.knex;
      const other = await createMerchant(knex, { name: 'Other Shop' });
      otherKey = other.apiKey;
      const user = (merchantId: string, role: string) =>
        createBackofficeUser(knex, {
          email: `${role}-${merchantId}@example.test`.toLowerCase(),
          kind: 'merchant',
          roles: [role],
          merchantId,
        });
      users.developerA = await user(t.merchant.merchantId, 'merchant_developer');
      users.userB = await user(other.merchantId, 'merchant_user');
      users.developerB = await user(other.merchantId, 'merchant_developer');
      // The victim: merchant A's declined deposit, whose webhook was delivered to A's receiver.
      const merchantTransactionId = `victim-${Date.now()}`;
      const { status, body } = await t.deposit({
        merchantTransactionId,
        amount: { value: 4101, currency: 'EUR' },
        paymentMethod: 'card',
        returnUrls: { success: 'https://shop.example/ok', failure: 'https://shop.example/failed' },
      });
      expect(status).to.equal(201);
      await eventually(
        async () =>
          (await knex('webhook_deliveries').where({ transaction_id: body.transactionId, state: 'delivered' }))
            .length === 1,
        30_000,
        "the victim's webhook delivered",
      );
      const delivery = await knex('webhook_deliveries')
        .where({ transaction_id: body.transactionId })
        .first('id');
      victim = { transactionId: body.transactionId, merchantTransactionId, webhookId: delivery.id };
      await settle(knex);
    });
    after(async () => t?.stop());

    const knex = () => t.platform.database.knex;
    const asMerchant = (key: string, method: string, path: string, body?: unknown) =>
      probe(t.url, {
        method,
        path,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const asUser = (token: IssuedToken, method: string, path: string) =>
      probe(t.url, { method, path, headers: { authorization: `Bearer ${token.token}` } });

    it("answers another merchant's transaction on the merchant API exactly like a missing one", async () => {
      const before = await stateFingerprint(knex());
      const theirs = await asMerchant(otherKey, 'GET', `/api/v2/transactions/${victim.transactionId}`);
      const missing = await asMerchant(otherKey, 'GET', `/api/v2/transactions/${MISSING}`);
      expect(theirs.status).to.equal(404);
      expectProblem(theirs, 'B reads A');
      expect(comparable(theirs)).to.deep.equal(comparable(missing));
      const byMerchantId = await asMerchant(
        otherKey,
        'GET',
        `/api/v2/transactions?merchantTransactionId=${victim.merchantTransactionId}`,
      );
      expect(byMerchantId.status).to.equal(200);
      expect(byMerchantId.json).to.deep.equal({ data: [] });
      expectUnchanged(before, await stateFingerprint(knex()), 'reads by merchant B');
      // The owner still sees it: the 404 above is isolation, not a broken lookup.
      expect(
        (await asMerchant(t.merchant.apiKey, 'GET', `/api/v2/transactions/${victim.transactionId}`)).status,
      ).to.equal(200);
    });

    it('lets another merchant reuse a merchantTransactionId without learning that it is taken', async () => {
      const answer = await asMerchant(otherKey, 'POST', '/api/v2/deposit', {
        merchantTransactionId: victim.merchantTransactionId,
        amount: { value: 999, currency: 'EUR' },
        paymentMethod: 'card',
        returnUrls: { success: 'https://other.example/ok', failure: 'https://other.example/failed' },
      });
      expect(answer.status, answer.text).to.equal(201); // never 409: ids are scoped to each merchant
      expect((answer.json as { transactionId: string }).transactionId).not.to.equal(victim.transactionId);
      const own = await knex()('transactions')
        .where({ id: victim.transactionId })
        .first('merchant_id', 'amount_minor');
      expect([own.merchant_id, Number(own.amount_minor)]).to.deep.equal([t.merchant.merchantId, 4101]);
      await settle(knex());
    });

    it("answers another merchant's transaction on every back-office route exactly like a missing one", async () => {
      const before = await stateFingerprint(knex());
      const paths = (id: string) => [
        ['GET', `${API}/transactions/${id}`],
        ['GET', `${API}/transactions/${id}/timeline`],
        ['GET', `${API}/transactions/${id}/webhooks`],
      ];
      for (const user of [users.userB, users.developerB]) {
        const theirs = paths(victim.transactionId);
        const missing = paths(MISSING);
        for (const [index, [method, path]] of theirs.entries()) {
          const a = await asUser(user, method!, path!);
          const b = await asUser(user, method!, missing[index]![1]!);
          expect(a.status, path).to.equal(404);
          expectProblem(a, path!);
          expect(comparable(a), path).to.deep.equal(comparable(b));
        }
        // Failed events are not a merchant user's to read at all: 403 whatever the transaction.
        const failedTheirs = await asUser(
          user,
          'GET',
          `${API}/transactions/${victim.transactionId}/failed-events`,
        );
        const failedMissing = await asUser(user, 'GET', `${API}/transactions/${MISSING}/failed-events`);
        expect(failedTheirs.status).to.equal(403);
        expect(comparable(failedTheirs)).to.deep.equal(comparable(failedMissing));
        // Search: by id, by merchant id, by merchantTransactionId: never the other merchant's rows.
        for (const query of [
          `transactionId=${victim.transactionId}`,
          `merchantId=${t.merchant.merchantId}`,
          `merchantTransactionId=${victim.merchantTransactionId}`,
          '',
        ]) {
          const found = await asUser(user, 'GET', `${API}/transactions?${query}`);
          expect(found.status, query).to.equal(200);
          const ids = (found.json as { data: Array<{ transactionId: string }> }).data.map(
            (row) => row.transactionId,
          );
          expect(ids, query).not.to.include(victim.transactionId);
        }
      }
      // Only the audit trail moved (the refused failed-events reads are audited as denied).
      const { backoffice_audit_log: _before, ...unaudited } = before;
      const { backoffice_audit_log: _after, ...now } = await stateFingerprint(knex());
      expectUnchanged(unaudited, now, 'back-office reads by merchant B');
    });

    it("refuses to resend another merchant's webhook (404) and sends nothing", async () => {
      const received = t.receiver.received.length;
      const attempts = await knex()('webhook_attempts')
        .where({ delivery_id: victim.webhookId })
        .count({ n: '*' });
      const theirs = await asUser(
        users.developerB,
        'POST',
        `${API}/transactions/${victim.transactionId}/webhooks/${victim.webhookId}/resend`,
      );
      const missing = await asUser(
        users.developerB,
        'POST',
        `${API}/transactions/${MISSING}/webhooks/${victim.webhookId}/resend`,
      );
      expect(theirs.status).to.equal(404);
      expect(comparable(theirs)).to.deep.equal(comparable(missing));
      // A's webhook id under B's own transaction: still not found.
      const [ownTransaction] = await knex()('transactions')
        .whereNot({ merchant_id: t.merchant.merchantId })
        .select('id');
      const mixed = await asUser(
        users.developerB,
        'POST',
        `${API}/transactions/${ownTransaction.id}/webhooks/${victim.webhookId}/resend`,
      );
      expect(mixed.status).to.equal(404);
      expectProblem(mixed, 'resend of A webhook under B transaction');
      // The refusal is audited; nothing was scheduled or sent.
      const audited = await knex()('backoffice_audit_log').where({
        actor_user_id: users.developerB.userId,
        outcome: 'not_found',
      });
      expect(audited.length).to.be.at.least(2);
      await settle(knex());
      expect(
        await knex()('webhook_attempts').where({ delivery_id: victim.webhookId }).count({ n: '*' }),
      ).to.deep.equal(attempts);
      expect(t.receiver.received.length).to.equal(received);
      // The owner's developer may resend it: the refusals above are isolation, not a broken route.
      const own = await asUser(
        users.developerA,
        'POST',
        `${API}/transactions/${victim.transactionId}/webhooks/${victim.webhookId}/resend`,
      );
      expect(own.status, own.text).to.equal(202);
    });
  });
}
