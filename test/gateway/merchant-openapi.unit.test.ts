import { expect } from 'chai';
import type { Knex } from 'knex';
import { silentLogger } from '../../core/logger.js';
import { merchantApi, MERCHANT_API_PREFIX, openApiDocument } from '../../gateway/merchant/index.js';
import { openApiChecker } from '../support/openapi.js';

describe('Merchant API OpenAPI document', () => {
  const document = openApiDocument({ serverUrl: 'https://pay.example.test/api/v2' }) as {
    openapi: string;
    paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    components: object;
  };

  it('documents exactly the routes the router serves', () => {
    // The router is only inspected here; no request reaches the database.
    const { router } = merchantApi({
      knex: {} as Knex,
      logger: silentLogger,
      publicBaseUrl: 'https://pay.example.test',
      sessionTokenSecrets: ['s'.repeat(32)],
    });
    const served = router.stack.flatMap((layer) =>
      layer.methods
        .filter((method) => method !== 'HEAD')
        .map(
          (method) =>
            `${method} ${String(layer.path)
              .slice(MERCHANT_API_PREFIX.length)
              .replace(/:(\w+)/g, '{$1}')}`,
        ),
    );
    const documented = openApiChecker(document as never, { basePath: MERCHANT_API_PREFIX }).operations();
    expect(served.sort()).to.deep.equal(documented.sort());
  });

  it('is OpenAPI 3.1 whose schemas compile, with problem responses for every error status', () => {
    expect(document.openapi).to.equal('3.1.0');
    const checker = openApiChecker(document as never, { basePath: MERCHANT_API_PREFIX });
    // Compiles every documented body schema (a broken $ref or keyword throws) by checking a sample.
    expect(() =>
      checker.check(
        { method: 'POST', path: '/api/v2/deposit' },
        {
          status: 201,
          contentType: 'application/json',
          body: {
            transactionId: 'tx_1',
            merchantTransactionId: 'order-1',
            status: 'pending',
            hostedPaymentUrl: 'https://pay.example.test/pay/x',
            expiresAt: '2026-01-01T00:00:00.000Z',
          },
        },
      ),
    ).not.to.throw();
    expect(() =>
      checker.check(
        { method: 'POST', path: '/api/v2/deposit' },
        {
          status: 201,
          contentType: 'application/json',
          body: { transactionId: 'tx_1', status: 'PROCESSING' },
        },
      ),
    ).to.throw(/does not match/);
    for (const [path, item] of Object.entries(document.paths))
      for (const [method, operation] of Object.entries(item))
        for (const [status, response] of Object.entries(operation.responses))
          if (Number(status) >= 400)
            expect(JSON.stringify(response), `${method} ${path} ${status}`).to.contain(
              'application/problem+json',
            );
  });
});
