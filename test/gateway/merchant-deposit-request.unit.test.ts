import { expect } from 'chai';
import { COUNTRY_CODES, CURRENCY_CODES, minorUnitExponent } from '../../core/reference-data/index.js';
import { canonicalJson, requestHash } from '../../gateway/merchant/canonical-json.js';
import { parseDepositRequest, type DepositRequestCheck } from '../../gateway/merchant/deposit-request.js';
import { merchantUrlProblem } from '../../gateway/merchant/url-policy.js';
import { validDeposit } from '../support/merchant-api.js';

const strict = { allowHttpLoopback: false };

function errorsOf(check: DepositRequestCheck): Record<string, string> {
  if (check.ok) throw new Error('expected validation errors');
  return Object.fromEntries(check.errors.map((e) => ['pointer' in e ? e.pointer : e.parameter, e.detail]));
}

describe('deposit request validation', () => {
  it('accepts a complete request and normalises only code case and null optionals', () => {
    const check = parseDepositRequest(
      validDeposit({
        amount: { value: 500, currency: 'jpy' },
        customer: { country: 'de', phone: '+4915112345678', dateOfBirth: '1990-02-28', city: null },
        webhookUrl: 'https://shop.example/hooks',
        metadata: { cart: '42', note: '' },
        returnUrls: {
          success: 'https://a.example/s',
          failure: 'https://a.example/f',
          cancel: 'https://a.example/c',
        },
      }),
      strict,
    );
    expect(check).to.deep.equal({
      ok: true,
      request: {
        merchantTransactionId: 'order-1001',
        amount: { value: 500, currency: 'JPY' },
        paymentMethod: 'card',
        customer: { country: 'DE', phone: '+4915112345678', dateOfBirth: '1990-02-28' },
        webhookUrl: 'https://shop.example/hooks',
        metadata: { cart: '42', note: '' },
        returnUrls: {
          success: 'https://a.example/s',
          failure: 'https://a.example/f',
          cancel: 'https://a.example/c',
        },
      },
    });
  });

  it('reports every invalid field at once, with a JSON pointer', () => {
    const errors = errorsOf(
      parseDepositRequest(
        {
          merchantTransactionId: 'order 1/2',
          amount: { value: 10.5, currency: 'XXX' },
          paymentMethod: 'cash',
          customer: { email: 'nope', country: 'XK', phone: '0151', dateOfBirth: '1990-02-30', nickname: 'x' },
          webhookUrl: 'http://shop.example/hooks',
          returnUrls: { success: 'ftp://x', failure: 'https://user:pw@shop.example/' },
          metadata: { 'bad key': 'x', ok: 7 },
          extra: true,
        },
        strict,
      ),
    );
    expect(errors).to.have.keys(
      '#/merchantTransactionId',
      '#/amount/value',
      '#/amount/currency',
      '#/paymentMethod',
      '#/customer/email',
      '#/customer/country',
      '#/customer/phone',
      '#/customer/dateOfBirth',
      '#/customer/nickname',
      '#/webhookUrl',
      '#/returnUrls/success',
      '#/returnUrls/failure',
      '#/metadata/bad key',
      '#/metadata/ok',
      '#/extra',
    );
    expect(errors['#/extra']).to.equal('is not a known field');
    expect(errors['#/webhookUrl']).to.equal('must use https');
  });

  it('requires the mandatory members and a JSON object', () => {
    expect(errorsOf(parseDepositRequest({}, strict))).to.deep.equal({
      '#/merchantTransactionId': 'is required',
      '#/amount': 'is required',
      '#/paymentMethod': 'is required',
      '#/returnUrls': 'is required',
    });
    expect(errorsOf(parseDepositRequest([], strict))).to.deep.equal({ '#': 'must be an object' });
    expect(errorsOf(parseDepositRequest(validDeposit({ amount: { value: 1 } }), strict))).to.deep.equal({
      '#/amount/currency': 'is required',
    });
  });

  it('bounds amounts, identifiers, strings and metadata', () => {
    const pointers = (body: Record<string, unknown>) =>
      Object.keys(errorsOf(parseDepositRequest(body, strict)));
    expect(pointers(validDeposit({ amount: { value: 0, currency: 'EUR' } }))).to.deep.equal([
      '#/amount/value',
    ]);
    expect(pointers(validDeposit({ amount: { value: 1e12, currency: 'EUR' } }))).to.deep.equal([
      '#/amount/value',
    ]);
    expect(pointers(validDeposit({ amount: { value: '100', currency: 'EUR' } }))).to.deep.equal([
      '#/amount/value',
    ]);
    expect(pointers(validDeposit({ merchantTransactionId: 'x'.repeat(65) }))).to.deep.equal([
      '#/merchantTransactionId',
    ]);
    expect(pointers(validDeposit({ merchantTransactionId: '' }))).to.deep.equal(['#/merchantTransactionId']);
    expect(pointers(validDeposit({ customer: { firstName: 'a'.repeat(101) } }))).to.deep.equal([
      '#/customer/firstName',
    ]);
    expect(pointers(validDeposit({ customer: { lastName: 'nul\u0000' } }))).to.deep.equal([
      '#/customer/lastName',
    ]);
    expect(pointers(validDeposit({ customer: { lastName: '   ' } }))).to.deep.equal(['#/customer/lastName']);
    const tooMany = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v']));
    expect(pointers(validDeposit({ metadata: tooMany }))).to.deep.equal(['#/metadata']);
    expect(pointers(validDeposit({ metadata: { nested: { a: 'b' } } }))).to.deep.equal(['#/metadata/nested']);
    expect(pointers(validDeposit({ metadata: { long: 'x'.repeat(501) } }))).to.deep.equal([
      '#/metadata/long',
    ]);
  });

  it('escapes pointer tokens and keeps __proto__ harmless', () => {
    const check = parseDepositRequest(JSON.parse('{"a/b~c":1,"__proto__":{"polluted":true}}'), strict);
    expect(errorsOf(check)).to.include.keys('#/a~1b~0c', '#/__proto__');
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
  });
});

describe('merchant URL policy', () => {
  it('takes https only, http on loopback only when allowed, never credentials', () => {
    expect(merchantUrlProblem('https://shop.example/hook?x=1', strict)).to.equal(null);
    expect(merchantUrlProblem('http://shop.example/hook', strict)).to.equal('must use https');
    expect(merchantUrlProblem('http://localhost:3000/hook', strict)).to.match(
      /MERCHANT_API_ALLOW_HTTP_LOOPBACK/,
    );
    const dev = { allowHttpLoopback: true };
    for (const url of ['http://localhost:3000/h', 'http://127.0.0.1/h', 'http://[::1]:8080/h'])
      expect(merchantUrlProblem(url, dev), url).to.equal(null);
    expect(merchantUrlProblem('http://10.0.0.1/h', dev)).to.equal('must use https');
    expect(merchantUrlProblem('https://u:p@shop.example/', dev)).to.equal('must not contain credentials');
    expect(merchantUrlProblem('/relative', dev)).to.equal('must be an absolute URL');
    expect(merchantUrlProblem(`https://shop.example/${'a'.repeat(2048)}`, dev)).to.match(/at most 2048/);
    expect(merchantUrlProblem('javascript:alert(1)', dev)).to.equal('must use https');
  });
});

describe('request hash', () => {
  it('ignores key order and changes with any content', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: 'x' } })).to.equal(
      '{"a":{"c":"x","d":[2,{"y":2,"z":1}]},"b":1}',
    );
    expect(requestHash({ a: 1, b: 2 })).to.equal(requestHash({ b: 2, a: 1 }));
    expect(requestHash({ a: 1, b: 2 })).not.to.equal(requestHash({ a: 1, b: 3 }));
  });
});

describe('reference data', () => {
  it('lists the 249 ISO 3166-1 alpha-2 countries, each one a region the runtime can name', () => {
    expect(COUNTRY_CODES).to.have.length(249);
    const names = new Intl.DisplayNames(['en'], { type: 'region' });
    for (const code of COUNTRY_CODES) expect(names.of(code), code).not.to.equal(code);
  });

  it('lists ISO 4217 currencies with their minor-unit exponents', () => {
    expect(CURRENCY_CODES).to.include.members(['EUR', 'USD', 'GBP', 'JPY', 'KWD', 'CHF']);
    expect(CURRENCY_CODES).not.to.include.members(['XXX', 'XTS', 'XAU', 'HRK']);
    expect([minorUnitExponent('EUR'), minorUnitExponent('JPY'), minorUnitExponent('KWD')]).to.deep.equal([
      2, 0, 3,
    ]);
    expect(() => minorUnitExponent('toString')).to.throw(/unknown currency/);
  });
});
