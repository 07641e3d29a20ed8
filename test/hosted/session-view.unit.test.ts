import { expect } from 'chai';
import { hostedView, type SessionSnapshot } from '../../gateway/hosted/session-view.js';
import { decideSubmission } from '../../gateway/hosted/submission.js';

const now = new Date('2026-11-24T12:00:00Z');
const FIELDS = [
  { name: 'email', kind: 'email', required: true, pattern: null, label: null },
  { name: 'country', kind: 'country', required: true, pattern: null, label: 'Country' },
];

function snapshot(overrides: Partial<SessionSnapshot> = {}): SessionSnapshot {
  return {
    sessionId: 'ses_1',
    transactionId: 'tx_1',
    merchantId: 'm_1',
    merchantName: 'Shop',
    amountMinor: 1000,
    currency: 'EUR',
    sessionState: 'loading',
    requiredFields: null,
    redirectUrl: null,
    expiresAt: new Date(now.getTime() + 60_000),
    customerDataSubmittedAt: null,
    transactionStatus: 'PROCESSING',
    returnUrls: { success: 'https://shop.example/ok', failure: 'https://shop.example/ko' },
    ...overrides,
  };
}

describe('hosted page: what the customer sees', () => {
  it('waits while the payment is being prepared', () => {
    expect(hostedView(snapshot(), now)).to.deep.equal({ state: 'loading', pollAfterMs: 1000 });
  });

  it('asks for the requested fields, rendered by kind', () => {
    const view = hostedView(
      snapshot({ sessionState: 'customer_data_required', requiredFields: FIELDS }),
      now,
    );
    expect(view.state).to.equal('form');
    expect(view.fields!.map((f) => [f.name, f.type, f.label, f.required])).to.deep.equal([
      ['email', 'email', 'Email', true],
      ['country', 'text', 'Country', true],
    ]);
    expect(view.fields![1]!.pattern).to.equal('[A-Za-z]{2}');
    expect(view.pollAfterMs).to.be.greaterThan(0);
  });

  it('keeps waiting (never shows a broken form) when the requested fields are malformed', () => {
    for (const requiredFields of [null, [], 'nope', [{ kind: 'text' }], [{ name: '<b>' }]]) {
      expect(
        hostedView(snapshot({ sessionState: 'customer_data_required', requiredFields }), now).state,
      ).to.equal('loading');
    }
  });

  it('redirects only to http(s) URLs', () => {
    const redirect = (redirectUrl: string) =>
      hostedView(snapshot({ sessionState: 'redirect_ready', redirectUrl }), now);
    expect(redirect('https://psp.example/3ds?id=1')).to.deep.equal({
      state: 'redirect',
      redirectUrl: 'https://psp.example/3ds?id=1',
      pollAfterMs: 0,
    });
    expect(redirect('javascript:alert(1)').state).to.equal('loading');
    expect(redirect('data:text/html,hi').state).to.equal('loading');
    expect(redirect('https://user:pw@psp.example/').state).to.equal('loading');
  });

  it('maps final transaction statuses to customer words with the way back to the merchant', () => {
    const view = (transactionStatus: string) => hostedView(snapshot({ transactionStatus }), now);
    expect(view('APPROVED')).to.deep.equal({
      state: 'completed',
      returnUrl: 'https://shop.example/ok',
      pollAfterMs: 0,
    });
    expect(view('DECLINED')).to.deep.equal({
      state: 'failed',
      returnUrl: 'https://shop.example/ko',
      pollAfterMs: 0,
    });
    expect(view('REJECTED').state).to.equal('failed');
    expect(view('EXPIRED')).to.deep.include({ state: 'expired', returnUrl: 'https://shop.example/ko' });
  });

  it('trusts the transaction over the clock: a payment approved after the link expired is complete', () => {
    const late = snapshot({ transactionStatus: 'APPROVED', expiresAt: new Date(now.getTime() - 1) });
    expect(hostedView(late, now).state).to.equal('completed');
    expect(hostedView(snapshot({ expiresAt: now }), now).state).to.equal('expired');
  });

  it('leaves out return links that are not http(s)', () => {
    const view = hostedView(
      snapshot({ transactionStatus: 'DECLINED', returnUrls: { failure: 'javascript:alert(1)' } }),
      now,
    );
    expect(view).to.deep.equal({ state: 'failed', pollAfterMs: 0 });
  });
});

describe('hosted page: customer-data submission decision', () => {
  const awaiting = snapshot({ sessionState: 'customer_data_required', requiredFields: FIELDS });

  it('accepts valid values, normalised', () => {
    expect(decideSubmission(awaiting, {}, { email: ' a@b.example ', country: 'de' }, now)).to.deep.equal({
      kind: 'accept',
      values: { email: 'a@b.example', country: 'DE' },
      fieldNames: ['email', 'country'],
    });
  });

  it('refuses invalid values with per-field codes', () => {
    expect(decideSubmission(awaiting, {}, { email: 'nope', other: 'x' }, now)).to.deep.equal({
      kind: 'invalid',
      errors: [
        { field: 'other', code: 'unknown_field' },
        { field: 'email', code: 'invalid_format' },
        { field: 'country', code: 'required' },
      ],
    });
  });

  it('treats the same values again after submitting as a no-op, other values as a conflict', () => {
    const submitted = snapshot({
      sessionState: 'loading',
      requiredFields: FIELDS,
      customerDataSubmittedAt: now,
    });
    const stored = { email: 'a@b.example', country: 'DE', merchant_field: 'kept' };
    expect(decideSubmission(submitted, stored, { email: 'a@b.example ', country: 'de' }, now).kind).to.equal(
      'unchanged',
    );
    expect(decideSubmission(submitted, stored, { email: 'c@d.example', country: 'DE' }, now).kind).to.equal(
      'not-awaiting',
    );
    expect(decideSubmission(snapshot(), stored, { email: 'a@b.example', country: 'DE' }, now).kind).to.equal(
      'not-awaiting',
    );
  });

  it('refuses submissions to finished or expired sessions', () => {
    expect(
      decideSubmission({ ...awaiting, transactionStatus: 'APPROVED' }, {}, { email: 'a@b.example' }, now)
        .kind,
    ).to.equal('closed');
    expect(
      decideSubmission({ ...awaiting, expiresAt: new Date(0) }, {}, { email: 'a@b.example' }, now).kind,
    ).to.equal('expired');
  });
});
