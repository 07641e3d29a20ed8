import { expect } from 'chai';
import { openDatabase, type Database } from '../../adapters/db/index.js';
import { silentLogger } from '../../core/logger.js';
import { createMerchant, type CreatedMerchant } from '../../core/merchants/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startMerchantApi, validDeposit, type RunningMerchantApi } from '../support/merchant-api.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

/**
 * The gateway reaches PostgreSQL through a proxy the test takes down: refused connections and a
 * database that accepts but never answers both give a prompt 503 problem (never a hang or a 500), and
 * the gateway serves again once the database is back.
 */
describe('Merchant API when the database is down (postgres)', function () {
  this.timeout(30_000);
  let testDatabase: TestDatabase;
  let proxy: TcpProxy;
  let gatewayDatabase: Database;
  let server: RunningMerchantApi;
  let shop: CreatedMerchant;

  before(async function () {
    testDatabase = await createTestDatabase('postgres', this);
    shop = await createMerchant(testDatabase.database.knex, { name: 'Shop' });
    const url = new URL(process.env.TEST_DATABASE_URL!);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    gatewayDatabase = await openDatabase(
      { driver: 'postgres', url: url.toString(), poolMax: 4 },
      { schema: testDatabase.schema! },
    );
    server = await startMerchantApi(gatewayDatabase.knex, silentLogger, { databaseTimeoutMs: 1_000 });
  });
  after(async () => {
    await server?.close();
    await gatewayDatabase?.close();
    await proxy?.close();
    await testDatabase?.release();
  });

  const deposit = (merchantTransactionId: string) =>
    server.call('POST', '/api/v2/deposit', {
      key: shop.apiKey,
      json: validDeposit({ merchantTransactionId }),
    });

  const expectUnavailable = (response: { status: number; body: { code: string }; headers: Headers }) => {
    expect([response.status, response.body.code]).to.deep.equal([503, 'SERVICE_UNAVAILABLE']);
    expect(response.headers.get('retry-after')).to.equal('5');
  };

  it('answers 503 while connections are refused, and serves again when the database is back', async () => {
    expect((await deposit('before-outage')).status).to.equal(201);
    await proxy.refuse();
    expectUnavailable(await deposit('during-outage'));
    expectUnavailable(
      await server.call('GET', '/api/v2/transactions?merchantTransactionId=before-outage', {
        key: shop.apiKey,
      }),
    );
    await proxy.restore();
    expect((await deposit('during-outage')).status, 'the retried request is accepted').to.be.oneOf([
      200, 201,
    ]);
  });

  it('answers 503 when the database accepts connections but never answers', async () => {
    proxy.blackhole();
    expectUnavailable(await deposit('during-hang'));
    await proxy.restore();
    expect((await deposit('during-hang')).status).to.be.oneOf([200, 201]);
  });
});
