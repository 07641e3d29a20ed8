import { expect } from 'chai';
import { apiKeyId, apiKeyMatches, hashApiKey, mintApiKey } from '../../core/merchants/index.js';
import { newWebhookSecret } from '../../core/merchants/index.js';

describe('merchant API key format', () => {
  it('mints psk_live_<key id>_<secret> keys with a 32-byte secret and stores only the SHA-256', () => {
    const { keyId, apiKey, keyHash } = mintApiKey();
    expect(apiKey).to.match(/^psk_live_[0-9a-f]{16}_[0-9a-f]{64}$/);
    expect(apiKey.startsWith(`${keyId}_`)).to.equal(true);
    expect(keyHash).to.equal(hashApiKey(apiKey)).and.to.have.length(64);
    expect(keyHash).not.to.contain(apiKey.slice(keyId.length + 1));
    expect(mintApiKey().apiKey).not.to.equal(apiKey);
  });

  it('reads the public key id only from a well-formed key', () => {
    const { keyId, apiKey } = mintApiKey();
    expect(apiKeyId(apiKey)).to.equal(keyId);
    for (const bad of [
      '',
      'psk_live_',
      `${apiKey}0`,
      apiKey.toUpperCase(),
      `sk_live_${apiKey.slice(9)}`,
      ` ${apiKey}`,
    ])
      expect(apiKeyId(bad), bad).to.equal(null);
  });

  it('matches a key against its stored hash and nothing else', () => {
    const { apiKey, keyHash } = mintApiKey();
    expect(apiKeyMatches(apiKey, keyHash)).to.equal(true);
    const other = `${apiKey.slice(0, -1)}${apiKey.endsWith('0') ? '1' : '0'}`;
    expect(apiKeyMatches(other, keyHash)).to.equal(false);
    expect(apiKeyMatches(apiKey, 'not-hex')).to.equal(false);
  });

  it('makes Standard Webhooks secrets: whsec_ + base64 of 32 random bytes', () => {
    const secret = newWebhookSecret();
    expect(secret).to.match(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).to.have.length(32);
  });
});
