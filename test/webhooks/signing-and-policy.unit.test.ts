import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import {
  nextRetry,
  parseRetryAfter,
  DEFAULT_WEBHOOK_SCHEDULE_MS,
} from '../../webhook-dispatcher/retry-schedule.js';
import {
  classifyAddress,
  resolveAllowedTarget,
  ForbiddenUrlError,
} from '../../webhook-dispatcher/ssrf-guard.js';
import { newWebhookSecret, signWebhook } from '../../webhook-dispatcher/signature.js';

describe('Standard Webhooks signing', () => {
  it('produces headers the stock standardwebhooks library verifies, with every active secret during rotation', () => {
    const oldSecret = newWebhookSecret(randomBytes);
    const newSecret = newWebhookSecret(randomBytes);
    const body = JSON.stringify({ type: 'transaction.status_changed', data: { status: 'SUCCEEDED' } });
    const headers = signWebhook({
      id: 'msg_1',
      timestamp: new Date(),
      body,
      secrets: [oldSecret, newSecret],
    });
    expect(headers['webhook-signature'].split(' ')).to.have.length(2);
    for (const secret of [oldSecret, newSecret]) {
      expect(new Webhook(secret).verify(body, { ...headers })).to.deep.equal(JSON.parse(body));
    }
    expect(() => new Webhook(newWebhookSecret(randomBytes)).verify(body, { ...headers })).to.throw();
    expect(() =>
      new Webhook(oldSecret).verify(body.replace('SUCCEEDED', 'FAILED'), { ...headers }),
    ).to.throw();
  });
});

describe('webhook retry schedule', () => {
  it('retries on the configured schedule with bounded jitter, then stops', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: DEFAULT_WEBHOOK_SCHEDULE_MS.length }),
        fc.double({ min: 0, max: 0.999, noNaN: true }),
        (attempt, r) => {
          const decision = nextRetry(DEFAULT_WEBHOOK_SCHEDULE_MS, attempt, { random: () => r });
          const base = DEFAULT_WEBHOOK_SCHEDULE_MS[attempt - 1]!;
          return decision.retry && decision.delayMs >= base * 0.8 - 1 && decision.delayMs <= base * 1.2 + 1;
        },
      ),
    );
    expect(nextRetry(DEFAULT_WEBHOOK_SCHEDULE_MS, DEFAULT_WEBHOOK_SCHEDULE_MS.length + 1)).to.deep.equal({
      retry: false,
      delayMs: 0,
    });
    expect(DEFAULT_WEBHOOK_SCHEDULE_MS.reduce((a, b) => a + b, 0)).to.be.greaterThan(24 * 3_600_000);
  });

  it('honours Retry-After within bounds', () => {
    expect(nextRetry([1_000], 1, { retryAfterMs: 60_000, random: () => 0.5 }).delayMs).to.equal(60_000);
    expect(
      nextRetry([1_000], 1, { retryAfterMs: 10 * 3_600_000, maxRetryAfterMs: 3_600_000, random: () => 0.5 })
        .delayMs,
    ).to.equal(3_600_000);
    const now = new Date('2026-11-24T12:00:00Z');
    expect(parseRetryAfter('120', now)).to.equal(120_000);
    expect(parseRetryAfter('Tue, 24 Nov 2026 12:01:00 GMT', now)).to.equal(60_000);
    expect(parseRetryAfter('soon', now)).to.equal(undefined);
  });
});

describe('SSRF guard', () => {
  const cases: Array<[string, string]> = [
    ['8.8.8.8', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['169.254.169.254', 'metadata'],
    ['169.254.1.1', 'link-local'],
    ['0.0.0.0', 'reserved'],
    ['224.0.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['fd12::1', 'private'],
    ['fe80::1', 'link-local'],
    ['fd00:ec2::254', 'metadata'],
    ['2606:4700::1111', 'public'],
  ];
  for (const [address, expected] of cases) {
    it(`classifies ${address} as ${expected}`, () => expect(classifyAddress(address)).to.equal(expected));
  }

  const publicOnly = { allowHttp: false, allowAddresses: [] } as const;
  const lookup = (answers: Record<string, string[]>) => async (host: string) =>
    (answers[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

  it('refuses hosts that resolve to any non-public address (DNS names pointing at loopback included)', async () => {
    const resolver = lookup({
      'evil.example': ['93.184.216.34', '127.0.0.1'],
      'ok.example': ['93.184.216.34'],
    });
    for (const url of [
      'https://evil.example/hook',
      'https://127.0.0.1/hook',
      'https://[::1]/hook',
      'https://169.254.169.254/latest',
      'http://ok.example/hook',
      'https://user:pw@ok.example/',
      'ftp://ok.example/',
    ]) {
      await resolveAllowedTarget(url, publicOnly, resolver).then(
        () => expect.fail(`${url} should be refused`),
        (error: unknown) => expect(error, url).to.be.instanceOf(ForbiddenUrlError),
      );
    }
    const target = await resolveAllowedTarget('https://ok.example/hook', publicOnly, resolver);
    expect(target.address).to.equal('93.184.216.34');
  });

  it('allows loopback only when configured (tests, local demo)', async () => {
    const target = await resolveAllowedTarget(
      'http://127.0.0.1:8080/hook',
      { allowHttp: true, allowAddresses: ['loopback'] },
      lookup({}),
    );
    expect(target.address).to.equal('127.0.0.1');
  });
});
