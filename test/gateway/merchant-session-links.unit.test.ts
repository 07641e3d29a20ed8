import { expect } from 'chai';
import { hashSessionToken, isWellFormedSessionToken } from '../../core/transactions/index.js';
import { SessionLinks } from '../../gateway/merchant/session-links.js';

describe('hosted payment links derived from a server secret', () => {
  const base = 'https://pay.example.test/';
  const oldSecret = 'o'.repeat(32);
  const newSecret = 'n'.repeat(32);

  it('gives the same link for a session every time, storing only the token hash', () => {
    const links = new SessionLinks([oldSecret], base);
    const hash = links.tokenHashFor('ps_1');
    const url = links.urlFor('ps_1', hash)!;
    const token = url.slice('https://pay.example.test/pay/'.length);
    expect(isWellFormedSessionToken(token)).to.equal(true);
    expect(hashSessionToken(token)).to.equal(hash);
    expect(new SessionLinks([oldSecret], base).urlFor('ps_1', hash)).to.equal(url);
    expect(links.tokenHashFor('ps_2')).not.to.equal(hash);
  });

  it('keeps old links reproducible during a secret rotation, and not after the old secret is gone', () => {
    const hash = new SessionLinks([oldSecret], base).tokenHashFor('ps_1');
    const url = new SessionLinks([oldSecret], base).urlFor('ps_1', hash);
    const rotating = new SessionLinks([newSecret, oldSecret], base);
    expect(rotating.urlFor('ps_1', hash)).to.equal(url);
    expect(rotating.tokenHashFor('ps_9')).to.equal(new SessionLinks([newSecret], base).tokenHashFor('ps_9'));
    expect(new SessionLinks([newSecret], base).urlFor('ps_1', hash)).to.equal(null);
  });
});
