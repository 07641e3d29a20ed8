import { expect } from 'chai';
import type { Database } from '../../adapters/db/index.js';
import {
  createMerchant,
  revokeApiKey,
  setMerchantStatus,
  type CreatedMerchant,
} from '../../core/merchants/index.js';
import { hashSessionToken } from '../../core/transactions/index.js';
import { openApiDocument } from '../../gateway/merchant/index.js';
import { decodeEvent } from '../../schemas/index.js';
import { createTestDatabase } from '../support/database.js';
import {
  capturingLogger,
  startMerchantApi,
  validDeposit,
  type RunningMerchantApi,
} from '../support/merchant-api.js';

const NOW = new Date('2026-03-01T10:00:00.000Z');
const TTL_SECONDS = 900;

for (const driver of ['pglite', 'postgres'] as const) {
  describe(`Merchant API over HTTP (${driver})`, function () {
    this.timeout(30_000);
    let database: Database;
    let release: () => Promise<void>;
    let server: RunningMerchantApi;
    let shop: CreatedMerchant;
    let other: CreatedMerchant;
    const logLines: string[] = [];
    let orderNumber = 0;
    const newOrderId = () => `order-${driver}-${++orderNumber}`;

    before(async function () {
      ({ database, release } = await createTestDatabase(driver, this));
      shop = await createMerchant(database.knex, {
        name: 'Shop',
        defaultWebhookUrl: 'https://shop.example/hooks',
      });
      other = await createMerchant(database.knex, { name: 'Other shop' });
      server = await startMerchantApi(database.knex, capturingLogger(logLines), {
        clock: () => NOW,
        sessionTtlSeconds: TTL_SECONDS,
        maxBodyBytes: 4096,
      });
    });
    after(async () => {
      await server?.close();
      await release?.();
    });

    const deposit = (body: Record<string, unknown>, key = shop.apiKey) =>
      server.call('POST', '/api/v2/deposit', { key, json: body });

    it('accepts a deposit durably: transaction, session, two events and two timeline entries, then 201', async () => {
      const merchantTransactionId = newOrderId();
      const response = await deposit(validDeposit({ merchantTransactionId, metadata: { cart: 'c-1' } }));
      expect(response.status).to.equal(201);
      const { transactionId, hostedPaymentUrl } = response.body;
      expect(response.body).to.deep.equal({
        transactionId,
        merchantTransactionId,
        status: 'pending',
        hostedPaymentUrl,
        expiresAt: new Date(NOW.getTime() + TTL_SECONDS * 1000).toISOString(),
      });
      expect(transactionId).to.match(/^tx_[0-9a-f-]{36}$/);
      expect(response.headers.get('location')).to.equal(`/api/v2/transactions/${transactionId}`);
      expect(response.headers.get('cache-control')).to.equal('no-store');
      const token = /^https:\/\/pay\.example\.test\/pay\/([A-Za-z0-9_-]{43})$/.exec(hostedPaymentUrl)?.[1];
      expect(token, hostedPaymentUrl).to.be.a('string');

      const tx = await database.knex('transactions').where({ id: transactionId }).first();
      expect(tx).to.include({
        merchant_id: shop.merchantId,
        merchant_transaction_id: merchantTransactionId,
        status: 'CREATED',
        currency: 'EUR',
        payment_method: 'card',
        customer_country: 'GB',
        webhook_url: 'https://shop.example/hooks',
      });
      expect(Number(tx.amount_minor)).to.equal(1999);
      expect(tx.customer_data).to.deep.equal({
        email: 'ada@example.com',
        firstName: 'Ada',
        lastName: 'Lovelace',
        country: 'GB',
      });
      expect(tx.metadata).to.deep.equal({ cart: 'c-1' });
      expect(tx.request_hash).to.match(/^[0-9a-f]{64}$/);

      const session = await database
        .knex('payment_sessions')
        .where({ transaction_id: transactionId })
        .first();
      expect(session.token_hash, 'only the hash of the token in the URL is stored').to.equal(
        hashSessionToken(token!),
      );
      expect(JSON.stringify(session)).not.to.contain(token);
      expect(new Date(session.expires_at).toISOString()).to.equal(response.body.expiresAt);

      const outbox = await database.knex('outbox').where({ key: transactionId }).orderBy('id');
      const events = outbox.map((row) => decodeEvent(row.payload));
      expect(events.map((e) => [e.envelope.type, e.envelope.sequence])).to.deep.equal([
        ['DepositRequested', 1],
        ['PaymentSessionCreated', 2],
      ]);
      expect(JSON.parse(JSON.stringify(events[0]!.payload))).to.deep.equal({
        merchantTransactionId,
        amount: { amountMinor: 1999, currency: 'EUR' },
        paymentMethod: 'card',
        customerCountry: 'GB',
        providedCustomerFields: ['country', 'email', 'firstName', 'lastName'],
      });
      expect(JSON.parse(JSON.stringify(events[1]!.payload))).to.deep.equal({
        sessionId: session.id,
        expiresAt: response.body.expiresAt,
      });
      expect(events[1]!.envelope.correlationId).to.equal(events[0]!.envelope.correlationId);
      expect(events.every((e) => e.envelope.merchantId === shop.merchantId)).to.equal(true);

      const timeline = await database
        .knex('transaction_timeline')
        .where({ transaction_id: transactionId })
        .orderBy('id');
      expect(timeline.map((row) => [row.entry_type, row.merchant_view])).to.deep.equal([
        [
          'DepositRequested',
          { merchantTransactionId, amount: { value: 1999, currency: 'EUR' }, paymentMethod: 'card' },
        ],
        ['PaymentSessionCreated', { expiresAt: response.body.expiresAt }],
      ]);
    });

    it('answers a repeated request with the original transaction and the same hosted URL', async () => {
      const body = validDeposit({
        merchantTransactionId: newOrderId(),
        webhookUrl: 'https://shop.example/own',
      });
      const first = await deposit(body);
      const reordered = Object.fromEntries(Object.entries(body).reverse());
      const replay = await deposit(reordered);
      expect(first.status).to.equal(201);
      expect(replay.status).to.equal(200);
      expect(replay.headers.get('idempotent-replayed')).to.equal('true');
      expect(replay.body).to.deep.equal(first.body);
      const rows = await database
        .knex('transactions')
        .where({ merchant_transaction_id: body.merchantTransactionId });
      expect(rows).to.have.length(1);
      expect(rows[0].webhook_url, 'a webhook URL of the deposit wins over the default').to.equal(
        'https://shop.example/own',
      );
      expect(await database.knex('outbox').where({ key: first.body.transactionId })).to.have.length(2);
    });

    it('refuses the same merchantTransactionId with a different request: 409', async () => {
      const body = validDeposit({ merchantTransactionId: newOrderId() });
      expect((await deposit(body)).status).to.equal(201);
      const changed = await deposit({ ...body, amount: { value: 2000, currency: 'EUR' } });
      expect(changed.status).to.equal(409);
      expect(changed.body).to.include({ code: 'MERCHANT_TRANSACTION_ID_REUSED', status: 409 });
      expect(changed.headers.get('content-type')).to.match(/^application\/problem\+json/);
    });

    it('creates exactly one transaction for 50 concurrent identical requests', async () => {
      const body = validDeposit({ merchantTransactionId: newOrderId() });
      const answers = await Promise.all(Array.from({ length: 50 }, () => deposit(body)));
      expect(answers.filter((a) => a.status === 201)).to.have.length(1);
      expect(answers.filter((a) => a.status === 200)).to.have.length(49);
      expect(new Set(answers.map((a) => a.body.transactionId)).size).to.equal(1);
      expect(new Set(answers.map((a) => a.body.hostedPaymentUrl)).size).to.equal(1);
      const rows = await database
        .knex('transactions')
        .where({ merchant_transaction_id: body.merchantTransactionId });
      expect(rows).to.have.length(1);
      expect(await database.knex('outbox').where({ key: rows[0].id })).to.have.length(2);
    });

    it('explains invalid bodies field by field and refuses bad JSON, media types and large bodies', async () => {
      const invalid = await deposit({
        ...validDeposit(),
        amount: { value: -1, currency: 'EUR' },
        coupon: 'x',
      });
      expect(invalid.status).to.equal(400);
      expect(invalid.body.code).to.equal('INVALID_REQUEST');
      expect(invalid.body.errors).to.deep.equal([
        { pointer: '#/coupon', detail: 'is not a known field' },
        {
          pointer: '#/amount/value',
          detail: 'must be an integer amount in minor units from 1 to 999999999999',
        },
      ]);

      const malformed = await server.call('POST', '/api/v2/deposit', {
        key: shop.apiKey,
        body: '{"merchantTransactionId": ',
        headers: { 'content-type': 'application/json' },
      });
      expect([malformed.status, malformed.body.code]).to.deep.equal([400, 'MALFORMED_JSON']);

      const form = await server.call('POST', '/api/v2/deposit', {
        key: shop.apiKey,
        body: 'merchantTransactionId=1',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect([form.status, form.body.code]).to.deep.equal([415, 'UNSUPPORTED_MEDIA_TYPE']);

      const large = await deposit(
        validDeposit({ metadata: { blob: 'x'.repeat(500) }, padding: 'y'.repeat(5000) }),
      );
      expect([large.status, large.body.code]).to.deep.equal([413, 'PAYLOAD_TOO_LARGE']);

      for (const problem of [invalid, malformed, form, large]) {
        expect(problem.headers.get('content-type')).to.match(/^application\/problem\+json/);
        expect(JSON.stringify(problem.body)).not.to.match(/at .*\.ts|stack/i);
      }
    });

    it('requires a valid, unrevoked API key of an active merchant', async () => {
      const missing = await server.call('POST', '/api/v2/deposit', { json: validDeposit() });
      expect([missing.status, missing.body.code]).to.deep.equal([401, 'UNAUTHORIZED']);
      expect(missing.headers.get('www-authenticate')).to.equal('Bearer realm="merchant-api"');
      const wrong = await deposit(validDeposit(), `${shop.apiKey.slice(0, -6)}abcdef`);
      expect(wrong.status).to.equal(401);
      const garbage = await deposit(validDeposit(), 'not-a-key');
      expect(garbage.status).to.equal(401);

      const doomed = await createMerchant(database.knex, { name: 'Doomed' });
      expect(
        (await deposit(validDeposit({ merchantTransactionId: newOrderId() }), doomed.apiKey)).status,
      ).to.equal(201);
      await revokeApiKey(database.knex, doomed.apiKeyId);
      const revoked = await server.call('GET', '/api/v2/transactions?merchantTransactionId=x', {
        key: doomed.apiKey,
      });
      expect(revoked.status).to.equal(401);

      const paused = await createMerchant(database.knex, { name: 'Paused' });
      await setMerchantStatus(database.knex, paused.merchantId, 'disabled');
      const disabled = await deposit(validDeposit(), paused.apiKey);
      expect([disabled.status, disabled.body.code]).to.deep.equal([403, 'MERCHANT_DISABLED']);
    });

    it("shows merchants their own transactions with a merchant-safe status, and nobody else's", async () => {
      const merchantTransactionId = newOrderId();
      const created = (await deposit(validDeposit({ merchantTransactionId }))).body;
      const path = `/api/v2/transactions/${created.transactionId}`;

      const mine = await server.call('GET', path, { key: shop.apiKey });
      expect(mine.status).to.equal(200);
      expect(mine.body).to.deep.include({
        transactionId: created.transactionId,
        merchantTransactionId,
        status: 'pending',
        amount: { value: 1999, currency: 'EUR' },
        paymentMethod: 'card',
      });

      for (const [internal, shown] of [
        ['AWAITING_PROVIDER', 'pending'],
        ['APPROVED', 'approved'],
      ] as const) {
        await database.knex('transactions').where({ id: created.transactionId }).update({ status: internal });
        expect((await server.call('GET', path, { key: shop.apiKey })).body.status).to.equal(shown);
      }

      const found = await server.call(
        'GET',
        `/api/v2/transactions?merchantTransactionId=${merchantTransactionId}`,
        {
          key: shop.apiKey,
        },
      );
      expect(found.body.data.map((t: { transactionId: string }) => t.transactionId)).to.deep.equal([
        created.transactionId,
      ]);

      const foreign = await server.call('GET', path, { key: other.apiKey });
      expect([foreign.status, foreign.body.code]).to.deep.equal([404, 'NOT_FOUND']);
      const foreignLookup = await server.call(
        'GET',
        `/api/v2/transactions?merchantTransactionId=${merchantTransactionId}`,
        { key: other.apiKey },
      );
      expect(foreignLookup.body).to.deep.equal({ data: [] });
      const sameIdElsewhere = await deposit(validDeposit({ merchantTransactionId }), other.apiKey);
      expect(sameIdElsewhere.status, 'merchant transaction ids are per merchant').to.equal(201);

      const unknown = await server.call('GET', '/api/v2/transactions/tx_does-not-exist', {
        key: shop.apiKey,
      });
      expect(unknown.status).to.equal(404);
    });

    it('checks the lookup query and answers unknown paths and methods with problems', async () => {
      const missing = await server.call('GET', '/api/v2/transactions', { key: shop.apiKey });
      expect(missing.status).to.equal(400);
      expect(missing.body.errors).to.deep.equal([
        { parameter: 'merchantTransactionId', detail: 'is required' },
      ]);
      const extra = await server.call('GET', '/api/v2/transactions?merchantTransactionId=a&status=x', {
        key: shop.apiKey,
      });
      expect(extra.body.errors).to.deep.equal([
        { parameter: 'status', detail: 'is not a known query parameter' },
      ]);

      const nowhere = await server.call('GET', '/api/v2/refunds', { key: shop.apiKey, undocumented: true });
      expect([nowhere.status, nowhere.body.code]).to.deep.equal([404, 'NOT_FOUND']);
      const wrongMethod = await server.call('GET', '/api/v2/deposit', {
        key: shop.apiKey,
        undocumented: true,
      });
      expect([wrongMethod.status, wrongMethod.body.code]).to.deep.equal([405, 'METHOD_NOT_ALLOWED']);
      expect(wrongMethod.headers.get('allow')).to.contain('POST');
    });

    it('serves its OpenAPI document without authentication', async () => {
      const response = await server.call('GET', '/api/v2/openapi.json');
      expect(response.status).to.equal(200);
      expect(response.body).to.deep.equal(
        JSON.parse(JSON.stringify(openApiDocument({ serverUrl: 'https://pay.example.test/api/v2' }))),
      );
    });

    it('counts deposits by outcome and never logs API keys or customer data', async () => {
      const metrics = await server.registry.metrics();
      for (const outcome of ['accepted', 'duplicate', 'conflict', 'invalid'])
        expect(metrics, outcome).to.match(
          new RegExp(`^merchant_deposits_total\\{outcome="${outcome}"\\} [1-9]`, 'm'),
        );
      expect(metrics).to.match(/^merchant_api_auth_failures_total\{reason="revoked"\} 1$/m);
      expect(metrics, 'group-commit statements are counted').to.match(
        /^merchant_deposit_write_batch_size_count [1-9]/m,
      );
      const logs = logLines.join('\n');
      expect(logs).to.contain('deposit accepted');
      expect(logs).to.contain(shop.apiKeyId);
      expect(logs).not.to.contain(shop.apiKey);
      expect(logs).not.to.contain(other.apiKey);
      expect(logs).not.to.contain('ada@example.com');
    });
  });
}
