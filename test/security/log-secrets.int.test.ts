/**
 * No secrets and no card or customer data in the logs. The whole platform runs with its real logger
 * (winston JSON with redaction, as `npm start` builds it) at debug level, writing to a capture; a full
 * day in its life goes through it — deposits with customer data and card-like numbers in free-text
 * fields, the hosted form, the provider's checkout and signed callbacks, signed merchant webhooks, back-
 * office reads and a resend, and the failures (a wrong API key, a wrong back-office token, a forged
 * callback, a guessed payment link). Then the captured text is searched for every secret and customer
 * value involved, and for card-number-like digit runs.
 */
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { createBackofficeUser } from '../../backoffice/index.js';
import { createLogger } from '../../core/logger.js';
import { eventually } from '../support/eventually.js';
import { probe } from './support/http-probe.js';
import { settle } from './support/invariants.js';
import { startSecurityPlatform, type SecurityPlatform } from './support/security-platform.js';

/** 13 to 19 digits, plain or in groups of four split by spaces or dashes, passing the Luhn check: a card number. */
/**
 * Luhn-valid 13-19 digit runs standing alone (not inside a hex id or base64 token, where long digit
 * runs occur by chance: a 64-hex-character id holds 13 digits in a row about once in ten).
 */
export function panLikeRuns(text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(
    /(?<![0-9A-Za-z])(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{1,7})(?![0-9A-Za-z])/g,
  )) {
    const digits = match[0].replace(/[ -]/g, '');
    if (luhn(digits)) found.push(match[0]);
  }
  return found;
}

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

const sentinel = (prefix: string) => `${prefix}${randomBytes(12).toString('hex')}`;

const SECRETS_IN_ENV = {
  SESSION_TOKEN_SECRET: sentinel('session-secret-'),
  PROVIDER_STRIPESIM_WEBHOOK_SECRET: sentinel('whsec_'),
  PROVIDER_ADYENSIM_HMAC_KEY: randomBytes(32).toString('hex').toUpperCase(),
  PROVIDER_STRIPESIM_API_KEY: sentinel('sk_test_'),
  PROVIDER_ADYENSIM_API_KEY: sentinel('adyen-key-'),
};

const CUSTOMER = {
  email: 'ada.sentinel.7731@example.com',
  firstName: 'Zyxwvutsr',
  lastName: 'Qponmlkjih',
  phone: '+4915199988877',
  addressLine1: 'Sentinelstrasse 4242',
  addressLine2: '5500 0055 5555 5559', // a card number typed into a free-text field
  city: 'Gotham-Sentinel',
};
const FORM_VALUES = {
  email: 'form.sentinel.5521@example.com',
  phone: '+4915100011122',
  dateOfBirth: '1987-06-05',
};
const CARD_IN_METADATA = '4111111111111111';

describe('secrets and card data never reach the logs', function () {
  this.timeout(120_000);
  let t: SecurityPlatform;
  const lines: string[] = [];
  const secrets = new Map<string, string>();

  before(async function () {
    const capture = new Writable({
      write(chunk: Buffer | string, _encoding, callback) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        callback();
      },
    });
    const logger = createLogger({ level: 'debug', service: 'security-test', destination: capture });
    t = await startSecurityPlatform(this, 'pglite', SECRETS_IN_ENV, { logger });
    for (const [name, value] of Object.entries(SECRETS_IN_ENV)) secrets.set(name, value);
    secrets.set('merchant API key secret', t.merchant.apiKey.split('_').pop()!);
    secrets.set('merchant webhook secret', t.merchant.webhookSecret.replace(/^whsec_/, ''));
  });
  after(async () => t?.stop());

  const knex = () => t.platform.database.knex;
  const hostedState = async (url: string) =>
    (await (await fetch(`${url}/state`)).json()) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const waitFor = async (url: string, state: string) => {
    let last: Record<string, any> = {}; // eslint-disable-line @typescript-eslint/no-explicit-any
    await eventually(
      async () => (last = await hostedState(url)).state === state,
      30_000,
      `hosted state ${state}`,
    );
    return last;
  };
  const pay = async (checkoutUrl: string) =>
    expect(
      (
        await fetch(checkoutUrl, {
          method: 'POST',
          body: new URLSearchParams({ action: 'pay' }),
          redirect: 'manual',
        })
      ).status,
    ).to.equal(303);
  const deposit = async (amount: number, extra: Record<string, unknown>) => {
    const { status, body } = await t.deposit({
      merchantTransactionId: `logs-${randomBytes(6).toString('hex')}-a${amount}`,
      amount: { value: amount, currency: 'EUR' },
      paymentMethod: 'card',
      returnUrls: { success: 'https://shop.example/ok', failure: 'https://shop.example/failed' },
      ...extra,
    });
    expect(status, JSON.stringify(body)).to.equal(201);
    secrets.set(
      `session token of ${body.transactionId}`,
      new URL(body.hostedPaymentUrl).pathname.split('/')[2]!,
    );
    return body as { transactionId: string; hostedPaymentUrl: string };
  };

  it('runs a full day of payments, failures and support work with logging at debug', async () => {
    // A payment with customer data and a card number in the metadata, paid at the provider.
    const first = await deposit(1000, {
      customer: CUSTOMER,
      metadata: { card: CARD_IN_METADATA, note: '4111 1111 1111 1111' },
    });
    await pay((await waitFor(first.hostedPaymentUrl, 'redirect')).redirectUrl);
    // A payment whose provider asks the customer for details on the hosted form.
    const second = await deposit(1004, {});
    const form = await waitFor(second.hostedPaymentUrl, 'form');
    const values = Object.fromEntries(
      (form.fields as Array<{ name: string }>).map((f) => [
        f.name,
        FORM_VALUES[f.name as keyof typeof FORM_VALUES] ?? 'Sentinel Value',
      ]),
    );
    const submitted = await fetch(`${second.hostedPaymentUrl}/customer-data`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: new URL(t.url).origin },
      body: JSON.stringify({ values }),
    });
    expect(submitted.status, await submitted.clone().text()).to.equal(200);
    await pay((await waitFor(second.hostedPaymentUrl, 'redirect')).redirectUrl);
    for (const { transactionId } of [first, second]) {
      await eventually(
        async () => (await t.transaction(transactionId)).status === 'approved',
        30_000,
        'approved',
      );
      await eventually(
        () => t.receiver.received.some((w) => JSON.parse(w.body).transactionId === transactionId),
        30_000,
        'webhook',
      );
    }

    // Failures, each carrying a credential that must not be echoed into a log line.
    const wrongKey = `${t.merchant.apiKey.slice(0, -8)}${randomBytes(4).toString('hex')}`;
    secrets.set('a presented wrong API key', wrongKey.split('_').pop()!);
    expect(
      (
        await probe(t.url, {
          method: 'GET',
          path: '/api/v2/transactions?merchantTransactionId=x',
          headers: { authorization: `Bearer ${wrongKey}` },
        })
      ).status,
    ).to.equal(401);
    const support = await createBackofficeUser(knex(), {
      email: 'support@example.test',
      kind: 'platform',
      roles: ['support', 'ops'],
    });
    secrets.set('back-office token secret', support.token.split('_').pop()!);
    const wrongToken = `${support.token.slice(0, -8)}${randomBytes(4).toString('hex')}`;
    secrets.set('a presented wrong back-office token', wrongToken.split('_').pop()!);
    expect(
      (
        await probe(t.url, {
          method: 'GET',
          path: '/backoffice/api/v1/me',
          headers: { authorization: `Bearer ${wrongToken}` },
        })
      ).status,
    ).to.equal(401);
    const forged = `t=${Math.floor(Date.now() / 1000)},v1=${randomBytes(32).toString('hex')}`;
    expect(
      (
        await probe(t.url, {
          method: 'POST',
          path: '/callbacks/stripe-sim',
          headers: { 'content-type': 'application/json', 'stripe-signature': forged },
          body: '{"data":{"object":{"id":"pi_x"}}}',
        })
      ).status,
    ).to.equal(401);
    const guessed = randomBytes(32).toString('base64url');
    secrets.set('a guessed payment link token', guessed);
    await probe(t.url, { method: 'GET', path: `/pay/${guessed}/state` });

    // Support work: internal views (attempts with provider references, webhook request headers) and a resend.
    const auth = { authorization: `Bearer ${support.token}` };
    for (const path of ['', '/timeline', '/webhooks'])
      expect(
        (
          await probe(t.url, {
            method: 'GET',
            path: `/backoffice/api/v1/transactions/${first.transactionId}${path}`,
            headers: auth,
          })
        ).status,
      ).to.equal(200);
    const delivery = await knex()('webhook_deliveries')
      .where({ transaction_id: first.transactionId })
      .first('id');
    expect(
      (
        await probe(t.url, {
          method: 'POST',
          path: `/backoffice/api/v1/transactions/${first.transactionId}/webhooks/${delivery.id}/resend`,
          headers: auth,
        })
      ).status,
    ).to.equal(202);
    await eventually(
      () =>
        t.receiver.received.filter((w) => JSON.parse(w.body).transactionId === first.transactionId).length >=
        2,
      30_000,
      'the resent webhook',
    );
    await settle(knex());

    expect(lines.length, 'the capture received the platform logs').to.be.greaterThan(15);
    expect(
      lines.some((line) => JSON.parse(line).level === 'debug'),
      'debug lines were captured',
    ).to.equal(true);
  });

  it('holds none of the secrets, tokens or customer values involved', () => {
    const text = lines.join('\n');
    const leaked = [...secrets].filter(([, value]) => text.includes(value)).map(([name]) => name);
    expect(leaked, 'secrets found in the logs').to.deep.equal([]);
    const customerValues = [...Object.values(CUSTOMER), ...Object.values(FORM_VALUES), 'Sentinel Value'];
    const found = customerValues.filter(
      (value) => text.includes(value) || text.includes(JSON.stringify(value).slice(1, -1)),
    );
    expect(found, 'customer values found in the logs').to.deep.equal([]);
  });

  it('holds no card-number-like digit runs', async () => {
    // Adyen-style payment references are 16-digit numbers, some of which pass the Luhn check: the
    // providers' own references of these payments are ids, not cards.
    const references = new Set(
      (await knex()('payment_attempts')
        .whereNotNull('provider_reference')
        .pluck('provider_reference')) as string[],
    );
    const runs = panLikeRuns(lines.join('\n')).filter((run) => !references.has(run));
    expect(runs, 'Luhn-valid 13-19 digit runs in the logs').to.deep.equal([]);
    expect(panLikeRuns(`x ${CARD_IN_METADATA} y 4111-1111-1111-1111 z 1795614336941-1000`)).to.have.length(2); // the detector works
    expect(panLikeRuns('msg_ab6433003402655cd token_6433003402655x')).to.deep.equal([]); // ids are not cards
  });
});
