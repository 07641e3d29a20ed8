/**
 * Regression tests, at the level of the pure functions, for what the hostile-input suites found:
 * - a merchant URL with NUL or a lone surrogate passed validation and broke the deposit insert (500);
 * - a customer value with NUL or a lone surrogate passed an email/phone pattern and broke jsonb (500);
 * - IPv4-mapped and other IPv4-embedding IPv6 spellings of internal addresses counted as public (SSRF);
 * - Adyen items whose signed fields changed type kept their signature (a replay as another document);
 * - a provider-callback envelope with an unparseable receive time was retried instead of dead-lettered;
 * - a NUL in a merchant's webhook response body broke the attempt insert (re-sent, then dead-lettered);
 * - an error message quoting a poison message's NUL (or a truncation splitting an emoji) could not be
 *   put in the dead-letter headers or failed_events, so the poison was retried forever and stalled its key.
 */
import { hmacValidator as HmacValidator } from '@adyen/api-library';
import { expect } from 'chai';
import fc from 'fast-check';
import { deadLetterHeaders } from '../../core/broker/dead-letter.js';
import { isNonRetryable } from '../../core/errors.js';
import { storableText } from '../../core/storable-text.js';
import { validateCustomerValues } from '../../gateway/hosted/field-validation.js';
import { merchantUrlProblem } from '../../gateway/merchant/url-policy.js';
import { verifyAdyenSim } from '../../gateway/provider/adyen-sim.js';
import { decodeProviderCallback } from '../../gateway/provider/envelope.js';
import { storableExcerpt } from '../../webhook-dispatcher/http-delivery.js';
import { classifyAddress } from '../../webhook-dispatcher/ssrf-guard.js';
import { hostileString } from './support/hostile.js';

const UNSTORABLE = /[\p{Cc}\p{Cs}]/u;

describe('merchant URLs with unstorable characters', () => {
  it('are refused, wherever the character is', () => {
    for (const url of [
      'https://shop.example/ok\u0000',
      'https://shop.example/\ud800',
      'https://shop.example/a\r\nSet-Cookie: x=1',
      'https://shop.example/?q=\u0001',
    ]) {
      expect(merchantUrlProblem(url, { allowHttpLoopback: false }), JSON.stringify(url)).to.equal(
        'must not contain control characters',
      );
    }
    expect(merchantUrlProblem('https://shop.example/ok?x=é😀', { allowHttpLoopback: false })).to.equal(null);
  });

  it('never accepts a URL that cannot be stored as text', () => {
    fc.assert(
      fc.property(hostileString(20), (suffix) => {
        const url = `https://shop.example/${suffix}`;
        if (merchantUrlProblem(url, { allowHttpLoopback: false }) === null)
          expect(UNSTORABLE.test(url)).to.equal(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe('customer values with unstorable characters', () => {
  const kinds = [
    'text',
    'name',
    'email',
    'tel',
    'date',
    'country',
    'postal_code',
    'number',
    'address',
    'unknown-kind',
  ];

  it('are refused in every field kind, whatever its own pattern allows', () => {
    for (const [kind, value] of [
      ['email', 'ada\u0000@example.com'],
      ['email', 'ada\ud800@example.com'],
      ['tel', '+49151\u0000123456'],
      ['text', 'Ada\ud83d'],
    ] as const) {
      const check = validateCustomerValues(
        [{ name: 'f', kind, required: true, pattern: null, label: null }],
        { f: value },
      );
      expect(check, `${kind} ${JSON.stringify(value)}`).to.deep.equal({
        ok: false,
        errors: [{ field: 'f', code: 'invalid_format' }],
      });
    }
  });

  it('only ever accepts storable values', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...kinds),
        hostileString(30),
        fc.constantFrom('', 'ada@example.com', '+4915112345678'),
        (kind, hostile, plain) => {
          const check = validateCustomerValues(
            [{ name: 'f', kind, required: false, pattern: null, label: null }],
            { f: `${plain}${hostile}` },
          );
          if (check.ok)
            for (const value of Object.values(check.values))
              expect(UNSTORABLE.test(value), JSON.stringify(value)).to.equal(false);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('internal addresses in every IPv6 spelling', () => {
  it('classifies IPv4-embedding forms by the address they carry, or refuses them', () => {
    const cases: Array<[string, string]> = [
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:7f00:1', 'loopback'],
      ['0:0:0:0:0:ffff:7f00:1', 'loopback'],
      ['::ffff:169.254.169.254', 'metadata'],
      ['::ffff:a9fe:a9fe', 'metadata'],
      ['::ffff:10.1.2.3', 'private'],
      ['::ffff:c0a8:101', 'private'],
      ['::ffff:8.8.8.8', 'public'],
      ['::7f00:1', 'reserved'], // IPv4-compatible (deprecated)
      ['::ffff:0:7f00:1', 'reserved'], // IPv4-translated
      ['64:ff9b::a9fe:a9fe', 'reserved'], // NAT64
      ['2002:a9fe:a9fe::1', 'reserved'], // 6to4
      ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'], // Teredo
      ['fd00:ec2::254', 'metadata'],
      ['fec0::1', 'private'], // site-local
      ['FE80::1', 'link-local'],
      ['fe80::1%eth0', 'link-local'],
      ['0:0:0:0:0:0:0:1', 'loopback'],
      ['::', 'reserved'],
      ['2606:4700:4700::1111', 'public'],
      ['192.0.2.1', 'reserved'],
      ['198.51.100.7', 'reserved'],
      ['203.0.113.9', 'reserved'],
    ];
    for (const [address, expected] of cases) expect(classifyAddress(address), address).to.equal(expected);
  });

  it('gives an IPv4 address and its IPv4-mapped IPv6 spellings the same class', () => {
    fc.assert(
      fc.property(fc.ipV4(), (v4) => {
        const mapped = new URL(`https://[::ffff:${v4}]/`).hostname.slice(1, -1); // the URL parser's hex spelling
        expect(classifyAddress(`::ffff:${v4}`), v4).to.equal(classifyAddress(v4));
        expect(classifyAddress(mapped), mapped).to.equal(classifyAddress(v4));
      }),
      { numRuns: 2000 },
    );
  });

  it('classifies an IPv6 address the same however it is written', () => {
    fc.assert(
      fc.property(fc.ipV6(), (v6) => {
        const canonical = new URL(`https://[${v6}]/`).hostname.slice(1, -1);
        expect(classifyAddress(v6), `${v6} vs ${canonical}`).to.equal(classifyAddress(canonical));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('Adyen items whose signed fields change type', () => {
  const key = 'AA'.repeat(32);
  const lib = new HmacValidator();
  const item = {
    pspReference: '8815',
    merchantAccountCode: 'Shop',
    merchantReference: 'att_1',
    amount: { value: 1000, currency: 'EUR' },
    eventCode: 'AUTHORISATION',
    success: 'true',
  };
  const signed = { ...item, additionalData: { hmacSignature: lib.calculateHmac(item as never, key) } };
  const body = (i: unknown) =>
    Buffer.from(JSON.stringify({ notificationItems: [{ NotificationRequestItem: i }] }));

  it('are refused although the signing string, and so the signature, is unchanged', () => {
    expect(verifyAdyenSim(body(signed), {}, [key], new Date()).ok).to.equal(true);
    for (const altered of [
      { ...signed, success: true },
      { ...signed, originalReference: { value: 1 } },
      { ...signed, pspReference: 8815 },
      { ...signed, amount: { value: '1000', currency: 'EUR' } },
      { ...signed, eventCode: ['AUTHORISATION'] },
    ]) {
      const result = verifyAdyenSim(body(altered), {}, [key], new Date());
      expect(result, JSON.stringify(altered)).to.include({ ok: false, reason: 'bad-body' });
    }
  });
});

describe('provider-callback envelopes with an unparseable receive time', () => {
  it('are poison at once (non-retryable), not retried', () => {
    const envelope = {
      callbackId: 'cb_1',
      provider: 'stripe-sim',
      reference: null,
      receivedAt: 'yesterday',
      headers: {},
      bodyBase64: '',
    };
    let thrown: unknown;
    try {
      decodeProviderCallback(Buffer.from(JSON.stringify(envelope)));
    } catch (error) {
      thrown = error;
    }
    expect(isNonRetryable(thrown)).to.equal(true);
  });
});

describe("a merchant's webhook response body", () => {
  it('is kept as storable text: NUL and invalid UTF-8 become U+FFFD', () => {
    expect(storableExcerpt(Buffer.from([0x6f, 0x00, 0x6b, 0xff]))).to.equal('o\ufffdk\ufffd');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const excerpt = storableExcerpt(Buffer.from(bytes));
        expect(excerpt.includes('\u0000') || /\p{Cs}/u.test(excerpt), excerpt).to.equal(false);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('dead-letter metadata quoting a poison message', () => {
  const record = (errorMessage: string) => ({
    consumerGroup: 'processor',
    originalTopic: 'payments.provider-callbacks.v1',
    deadLetterTopic: 'payments.provider-callbacks.v1.dlq.processor',
    message: {
      topic: 'payments.provider-callbacks.v1',
      key: 'k',
      value: Buffer.from('x'),
      headers: {},
      messageId: '0:1',
      partition: 0,
      offset: '1',
      publishedAt: new Date(),
    },
    attempts: 1,
    errorClass: 'NonRetryableError',
    errorCode: 'UNKNOWN_PROVIDER',
    errorMessage,
    errorStack: null,
    firstFailureAt: new Date(),
    lastFailureAt: new Date(),
  });
  const storable = (headers: Record<string, string>) =>
    Object.values(headers).every((value) => !value.includes('\u0000') && !/\p{Cs}/u.test(value));

  it('is storable even when the message quotes NUL or a lone surrogate, or truncation splits an emoji', () => {
    expect(storable(deadLetterHeaders(record('no connector for provider "x\u0000y"')))).to.equal(true);
    expect(storable(deadLetterHeaders(record('bad \ud800 value')))).to.equal(true);
    expect(storable(deadLetterHeaders(record(`${'a'.repeat(998)}😀😀`)))).to.equal(true);
    fc.assert(
      fc.property(hostileString(40), fc.nat({ max: 1000 }), (hostile, pad) => {
        expect(storable(deadLetterHeaders(record(`${'p'.repeat(pad)}${hostile}`)))).to.equal(true);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps storable text as it is', () => {
    expect(storableText('plain é 😀 \u202e')).to.equal('plain é 😀 \u202e');
    expect(storableText('a\u0000b\udfffc')).to.equal('a\ufffdb\ufffdc');
  });
});
