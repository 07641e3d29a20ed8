import { expect } from 'chai';
import fc from 'fast-check';
import { decodeCursor, encodeCursor, parseSearchQuery } from '../../backoffice/search-query.js';
import type { TransactionRecord } from '../../backoffice/transaction-store.js';
import {
  merchantTransactionDetail,
  transactionSummary,
  webhookDeliveryView,
} from '../../backoffice/views.js';
import { TRANSACTION_STATUSES } from '../../core/transactions/status.js';

describe('back-office search query', () => {
  it('expands merchant statuses to the internal statuses behind them', () => {
    const parsed = parseSearchQuery({ status: 'pending,approved' }, { internalStatuses: false });
    expect(parsed.ok && parsed.query.statuses?.sort()).to.deep.equal(
      ['APPROVED', 'AWAITING_CUSTOMER_DATA', 'AWAITING_PROVIDER', 'CREATED', 'PROCESSING'].sort(),
    );
  });

  it('accepts internal statuses only when the caller may see them', () => {
    expect(parseSearchQuery({ status: 'AWAITING_PROVIDER' }, { internalStatuses: true }).ok).to.equal(true);
    const refused = parseSearchQuery({ status: 'AWAITING_PROVIDER' }, { internalStatuses: false });
    expect(refused.ok).to.equal(false);
    // The refusal does not list the internal statuses either.
    if (!refused.ok)
      for (const status of TRANSACTION_STATUSES.filter((s) => s !== 'AWAITING_PROVIDER'))
        expect(refused.errors[0]!.detail).not.to.include(status);
  });

  it('reports every invalid parameter at once', () => {
    const parsed = parseSearchQuery(
      { limit: '0', createdFrom: '2026-02-01', createdTo: '2026-01-01', transactionId: ['a', 'b'], x: '1' },
      { internalStatuses: false },
    );
    expect(parsed.ok).to.equal(false);
    if (!parsed.ok)
      expect(parsed.errors.map((e) => e.parameter).sort()).to.deep.equal([
        'createdTo',
        'limit',
        'transactionId',
        'x',
      ]);
  });

  it('round-trips cursors and refuses forged ones', () => {
    const cursor = { createdAt: '2026-01-10T12:00:00.123456Z', id: 'tx_1' };
    expect(decodeCursor(encodeCursor(cursor))).to.deep.equal(cursor);
    fc.assert(
      fc.property(fc.string(), (value) => {
        expect(() => decodeCursor(value)).not.to.throw();
      }),
    );
    expect(
      decodeCursor(Buffer.from(JSON.stringify(["1' or 1=1 --", 'tx_1'])).toString('base64url')),
    ).to.equal(null);
  });
});

describe('back-office views', () => {
  const record: TransactionRecord = {
    transactionId: 'tx_1',
    merchantId: 'm_1',
    merchantTransactionId: 'order-1',
    status: 'AWAITING_PROVIDER',
    statusReason: 'customer_redirected',
    amountMinor: 100,
    currency: 'EUR',
    paymentMethod: 'card',
    customerCountry: 'DE',
    webhookUrl: 'https://shop.example/hook?token=secret',
    createdAt: new Date('2026-01-01T00:00:00Z'),
    updatedAt: new Date('2026-01-01T00:01:00Z'),
    cursorTime: '2026-01-01T00:00:00.000000Z',
  };

  it('builds the merchant detail from allowed fields only, with the merchant status', () => {
    expect(merchantTransactionDetail(record)).to.deep.equal({
      view: 'merchant',
      transactionId: 'tx_1',
      merchantId: 'm_1',
      merchantTransactionId: 'order-1',
      status: 'pending',
      amount: { value: 100, currency: 'EUR' },
      paymentMethod: 'card',
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:01:00.000Z',
    });
    expect(transactionSummary(record, 'internal')).to.include({ internalStatus: 'AWAITING_PROVIDER' });
  });

  it('shows merchants only the Standard Webhooks request headers of an attempt, whatever else was sent', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1 }), fc.string()), (extra) => {
        const view = webhookDeliveryView(
          {
            webhookId: 'msg_1',
            transactionId: 'tx_1',
            webhookType: 'transaction.status_changed',
            url: 'https://shop.example/hook',
            state: 'delivered',
            attemptCount: 1,
            requestedAt: new Date(),
            nextAttemptAt: null,
            deliveredAt: new Date(),
            attempts: [
              {
                attemptNumber: 1,
                trigger: 'automatic',
                requestedBy: null,
                requestedByEmail: null,
                url: 'https://shop.example/hook',
                requestHeaders: { ...extra, 'webhook-id': 'msg_1' },
                responseStatus: 200,
                responseHeaders: {},
                responseBodyExcerpt: 'ok',
                errorClass: null,
                errorMessage: 'internal',
                durationMs: 3,
                startedAt: new Date(),
                finishedAt: new Date(),
              },
            ],
          },
          'merchant',
        );
        const [attempt] = view.attempts as Array<Record<string, unknown>>;
        for (const name of Object.keys(attempt!.requestHeaders as object))
          expect(['content-type', 'webhook-id', 'webhook-timestamp', 'webhook-signature']).to.include(
            name.toLowerCase(),
          );
        expect(view).not.to.have.property('url');
        expect(attempt).not.to.have.any.keys('url', 'errorMessage', 'responseHeaders', 'requestedBy');
      }),
    );
  });
});
