import { expect } from 'chai';
import { escapeHtml, formatAmount, renderNoticePage } from '../../gateway/hosted/page-html.js';
import { RateLimiter } from '../../gateway/hosted/rate-limiter.js';
import { isSameOriginRequest } from '../../gateway/hosted/same-origin.js';

describe('hosted page: request guards', () => {
  it('counts requests per key in fixed windows and says when to retry', () => {
    let now = 0;
    const limiter = new RateLimiter({ limit: 2, windowMs: 1000 }, { clock: () => now });
    expect(limiter.hit('a').allowed).to.equal(true);
    expect(limiter.hit('a').allowed).to.equal(true);
    expect(limiter.hit('a')).to.deep.equal({ allowed: false, retryAfterMs: 1000 });
    expect(limiter.hit('b').allowed, 'keys are independent').to.equal(true);
    now = 400;
    expect(limiter.hit('a')).to.deep.equal({ allowed: false, retryAfterMs: 600 });
    now = 1000;
    expect(limiter.hit('a').allowed, 'a new window').to.equal(true);
  });

  it('takes back a refunded request of the current window', () => {
    const limiter = new RateLimiter({ limit: 1, windowMs: 1000 }, { clock: () => 0 });
    expect(limiter.hit('a').allowed).to.equal(true);
    limiter.refund('a');
    expect(limiter.hit('a').allowed, 'the refunded request no longer counts').to.equal(true);
    expect(limiter.hit('a').allowed).to.equal(false);
    limiter.refund('unknown');
    expect(limiter.hit('unknown').allowed, 'refunding a key never seen changes nothing').to.equal(true);
  });

  it('keeps its memory bounded', () => {
    const limiter = new RateLimiter({ limit: 1, windowMs: 60_000 }, { maxKeys: 3, clock: () => 0 });
    for (const key of ['a', 'b', 'c', 'd']) limiter.hit(key);
    expect(limiter.hit('a').allowed, 'the oldest key was forgotten').to.equal(true);
    expect(limiter.hit('d').allowed, 'a recent key was kept').to.equal(false);
  });

  it('accepts submissions only from our own origin', () => {
    const allowed = ['https://pay.example', 'http://127.0.0.1:8080'];
    const check = (origin?: string, secFetchSite?: string) =>
      isSameOriginRequest({ origin, secFetchSite }, allowed);
    expect(check('https://pay.example')).to.equal(true);
    expect(check('http://127.0.0.1:8080')).to.equal(true);
    expect(check('https://evil.example')).to.equal(false);
    expect(check('https://pay.example.evil.example')).to.equal(false);
    expect(check('null')).to.equal(false);
    expect(check(undefined)).to.equal(false);
    expect(check(undefined, 'cross-site')).to.equal(false);
    expect(check(undefined, 'same-origin')).to.equal(true);
  });

  it('escapes everything it puts into HTML and formats amounts in the currency', () => {
    expect(escapeHtml(`<script>"&'`)).to.equal('&lt;script&gt;&quot;&amp;&#39;');
    const html = renderNoticePage(
      {
        title: 'Expired',
        message: 'x',
        summary: { merchantName: '<img src=x onerror=alert(1)>', amountMinor: 1234, currency: 'EUR' },
        returnUrl: 'https://shop.example/?a=1&b="2"',
      },
      { scriptPath: '/s.js', stylePath: '/s.css' },
    );
    expect(html).not.to.contain('<img');
    expect(html).to.contain('href="https://shop.example/?a=1&amp;b=&quot;2&quot;"');
    expect(html).not.to.contain('<script');
    expect(formatAmount(1234, 'EUR')).to.equal('€12.34');
    expect(formatAmount(1234, 'JPY')).to.equal('¥1,234');
    expect(formatAmount(5, 'XXX?')).to.equal('XXX? 5');
  });
});
