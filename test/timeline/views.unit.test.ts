import { expect } from 'chai';
import fc from 'fast-check';
import {
  MERCHANT_ENTRY_TYPES,
  MERCHANT_FIELDS,
  internalTimeline,
  merchantTimeline,
  type StoredTimelineEntry,
} from '../../core/timeline/index.js';
import { EVENT_TYPES } from '../../schemas/index.js';

/** Marks every value that must never reach a merchant; safe values never contain it. */
const SECRET = 'INTERNAL§';

const secretString = fc.string({ maxLength: 20 }).map((s) => `${SECRET}${s}`);
const secretValue = fc.oneof(
  secretString,
  fc.array(secretString, { minLength: 1, maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), secretString, { minKeys: 1, maxKeys: 3 }),
);
const safeScalar = fc.oneof(
  fc.string({ maxLength: 30 }).filter((s) => !s.includes(SECRET)),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
);
const internalKey = fc
  .string({ minLength: 1, maxLength: 12 })
  .filter((k) => !MERCHANT_FIELDS.has(k) && k !== '__proto__');

const entry = fc.record({
  id: fc.nat().map(String),
  entryType: fc.constantFrom(...EVENT_TYPES, 'SomethingNew'),
  occurredAt: fc.date({ min: new Date('2026-01-01'), max: new Date('2027-01-01'), noInvalidDate: true }),
  merchantView: fc.option(
    fc
      .tuple(
        fc.dictionary(fc.constantFrom(...MERCHANT_FIELDS), safeScalar, { maxKeys: 4 }),
        fc.dictionary(internalKey, secretValue, { maxKeys: 3 }),
        // Allowed names carrying unsafe shapes (nested objects, huge strings) are dropped too.
        fc.dictionary(
          fc.constantFrom(...MERCHANT_FIELDS),
          fc.oneof(
            fc.dictionary(fc.string(), secretString, { minKeys: 1 }),
            fc.constant(`${SECRET}${'x'.repeat(300)}`),
          ),
          { maxKeys: 2 },
        ),
      )
      .map(([safe, internal, unsafe]) => ({ ...unsafe, ...internal, ...safe })),
    { nil: null },
  ),
  internal: fc.dictionary(fc.string({ maxLength: 12 }), secretValue, { maxKeys: 5 }),
}) as fc.Arbitrary<StoredTimelineEntry>;

describe('timeline views', () => {
  it('never lets an internal value reach a merchant, for any timeline', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 25 }), (entries) => {
        const view = merchantTimeline(entries);
        expect(JSON.stringify(view)).not.to.contain(SECRET);
        for (const e of view) {
          expect(MERCHANT_ENTRY_TYPES.has(e.type)).to.equal(true);
          for (const key of Object.keys(e.details)) expect(MERCHANT_FIELDS.has(key)).to.equal(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('shows merchants exactly the merchant-visible entries, in time order, with their safe fields', () => {
    const at = (s: number) => new Date(Date.UTC(2026, 10, 25, 12, 0, s));
    const entries: StoredTimelineEntry[] = [
      {
        id: '3',
        entryType: 'TransactionStatusChanged',
        occurredAt: at(3),
        merchantView: { status: 'approved' },
        internal: { fromStatus: 'AWAITING_PROVIDER', toStatus: 'APPROVED' },
      },
      {
        id: '1',
        entryType: 'ProviderRequestFailed',
        occurredAt: at(1),
        merchantView: null,
        internal: { providerId: 'stripe-sim', subMidId: 'stripe-eu-1', failureKind: 'timeout' },
      },
      {
        id: '2',
        entryType: 'RoutingCompleted',
        occurredAt: at(2),
        merchantView: { message: 'routed' },
        internal: { candidates: [] },
      },
      {
        id: '0',
        entryType: 'DepositRequested',
        occurredAt: at(0),
        merchantView: { merchantTransactionId: 'order-1', amount: 1250, currency: 'EUR', raw: { x: 1 } },
        internal: {},
      },
    ];
    expect(merchantTimeline(entries)).to.deep.equal([
      {
        type: 'DepositRequested',
        occurredAt: at(0).toISOString(),
        details: { merchantTransactionId: 'order-1', amount: 1250, currency: 'EUR' },
      },
      { type: 'TransactionStatusChanged', occurredAt: at(3).toISOString(), details: { status: 'approved' } },
    ]);
    const internal = internalTimeline(entries);
    expect(internal.map((e) => e.type)).to.deep.equal([
      'DepositRequested',
      'ProviderRequestFailed',
      'RoutingCompleted',
      'TransactionStatusChanged',
    ]);
    expect(internal[1]).to.deep.include({ merchantVisible: false, internal: entries[1]!.internal });
    expect(internal[2]!.merchantVisible).to.equal(false);
  });
});
